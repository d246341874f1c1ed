#!/bin/sh
# The netns tier again, with nicback run by Debian 12's own node 18 (the
# oldest node the Debian package depends on; issue 12): vitest itself needs
# node 20, so it stays the runner and NBT_NODE is what runs nicback.
set -e
cache=$(bash deploy/debian/node18.sh | sed -n 's/^node18 ready //p')
[ -x "$cache/node18" ] || { echo "on-node18: deploy/debian/node18.sh gave no node 18" >&2; exit 1; }
NBT_NODE="$cache/node18" exec npx vitest run --project netns "$@"
