#!/bin/sh
# Builds the nicback container image without any image registry: the root
# filesystem comes from Debian's own archive (mmdebstrap), the bundle from
# dist/ (npm run build), and `docker import` turns the tarball into an image.
# Debian 12's nodejs is 18 (18.20.4 today); the bundle is built for node 18
# (scripts/build.mjs) and the package tier runs it there (test/pkg/nodes.test.ts).
#
#   deploy/image/build-offline.sh [--tag TAG] [--dist DIR] [--refresh]
#   deploy/image/build-offline.sh --tar-only OUT [--dist DIR] [--refresh]
#
#   --tag TAG       the image to make (default nicback:offline)
#   --tar-only OUT  stop after writing the image's root filesystem (Debian +
#                   the bundle) to the tarball OUT: no docker needed, import it
#                   elsewhere with the two --change lines printed at the end
#   --dist DIR      the bundle (default: dist/ of this checkout)
#   --refresh       build the Debian root filesystem again even if cached
#
# Needs root (mmdebstrap, apt-get) and deb.debian.org. The Debian root
# filesystem is cached in $NICBACK_IMAGE_CACHE (default
# /var/cache/nicback-image/) under a key made of everything that decides its
# contents (suite, architecture, package list, mirrors, apt and dpkg
# options, hook), so a second run only adds the bundle (about a second);
# --refresh picks up Debian's security updates. Root filesystems under other
# keys are removed when a new one is built. Running it again gives the same
# result: every output is written to a temporary name and renamed into place.
set -eu

SUITE=bookworm
# iproute2: ip; util-linux: flock, nsenter; udev: udevadm (the watch agent's
# event source); nodejs: Debian 12's node 18; ca-certificates: TLS roots for
# anything that ever fetches (nicback itself does not).
PACKAGES=iproute2,util-linux,udev,nodejs,ca-certificates
MIRRORS="deb http://deb.debian.org/debian $SUITE main
deb http://deb.debian.org/debian $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main"
# Depends only (Recommends would add nodejs-doc).
APT_OPT='Apt::Install-Recommends "false"'
# Merged /usr by symlinks, as debootstrap does: otherwise bookworm's
# init-system-helpers pulls in usrmerge, and usrmerge perl (about 60 MB).
HOOK_DIR=/usr/share/mmdebstrap/hooks/merged-usr
# No documentation in an image nobody reads man pages in, and no hardware
# database (udevadm hwdb.bin, 13 MB: nicback needs no device descriptions).
DPKG_OPTS="path-exclude=/usr/lib/udev/hwdb.d/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*"
ENTRYPOINT='ENTRYPOINT ["/usr/bin/nicback"]'
CMD='CMD ["watch"]'

die() { echo "build-offline: $*" >&2; exit 1; }
say() { echo "build-offline: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tag=nicback:offline
tar_only=
dist=$repo/dist
refresh=
while [ $# -gt 0 ]; do
  case $1 in
    --tag) [ $# -ge 2 ] || die "--tag needs a value"; tag=$2; shift 2 ;;
    --tar-only) [ $# -ge 2 ] || die "--tar-only needs an output path"; tar_only=$2; shift 2 ;;
    --dist) [ $# -ge 2 ] || die "--dist needs a directory"; dist=$2; shift 2 ;;
    --refresh) refresh=1; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap builds the root filesystem as root)"
[ -f "$dist/nicback.mjs" ] && [ -f "$dist/nicback-udev.cjs" ] && [ -d "$dist/chunks" ] \
  || die "no bundle in $dist: run npm run build first"
if [ -z "$tar_only" ]; then
  command -v docker >/dev/null || die "docker is missing: use --tar-only OUT and import the tarball where docker runs"
  docker version >/dev/null 2>&1 || die "docker cannot reach its daemon: use --tar-only OUT and import the tarball where docker runs"
fi

# ---------------------------------------------------------------- mmdebstrap
if ! command -v mmdebstrap >/dev/null; then
  say "installing mmdebstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 -qq install -y --no-install-recommends mmdebstrap >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=900 -qq update >/dev/null \
         && apt-get -o DPkg::Lock::Timeout=900 -qq install -y --no-install-recommends mmdebstrap >/dev/null; } \
    || die "cannot install mmdebstrap"
fi

# ------------------------------------------------------ the Debian root, cached
arch=$(dpkg --print-architecture)
cache=${NICBACK_IMAGE_CACHE:-/var/cache/nicback-image}
key=$(printf '%s\n' "$SUITE" "$arch" minbase "$PACKAGES" "$MIRRORS" "$APT_OPT" "$HOOK_DIR" "$DPKG_OPTS" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$SUITE-$arch-$key.tar
[ -d "$HOOK_DIR" ] || die "$HOOK_DIR is missing (mmdebstrap's merged-usr hook)"
mkdir -p "$cache"
chmod 0755 "$cache"
if [ -n "$refresh" ] || [ ! -s "$rootfs" ]; then
  say "building the Debian $SUITE root filesystem ($PACKAGES) into $rootfs"
  set -- --variant=minbase --architectures="$arch" --include="$PACKAGES" --format=tar --aptopt="$APT_OPT" --hook-dir="$HOOK_DIR"
  # one --dpkgopt per line of DPKG_OPTS (split on newlines, no globbing)
  old_ifs=$IFS
  IFS='
'
  set -f
  for o in $DPKG_OPTS; do set -- "$@" "--dpkgopt=$o"; done
  set +f
  IFS=$old_ifs
  tmp=$rootfs.tmp.$$
  trap 'rm -f "$tmp"' EXIT
  # stdout is this script's result (the tag, or the import command)
  mmdebstrap --quiet "$@" "$SUITE" "$tmp" "$MIRRORS" >&2
  mv -f "$tmp" "$rootfs"
  trap - EXIT
  # root filesystems of earlier package lists or options: not used again
  for old in "$cache"/rootfs-*.tar; do [ "$old" = "$rootfs" ] || rm -f "$old"; done
else
  say "using the cached root filesystem $rootfs (--refresh to build it again)"
fi

# --------------------------------------------------------- the bundle, a layer
stage=$(mktemp -d)
out_tmp=
cleanup() { rm -rf "$stage"; [ -z "$out_tmp" ] || rm -f "$out_tmp"; }
trap cleanup EXIT
mkdir -p "$stage/usr/lib/nicback" "$stage/usr/bin"
# the bundle as scripts/package.mjs puts it in the Debian package; no .deb
for f in "$dist"/*.mjs "$dist"/*.cjs; do cp "$f" "$stage/usr/lib/nicback/"; done
for d in chunks udev hooks; do [ ! -d "$dist/$d" ] || cp -R "$dist/$d" "$stage/usr/lib/nicback/"; done
find "$stage/usr/lib/nicback" -type d -exec chmod 0755 {} +
find "$stage/usr/lib/nicback" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/lib/nicback/nicback.mjs"
[ ! -f "$stage/usr/lib/nicback/nicback-runtime.mjs" ] || chmod 0755 "$stage/usr/lib/nicback/nicback-runtime.mjs"
printf '#!/bin/sh\n# nicback(8) in the nicback image (deploy/image/build-offline.sh).\nexec /usr/bin/node /usr/lib/nicback/nicback.mjs "$@"\n' >"$stage/usr/bin/nicback"
chmod 0755 "$stage/usr/bin/nicback"

if [ -n "$tar_only" ]; then out=$tar_only; else out=$stage.image.tar; fi
out_tmp=$out.tmp.$$
cp "$rootfs" "$out_tmp"
# mmdebstrap names entries ./usr/...; the same here, owned by root.
tar --append --file="$out_tmp" --directory="$stage" --owner=0 --group=0 --numeric-owner \
  --sort=name --mtime=@0 ./usr/lib/nicback ./usr/bin/nicback
mv -f "$out_tmp" "$out"
out_tmp=

if [ -n "$tar_only" ]; then
  say "wrote $out ($(du -h "$out" | cut -f1)); import it with:"
  echo "docker import --change '$ENTRYPOINT' --change '$CMD' $out $tag"
  exit 0
fi
docker import --change "$ENTRYPOINT" --change "$CMD" "$out" "$tag" >/dev/null
rm -f "$out"
say "tagged $tag"
echo "$tag"
