#!/usr/bin/env bash
# Builds what krew installs: one archive per plugin and platform (the binary, its
# kubectl_complete-<plugin> entry and LICENSE), and the krew manifests that point at them.
#   release.sh version                     the suite's version (the workspace version)
#   release.sh build [TARGET]              cargo build --release (for TARGET, default this machine),
#                                          then package
#   release.sh package TARGET BIN_DIR      archive the plugin binaries found in BIN_DIR for TARGET
#   release.sh manifests [URI_BASE [INDEX]]
#                                          write INDEX/plugins/<plugin>.yaml from krew/templates for
#                                          every platform of krew/targets, with each archive's sha256;
#                                          INDEX defaults to the repository root (the krew index),
#                                          URI_BASE to the GitHub release of this version
# Archives are written to and read from $DIST_DIR (default: dist/ at the repository root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dist=${DIST_DIR:-$root/dist}
releases=https://github.com/kube-runbooks/kube-runbooks/releases/download
version=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml")

die() { echo "release.sh: $*" >&2; exit 1; }

plugins() { for template in "$here"/templates/*.yaml; do basename "$template" .yaml; done; }

# kubectl finds `kubectl why-pending` as kubectl-why_pending.
underscored() { echo "${1//-/_}"; }

is_windows() { [[ $1 == *-windows-* ]]; }

archive_name() { # PLUGIN TARGET
  local extension=tar.gz
  if is_windows "$2"; then extension=zip; fi
  echo "kubectl-$1-v$version-$2.$extension"
}

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

build() { # [TARGET]
  local target_dir=${CARGO_TARGET_DIR:-$root/target}
  if [ -n "${1:-}" ]; then
    cargo_build --target "$1"
    package "$1" "$target_dir/$1/release"
  else
    cargo_build
    package "$("${RUSTC:-rustc}" -vV | sed -n 's/^host: //p')" "$target_dir/release"
  fi
}

cargo_build() { # CARGO_FLAG...
  local packages=() plugin
  for plugin in $(plugins); do packages+=(-p "kubectl-$plugin"); done
  (cd "$root" && "${CARGO:-cargo}" build --release --locked --bins "${packages[@]}" "$@")
}

package() { # TARGET BIN_DIR
  local target=$1 bin_dir=$2 exe="" plugin bin complete stage archive
  if is_windows "$target"; then exe=.exe; fi
  mkdir -p "$dist"
  for plugin in $(plugins); do
    bin=kubectl-$(underscored "$plugin")$exe
    complete=kubectl_complete-$(underscored "$plugin")
    [ -f "$bin_dir/$bin" ] || die "$bin_dir/$bin is missing: build $target first"
    stage=$(mktemp -d)
    cp "$bin_dir/$bin" "$root/LICENSE" "$stage/"
    archive=$dist/$(archive_name "$plugin" "$target")
    rm -f "$archive"
    if is_windows "$target"; then
      complete+=.cmd
      printf '@%s __complete %%*\r\n' "$bin" >"$stage/$complete"
      zip_files "$archive" "$stage" "$bin" "$complete" LICENSE
    else
      # shellcheck disable=SC2016 # "$@" belongs to the script written, not to this one
      printf '#!/bin/sh\nexec %s __complete "$@"\n' "$bin" >"$stage/$complete"
      chmod 755 "$stage/$complete"
      COPYFILE_DISABLE=1 tar -C "$stage" -czf "$archive" "$bin" "$complete" LICENSE
    fi
    rm -rf "$stage"
    echo "$archive"
  done
}

zip_files() { # ARCHIVE DIR FILE...
  local archive=$1 dir=$2
  shift 2
  if command -v zip >/dev/null; then
    (cd "$dir" && zip -q -X "$archive" "$@")
  else
    (cd "$dir" && 7z a -tzip -bd "$archive" "$@" >/dev/null)
  fi
}

platforms() { # PLUGIN URI_BASE: the manifest's spec.platforms items
  local target os arch archive bin
  while read -r target os arch; do
    archive=$(archive_name "$1" "$target")
    [ -f "$dist/$archive" ] ||
      die "$dist/$archive is missing: every platform of krew/targets must be built first"
    bin=kubectl-$(underscored "$1")
    if [ "$os" = windows ]; then bin+=.exe; fi
    printf '  - selector:\n      matchLabels:\n        os: %s\n        arch: %s\n' "$os" "$arch"
    printf '    uri: %s\n    sha256: %s\n    bin: %s\n' "$2/$archive" "$(sha256 "$dist/$archive")" "$bin"
  done < <(grep -v -e '^#' -e '^[[:space:]]*$' "$here/targets")
}

manifests() { # [URI_BASE [INDEX]]
  local uri_base=${1:-$releases/v$version} index=${2:-$root} plugin items
  mkdir -p "$index/plugins"
  for plugin in $(plugins); do
    items=$(platforms "$plugin" "$uri_base")
    sed "s/{{VERSION}}/$version/g" "$here/templates/$plugin.yaml" |
      ITEMS=$items awk '$0 == "{{PLATFORMS}}" { print ENVIRON["ITEMS"]; next } { print }' \
        >"$index/plugins/$plugin.yaml"
    echo "$index/plugins/$plugin.yaml"
  done
}

case "${1:-}" in
  version) echo "$version" ;;
  build) build "${2:-}" ;;
  package) [ $# -eq 3 ] || die "usage: release.sh package TARGET BIN_DIR"; package "$2" "$3" ;;
  manifests) manifests "${2:-}" "${3:-}" ;;
  *) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
