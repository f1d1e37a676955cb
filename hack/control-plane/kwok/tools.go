//go:build tools

// Package tools pins the kwok controller that hack/control-plane/build.sh compiles (the `kwok` binary only:
// kwokctl, which creates whole clusters, is not needed).
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
