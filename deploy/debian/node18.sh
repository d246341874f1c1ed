#!/usr/bin/env bash
# Debian 12's own node 18 (packages nodejs 18.x, libnode108 and the libraries
# and shared builtins they need that this machine lacks), fetched with
# `apt-get download` and unpacked into a cache, never installed: the machine
# keeps its node 20. Used to check that the package's bundle runs on the node
# a fresh Debian 12 gets with `apt-get install nodejs`:
#   - `$CACHE/node18 ARGS...` runs node 18 here (a private mount namespace
#     overlays its /usr/share/nodejs builtins on /usr/share; as root);
#   - `$CACHE/debs/*.deb` are installed with dpkg -i inside the VM guest
#     (test/vm/scenarios/package.sh), downgrading the guest's node to 18.
# Idempotent, run as root. Last stdout line: "node18 ready <cache dir>".
#   NICBACK_NODE18_CACHE  cache folder (default /var/cache/nicback-node18)
set -euo pipefail
CACHE=${NICBACK_NODE18_CACHE:-/var/cache/nicback-node18}
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)
log() { echo "node18: $*" >&2; }
die() { echo "node18: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9

if [ -x "$CACHE/node18" ] && [ -s "$CACHE/version" ] && "$CACHE/node18" -e 0 2>/dev/null; then
  echo "node18 ready $CACHE"
  exit 0
fi

# Debian's nodejs 18 (bookworm and bookworm-security): the newest 18.x version
# apt knows, whatever node this machine runs.
newest18() { apt-cache madison nodejs | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -E '^18\.' | sort -V | tail -n1; }
ver=$(newest18)
if [ -z "$ver" ]; then
  log "apt-get update"
  apt-get "${APT_OPTS[@]}" -qq update >&2
  ver=$(newest18)
fi
[ -n "$ver" ] || die "apt knows no nodejs 18.x (Debian 12 sources missing?)"
# What `apt-get install nodejs=VER` would install here (a simulation, -s:
# nothing changes), i.e. node 18 and what this machine lacks for it.
mapfile -t pkgs < <(apt-get -s -qq install --no-install-recommends --allow-downgrades "nodejs=$ver" 2>/dev/null |
  awk '/^Inst / {print $2}')
[ "${#pkgs[@]}" -gt 0 ] || die "apt-get cannot install nodejs=$ver here"
pkgs=("${pkgs[@]/#nodejs/nodejs=$ver}")
pkgs=("${pkgs[@]/#libnode108/libnode108=$ver}")
log "downloading ${pkgs[*]}"
rm -rf "$CACHE/debs" "$CACHE/root"
mkdir -p "$CACHE/debs" "$CACHE/root"
chown _apt "$CACHE/debs" 2>/dev/null || true
(cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" -qq download "${pkgs[@]}" >&2) || die "cannot download ${pkgs[*]}"
for d in "$CACHE"/debs/*.deb; do dpkg -x "$d" "$CACHE/root"; done
R=$CACHE/root
cat >"$CACHE/node18" <<WRAP
#!/bin/sh
# Debian 12's node $ver, unpacked in $R (deploy/debian/node18.sh).
exec unshare -m sh -c 'mount -t overlay nicback-node18 -o lowerdir=$R/usr/share:/usr/share /usr/share && LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu exec $R/usr/bin/node "\$@"' node18 "\$@"
WRAP
chmod 755 "$CACHE/node18"
"$CACHE/node18" -e 0 || die "the unpacked node 18 does not run"
echo "$ver" >"$CACHE/version"
echo "node18 ready $CACHE"
