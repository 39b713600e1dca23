#!/usr/bin/env bash
# For a machine whose Go is missing or too old to switch toolchains by itself (before 1.21):
# fetches the Go release that the control plane's go.mod asks for as a module through the Go
# module proxy, as GOTOOLCHAIN does, using whatever Go there is (Debian's if none). Prints the
# directory to put first on PATH on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$here/k8s/go.mod")
dest=${KUBE_RUNBOOKS_CACHE:-$HOME/.cache/kube-runbooks}/go$version
if [ ! -x "$dest/bin/go" ]; then
  if ! command -v go >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq golang-go >/dev/null
  fi
  module="golang.org/toolchain@v0.0.1-go$version.linux-$(go env GOARCH)"
  echo "fetching Go $version ($module) through the module proxy..." >&2
  dir=$(go mod download -json "$module" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  # The module cache is read-only and a module zip keeps no executable bits.
  rm -rf "$dest.tmp"
  mkdir -p "$(dirname "$dest")"
  cp -r "$dir" "$dest.tmp"
  chmod -R u+w "$dest.tmp"
  chmod +x "$dest.tmp"/bin/* "$dest.tmp"/pkg/tool/*/*
  mv "$dest.tmp" "$dest"
fi
echo "$dest/bin"
