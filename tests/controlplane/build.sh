#!/usr/bin/env bash
# Builds the real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok), krew, krew's validate-krew-manifest and actionlint from Go modules, cached
# outside the repository by a key of everything that shapes the build. Prints the directory
# holding the binaries on its last line.
#   build.sh          build (or reuse) the binaries
#   build.sh update   regenerate the Go modules from versions.env (after changing a version)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache_root=${KUBE_RUNBOOKS_CACHE:-$HOME/.cache/kube-runbooks}
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

k8s_tools=(cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubectl)

update_modules() {
  (cd "$here/k8s"
   rm -f go.mod go.sum
   go mod init kube-runbooks/tests/controlplane/k8s >/dev/null 2>&1
   go mod edit -go=1.26.0
   local kmod
   kmod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
   # k8s.io/kubernetes requires its staging modules at v0.0.0; pin each to the release's tag.
   for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$kmod"); do
     go mod edit -replace="$m=$m@v0.${K8S_VERSION#1.}"
   done
   for t in "${k8s_tools[@]}"; do go get -tool "k8s.io/kubernetes/$t@v$K8S_VERSION"; done
   go mod tidy)
  (cd "$here/etcd"
   rm -f go.mod go.sum
   go mod init kube-runbooks/tests/controlplane/etcd >/dev/null 2>&1
   go mod edit -go=1.25.0
   go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
   go mod tidy)
}

cache_key() {
  { cat "$here/versions.env" "$here/build.sh" "$here"/stages/*.yaml "$here"/k8s/go.{mod,sum} "$here"/etcd/go.{mod,sum} "$here/etcd/main.go"
    go version; } | sha256sum | cut -c1-16
}

build_all() {
  local out="$cache_root/controlplane/$(cache_key)"
  if [ -x "$out/bin/kwok" ] && [ -f "$out/complete" ]; then echo "$out"; return; fi
  local tmp="$out.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp/bin" "$tmp/stages"
  local v="-X k8s.io/component-base/version"
  local c="-X k8s.io/client-go/pkg/version"
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}
  local stamp=""
  for p in "$v" "$c"; do
    stamp+=" $p.gitVersion=v$K8S_VERSION $p.gitMajor=1 $p.gitMinor=$minor $p.gitTreeState=clean"
    stamp+=" $p.buildDate=1970-01-01T00:00:00Z"
  done
  local start=$SECONDS
  echo "building kubernetes v$K8S_VERSION (apiserver, controller-manager, scheduler, kubectl)..." >&2
  (cd "$here/k8s" && go build -trimpath -tags selinux,notest -ldflags "-s -w $stamp" -o "$tmp/bin/" \
     $(printf 'k8s.io/kubernetes/%s ' "${k8s_tools[@]}"))
  echo "building etcd v$ETCD_VERSION..." >&2
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$tmp/bin/etcd" .)
  echo "building kwok v$KWOK_VERSION, krew v$KREW_VERSION and validate-krew-manifest..." >&2
  GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  for tool in krew validate-krew-manifest; do
    GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/krew/cmd/$tool@v$KREW_VERSION"
  done
  echo "building actionlint v$ACTIONLINT_VERSION (checks the release workflow)..." >&2
  GOBIN="$tmp/bin" go install -trimpath -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
  # Recent kwok ships no default stages: take the ones kwokctl loads from kwok's own module,
  # but our own pod-complete (a completed pod is no longer Ready, as the kubelet reports it).
  local stages
  stages="$(go env GOMODCACHE)/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage"
  for f in "$stages"/node/fast/node-initialize.yaml \
           "$stages"/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           "$stages"/pod/fast/pod-ready.yaml "$here"/stages/pod-complete.yaml \
           "$stages"/pod/fast/pod-delete.yaml; do
    { echo "---"; cat "$f"; } >> "$tmp/stages/default.yaml"
  done
  echo "built in $((SECONDS - start))s" >&2
  touch "$tmp/complete"
  rm -rf "$out"; mv "$tmp" "$out"
  echo "$out"
}

case "${1:-build}" in
  update) update_modules ;;
  build) build_all ;;
  *) echo "usage: build.sh [build|update]" >&2; exit 2 ;;
esac
