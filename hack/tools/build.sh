#!/usr/bin/env bash
# Builds the pinned render tools (helm, kustomize) from the Go module proxy with `go install` (neither module has
# replace directives) and caches them outside the repository, keyed by version; never downloads a release page.
# Prints the directory that holds them on its last line of stdout. The Dockerfile installs the same versions.
#
#   TACK_TOOLS_BIN=DIR    use ready binaries from DIR; nothing is built
#   TACK_BUILD_CACHE_DIR=DIR  cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/tack); Tack's lookup of helm and
#                         kustomize (src/render/tools.ts) searches it too. TACK_CACHE_DIR is read in its place when it
#                         is unset, as before; that name now means only the controller's own cache (--cache-dir).
#   --only NAME[,NAME]    build only these tools (default: helm,kustomize)
#   --print-versions      print NAME=VERSION lines and exit (read by the Dockerfile snippet and test/support/tools.ts)
set -euo pipefail

# Pinned versions: bump here (and in the Dockerfile's ARGs).
helm_version=v3.22.0
kustomize_version=v5.8.2   # v5.8.3 needs Go 1.27

all_tools=(helm kustomize)
wanted=("${all_tools[@]}")
case "${1:-}" in
  --only) IFS=, read -r -a wanted <<<"${2:?--only needs a comma-separated list}" ;;
  --print-versions) printf 'helm=%s\nkustomize=%s\n' "$helm_version" "$kustomize_version"; exit 0 ;;
esac

log() { printf '[tools] %s\n' "$*" >&2; }

if [[ -n "${TACK_TOOLS_BIN:-}" ]]; then
  for t in "${wanted[@]}"; do
    [[ -x "$TACK_TOOLS_BIN/$t" ]] || { log "TACK_TOOLS_BIN=$TACK_TOOLS_BIN has no executable $t"; exit 1; }
  done
  echo "$TACK_TOOLS_BIN"
  exit 0
fi

if [[ -z "${TACK_BUILD_CACHE_DIR:-}" && -n "${TACK_CACHE_DIR:-}" ]]; then
  log "TACK_CACHE_DIR as the build cache is deprecated: set TACK_BUILD_CACHE_DIR=$TACK_CACHE_DIR instead"
fi
cache_root=${TACK_BUILD_CACHE_DIR:-${TACK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tack}}
out="$cache_root/tools/helm-$helm_version-kustomize-$kustomize_version"
mkdir -p "$out"

# Each tool is also cached on its own (tools/<name>-<version>/) so that bumping one does not rebuild the other;
# the combined directory links to those.
tool_dir() { echo "$cache_root/tools/$1-$2"; }
version_of() { case "$1" in helm) echo "$helm_version" ;; kustomize) echo "$kustomize_version" ;; esac; }
module_of() {
  case "$1" in
    helm) echo "helm.sh/helm/v3/cmd/helm" ;;
    kustomize) echo "sigs.k8s.io/kustomize/kustomize/v5" ;;
  esac
}

link_in() {
  local t=$1 src
  src="$(tool_dir "$t" "$(version_of "$t")")/$t"
  [[ -x "$src" ]] || return 1
  ln -f "$src" "$out/$t" 2>/dev/null || { cp -p "$src" "$out/.$t.partial.$$" && mv "$out/.$t.partial.$$" "$out/$t"; }
}

missing=()
for t in "${wanted[@]}"; do
  [[ -n "$(version_of "$t")" ]] || { log "unknown tool $t (known: ${all_tools[*]})"; exit 1; }
  [[ -x "$out/$t" ]] || link_in "$t" || missing+=("$t")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "${wanted[*]}: cached in $out"
  echo "$out"
  exit 0
fi

command -v go >/dev/null || { log "go is not on PATH: install Go or set TACK_TOOLS_BIN to a directory with helm and kustomize"; exit 1; }

# Test files run in parallel processes: on a cold cache one builds while the others wait.
if command -v flock >/dev/null; then
  exec 9>"$out/.build.lock"
  flock -n 9 || { log "another build into $out is running: waiting for it"; flock 9; }
fi

build_one() {
  local t=$1 version dir pkg start=$SECONDS
  version=$(version_of "$t")
  dir=$(tool_dir "$t" "$version")
  pkg=$(module_of "$t")
  if link_in "$t"; then log "$t: cached in $dir"; return; fi
  mkdir -p "$dir"
  log "$t: building $pkg@$version (a cold build takes a few minutes on 2 cores)"
  local tmp="$dir/.partial.$$"
  mkdir -p "$tmp"
  # helm's version string comes from ldflags, as its Makefile stamps it; kustomize reads its module version.
  local ldflags="-s -w"
  if [[ $t == helm ]]; then
    # As helm's Makefile: the default Kubernetes version of `helm template` (used when no --kube-version is
    # given) is one above the minor of the client-go it is built with.
    local gomod client_go major minor
    gomod=$(GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$version" | awk -F'"' '$2 == "GoMod" { print $4 }')
    client_go=$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")
    major=$(cut -d. -f1 <<<"${client_go#v}") minor=$(cut -d. -f2 <<<"$client_go")
    major=$((major + 1))
    ldflags+=" -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    for vpkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
      ldflags+=" -X $vpkg.k8sVersionMajor=$major -X $vpkg.k8sVersionMinor=$minor"
    done
  fi
  (GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -v -trimpath -ldflags "$ldflags" "$pkg@$version" 2>&1) |
    awk -v n="$t" '/^go: downloading|[ :]/ { print; next } { c++; if (c % 50 == 0) printf "[tools] %s: %d packages compiled\n", n, c; fflush() }' >&2
  [[ ${PIPESTATUS[0]} -eq 0 && -x "$tmp/$t" ]] || { rm -rf "$tmp"; log "$t: build failed"; exit 1; }
  mv "$tmp/$t" "$dir/$t"
  rm -rf "$tmp"
  link_in "$t"
  log "$t: built in $((SECONDS - start)) s"
}

for t in "${missing[@]}"; do build_one "$t"; done
echo "$out"
