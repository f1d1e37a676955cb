#!/usr/bin/env bash
# Builds the local control plane's binaries (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, and
# kwok, which simulates nodes and their pods) from the Go module proxy through the wrapper modules beside this
# script, and caches them outside the repository, keyed by version. Prints the directory that holds them on its
# last line of stdout.
#
#   TACK_CONTROL_PLANE_BIN=DIR   use ready binaries from DIR (as envtest's KUBEBUILDER_ASSETS); nothing is built
#   TACK_BUILD_CACHE_DIR=DIR     cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tack). TACK_CACHE_DIR is read in
#                                its place when it is unset, as before; that name now means only the controller's own
#                                cache (--cache-dir).
#   --only NAME[,NAME]           build only these binaries (default: all five)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
wanted=("${all_binaries[@]}")
if [[ "${1:-}" == "--only" ]]; then
  IFS=, read -r -a wanted <<<"${2:?--only needs a comma-separated list}"
fi

log() { printf '[control-plane] %s\n' "$*" >&2; }

if [[ -n "${TACK_CONTROL_PLANE_BIN:-}" ]]; then
  for b in "${wanted[@]}"; do
    [[ -x "$TACK_CONTROL_PLANE_BIN/$b" ]] || { log "TACK_CONTROL_PLANE_BIN=$TACK_CONTROL_PLANE_BIN has no executable $b"; exit 1; }
  done
  echo "$TACK_CONTROL_PLANE_BIN"
  exit 0
fi

module_version() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { print $NF; exit }' "$1"; }
k8s_version=$(module_version "$here/kubernetes/go.mod" k8s.io/kubernetes)
etcd_version=$(module_version "$here/etcd/go.mod" go.etcd.io/etcd/server/v3)
kwok_version=$(module_version "$here/kwok/go.mod" sigs.k8s.io/kwok)
[[ -n "$k8s_version" && -n "$etcd_version" && -n "$kwok_version" ]] || {
  log "cannot read versions from the wrapper go.mod files"
  exit 1
}

if [[ -z "${TACK_BUILD_CACHE_DIR:-}" && -n "${TACK_CACHE_DIR:-}" ]]; then
  log "TACK_CACHE_DIR as the build cache is deprecated: set TACK_BUILD_CACHE_DIR=$TACK_CACHE_DIR instead"
fi
cache_root=${TACK_BUILD_CACHE_DIR:-${TACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tack}}
out="$cache_root/control-plane/kubernetes-$k8s_version-etcd-$etcd_version-kwok-$kwok_version"
mkdir -p "$out"

# The version a binary is built from, as it appears in the cache directory's name.
version_of() {
  case "$1" in
    etcd) echo "$etcd_version" ;;
    kwok) echo "$kwok_version" ;;
    *) echo "$k8s_version" ;;
  esac
}

# A bump of one component names a new cache directory, but the other binaries need not be rebuilt (a cold
# kube-apiserver takes many minutes): take them from a sibling directory (kubernetes-K-etcd-E[-kwok-W]) whose name
# carries the same version of their component. Hard links (no copy) when the filesystem allows.
adopt() {
  local b=$1 want dir name k e w have
  want=$(version_of "$b")
  for dir in "$cache_root"/control-plane/kubernetes-*-etcd-*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [[ "$dir" != "$out" && -x "$dir/$b" && "$name" =~ ^kubernetes-(.+)-etcd-(.+)$ ]] || continue
    k=${BASH_REMATCH[1]} e=${BASH_REMATCH[2]} w=
    if [[ "$e" == *-kwok-* ]]; then w=${e#*-kwok-} e=${e%%-kwok-*}; fi
    case "$b" in etcd) have=$e ;; kwok) have=$w ;; *) have=$k ;; esac
    [[ "$have" == "$want" ]] || continue
    ln -f "$dir/$b" "$out/$b" 2>/dev/null || { cp -p "$dir/$b" "$out/.$b.partial.$$" && mv "$out/.$b.partial.$$" "$out/$b"; }
    log "$b: $want taken from $dir"
    return 0
  done
  return 1
}

missing=()
for b in "${wanted[@]}"; do [[ -x "$out/$b" ]] || adopt "$b" || missing+=("$b"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  # The common case (every test process asks): answer without needing Go on the machine.
  log "${wanted[*]}: cached in $out"
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH: install Go 1.26 or set TACK_CONTROL_PLANE_BIN to ready binaries"; exit 1; }

# Test files run in parallel processes: on a cold cache, one builds while the others wait and then find the
# binaries cached (two kube-apiserver builds at once on 2 cores would each take twice as long).
if command -v flock >/dev/null; then
  exec 9>"$out/.build.lock"
  flock -n 9 || { log "another build into $out is running: waiting for it"; flock 9; }
fi

# go build -v names each package as it compiles it; a running count is the progress shown.
# -buildvcs=false: the wrapper modules live inside the project's repository, whose VCS state says nothing about
# these binaries (and, before the first commit, makes go print errors).
build_one() {
  local name=$1 dir=$2 pkg=$3 ldflags=$4
  if [[ -x "$out/$name" ]]; then log "$name: cached in $out"; return; fi
  log "$name: building $pkg (a cold build takes several minutes on 2 cores)"
  local tmp="$out/.$name.partial.$$" start=$SECONDS
  (cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -v -trimpath -buildvcs=false -ldflags "$ldflags" -o "$tmp" "$pkg" 2>&1) |
    awk -v n="$name" '/^(go: downloading|#)/ { print; next } { c++; if (c % 100 == 0) printf "[control-plane] %s: %d packages compiled\n", n, c; fflush() }' >&2
  [[ ${PIPESTATUS[0]} -eq 0 && -x "$tmp" ]] || { rm -f "$tmp"; log "$name: build failed"; exit 1; }
  mv "$tmp" "$out/$name"
  log "$name: built in $((SECONDS - start)) s"
}

k8s_minor=$(cut -d. -f2 <<<"$k8s_version")
# client-go carries its own copy of the version, used in the User-Agent of the apiserver's loopback requests (as
# Kubernetes' own hack/lib/version.sh stamps both).
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=wrapper"
kwok_ldflags="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version#v}"

for b in "${wanted[@]}"; do
  case "$b" in
    etcd) build_one etcd "$here/etcd" . "$etcd_ldflags" ;;
    kube-apiserver|kube-controller-manager|kube-scheduler)
      build_one "$b" "$here/kubernetes" "k8s.io/kubernetes/cmd/$b" "$k8s_ldflags" ;;
    kwok) build_one kwok "$here/kwok" sigs.k8s.io/kwok/cmd/kwok "$kwok_ldflags" ;;
    *) log "unknown binary $b (known: ${all_binaries[*]})"; exit 1 ;;
  esac
done
echo "$out"
