#!/usr/bin/env bash
# Prepare everything the VM test tier needs (see README.md in this folder).
# Idempotent, run as root. On a warm cache it only checks files and exits.
#
#   NICBACK_VM_CACHE    cache folder (default /var/cache/nicback-vm)
#   NICBACK_VM_REFRESH  =1: pick the newest kernels again even if cached
#
# Last stdout line: "assets ready <cache dir>". Progress goes to stderr.
set -euo pipefail

CACHE=${NICBACK_VM_CACHE:-/var/cache/nicback-vm}
export DEBIAN_FRONTEND=noninteractive
CACHE_FORMAT=1 # bump when the layout of a kernel's cache folder changes
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)

# Modules the initramfs loads, in three groups (dependencies are added
# automatically): the virtio PCI transport; the NIC drivers (loaded in the
# background, one after the other so ifindexes are the same on every boot:
# virtio_net's ens4 gets 2, e1000's ens3 gets 3, like kernel-facts.md); the
# 9p root and the overlay on top of it.
INITRD_CORE=(virtio_pci)
INITRD_NET=(virtio_net e1000 veth)
INITRD_FS=(9pnet_virtio 9p overlay)

log() { echo "assets: $*" >&2; }
die() { echo "assets: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ "$(uname -m)" = x86_64 ] || die "only x86_64 hosts are supported"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one run at a time (parallel vitest workers share the cache)

apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get "${APT_OPTS[@]}" -qq update >&2
    apt_updated=1
  fi
}

# ---------------------------------------------------------------- packages
ensure_packages() {
  local missing=()
  have() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; }
  have qemu-system-x86_64 || missing+=(qemu-system-x86)
  # The initramfs needs a statically linked busybox.
  if ! [ -x /bin/busybox ] || ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
    missing+=(busybox-static)
  fi
  have cpio || missing+=(cpio)
  have /lib/systemd/systemd-udevd || missing+=(udev)
  have udevadm || missing+=(udev)
  have dockerd || missing+=(docker.io)
  have runc || missing+=(runc)
  have podman || missing+=(podman) # the OCI hooks.d scenario (test/vm/oci.test.ts)
  have lxc-start || missing+=(lxc)
  have containerd || missing+=(containerd)
  have xz || missing+=(xz-utils)
  have zstd || missing+=(zstd) # 6.12's vmlinuz is zstd-compressed
  have modinfo || missing+=(kmod)
  have depmod || missing+=(kmod)
  have ethtool || missing+=(ethtool)
  have ip || missing+=(iproute2)
  have nsenter || missing+=(util-linux)
  have jq || missing+=(jq)
  have /usr/lib/cni/host-device || missing+=(containernetworking-plugins) # docs/movers.md
  have curl || missing+=(curl)
  have gzip || missing+=(gzip)
  # SR-IOV (test/vm/sriov.test.ts) needs qemu's igb (Intel 82576 with VFs):
  # qemu 10 from bookworm-backports; Debian 12's own qemu 7.2 lacks it.
  if ! qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'; then
    log "installing qemu-system-x86 from bookworm-backports (for igb)"
    ensure_backports_source
    apt_update
    apt-get "${APT_OPTS[@]}" -qq install -y --no-install-recommends -t bookworm-backports qemu-system-x86 >&2
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    # shellcheck disable=SC2207
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    log "installing ${missing[*]}"
    apt_update
    apt-get "${APT_OPTS[@]}" -qq install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

# ---------------------------------------------------------------- kernels
# newest package whose name matches the extended regex $1 in apt's lists
newest_pkg() {
  apt-cache search --names-only "$1" | awk '{print $1}' | { grep -E "$1" || true; } | sort -V | tail -n1
}

ensure_backports_source() {
  local f=/etc/apt/sources.list.d/nicback-backports.sources
  [ -e "$f" ] && return 0
  # another file may name it already (shared/peers/sriov-cni/build.sh adds one)
  grep -rqs '^Suites:.*bookworm-backports' /etc/apt/sources.list.d/ && return 0
  local uris keyring
  uris=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  keyring=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  : "${uris:=http://deb.debian.org/debian}"
  : "${keyring:=/usr/share/keyrings/debian-archive-keyring.gpg}"
  log "adding bookworm-backports in $f"
  cat >"$f" <<EOF
Types: deb
URIs: $uris
Suites: bookworm-backports
Components: main
Signed-By: $keyring
EOF
  apt_updated=0
}

# pick_package KERNEL: sets $pkg to the package to download (no subshell,
# so that apt-get update runs at most once)
pick_package() {
  local k=$1 re
  case $k in
    6.1) re='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
    # bookworm-security carries linux-6.12 (+deb12); bookworm-backports has
    # it as +bpo. Either is the same Debian 6.12 kernel.
    6.12) re='^linux-image-6\.12\.[0-9]+\+(deb12|bpo)-amd64-unsigned$' ;;
    *) die "unknown kernel $k" ;;
  esac
  pkg=$(newest_pkg "$re")
  if [ -z "$pkg" ]; then
    apt_update
    pkg=$(newest_pkg "$re")
  fi
  if [ -z "$pkg" ] && [ "$k" = 6.12 ]; then
    ensure_backports_source
    apt_update
    pkg=$(newest_pkg "$re")
  fi
  [ -n "$pkg" ] || die "no package for kernel $k found with apt-cache (regex $re)"
}

kernel_ready() {
  local d=$CACHE/$1
  [ -s "$d/kernel.json" ] || return 1
  [ "$(jq -r .format "$d/kernel.json")" = "$CACHE_FORMAT" ] || return 1
  local f
  for f in $(jq -r '.vmlinuz, .modules' "$d/kernel.json"); do [ -e "$f" ] || return 1; done
}

# extract_vmlinux BZIMAGE OUT: the ELF inside a bzImage, if it has a PVH
# entry note (CONFIG_PVH, set in Debian's kernels). Like the kernel's
# scripts/extract-vmlinux: try each compressed-stream magic in turn.
extract_vmlinux() {
  local img=$1 out=$2 magic cmd off
  for magic in '\xfd7zXZ\x00|xz -dcq' '\x28\xb5\x2f\xfd|zstd -dcq' '\x1f\x8b\x08|gzip -dcq'; do
    cmd=${magic#*|}
    magic=${magic%%|*}
    command -v "${cmd%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1 | head -n5); do
      tail -c "+$((off + 1))" "$img" | $cmd >"$out" 2>/dev/null || true
      [ "$(head -c4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
      # XEN_ELFNOTE_PHYS32_ENTRY (18) is the PVH entry point
      command -v readelf >/dev/null || return 0
      readelf -n "$out" 2>/dev/null | grep -q 'Xen.*(0x00000012)' && return 0
      break
    done
  done
  rm -f "$out"
  return 1
}

ensure_kernel() {
  local k=$1 d=$CACHE/$1
  if [ "${NICBACK_VM_REFRESH:-0}" != 1 ] && kernel_ready "$k"; then return 0; fi
  local pkg
  pick_package "$k"
  if kernel_ready "$k" && [ "$(jq -r .package "$d/kernel.json")" = "$pkg" ]; then return 0; fi
  log "kernel $k: downloading $pkg"
  local dl=$CACHE/dl
  rm -rf "$dl" "$d.new"
  mkdir -p "$dl" "$d.new"
  chown _apt "$dl" 2>/dev/null || true # lets apt download sandboxed
  if ! (cd "$dl" && apt-get "${APT_OPTS[@]}" -qq download "$pkg" >&2); then
    # stale package lists name a version the mirror no longer has
    [ "$apt_updated" = 0 ] || die "cannot download $pkg"
    apt_update
    pick_package "$k"
    log "kernel $k: downloading $pkg"
    (cd "$dl" && apt-get "${APT_OPTS[@]}" -qq download "$pkg" >&2) || die "cannot download $pkg"
  fi
  local deb
  deb=$(ls "$dl"/*.deb)
  log "kernel $k: extracting $(basename "$deb")"
  dpkg -x "$deb" "$d.new/root"
  local pkgver
  pkgver=$(dpkg-deb -f "$deb" Version)
  rm -rf "$dl"

  local moddir ver vmlinuz
  moddir=$(ls -d "$d.new"/root/lib/modules/*/ "$d.new"/root/usr/lib/modules/*/ 2>/dev/null | head -n1 || true)
  [ -n "$moddir" ] || die "no modules folder in $pkg"
  moddir=${moddir%/}
  ver=$(basename "$moddir")
  vmlinuz=$d.new/root/boot/vmlinuz-$ver
  [ -e "$vmlinuz" ] || die "no $vmlinuz in $pkg"
  # modules.dep etc. so that modprobe works inside the guest and here
  log "kernel $k: depmod $ver"
  depmod -b "$d.new/root" "$ver" 2>/dev/null ||
    depmod -b "$d.new/root/usr" "$ver"

  # The uncompressed ELF kernel boots through PVH: no real-mode setup and no
  # in-guest decompression, which under emulation saves ~2.5 s per boot.
  log "kernel $k: extracting vmlinux"
  extract_vmlinux "$vmlinuz" "$d.new/vmlinux" || log "kernel $k: no vmlinux (will boot the bzImage)"

  rm -rf "$d"
  mv "$d.new" "$d"
  moddir=${moddir/#"$d.new"/"$d"}
  vmlinuz=${vmlinuz/#"$d.new"/"$d"}
  local vmlinux=
  [ -s "$d/vmlinux" ] && vmlinux=$d/vmlinux
  jq -n --arg kernel "$k" --arg version "$ver" --arg package "$pkg" --arg packageVersion "$pkgver" \
    --arg vmlinuz "$vmlinuz" --arg vmlinux "$vmlinux" --arg modules "$moddir" \
    --arg initramfs "$d/initramfs.cpio.gz" \
    --argjson format "$CACHE_FORMAT" \
    '{format: $format, kernel: $kernel, version: $version, package: $package, packageVersion: $packageVersion,
      vmlinuz: $vmlinuz, vmlinux: (if $vmlinux == "" then null else $vmlinux end),
      modules: $modules, initramfs: $initramfs}' >"$d/kernel.json.tmp"
  mv "$d/kernel.json.tmp" "$d/kernel.json"
  rm -f "$d/initramfs.cpio.gz" "$d/initramfs.stamp"
}

# ---------------------------------------------------------------- initramfs
# add_module NAME GROUP: copy NAME and what it needs (uncompressed: busybox
# insmod reads plain .ko only) into the staging folder $s, appending to the
# load list of GROUP. Uses $base, $ver, $s, $seen of ensure_initramfs.
add_module() {
  local deps line path name
  deps=$(modprobe -d "$base" -S "$ver" --show-depends "$1") ||
    die "module $1 not found for $ver"
  while read -r line; do
    case $line in
      insmod\ *)
        path=$(awk '{print $2}' <<<"$line")
        name=$(basename "$path")
        name=${name%%.ko*}
        case $seen in *" $name "*) continue ;; esac
        seen+="$name "
        case $path in
          *.ko.xz) xz -dc "$path" >"$s/modules/$name.ko" ;;
          *.ko.zst) zstd -qdc "$path" >"$s/modules/$name.ko" ;;
          *.ko.gz) gzip -dc "$path" >"$s/modules/$name.ko" ;;
          *.ko) cp "$path" "$s/modules/$name.ko" ;;
          *) die "unexpected module file $path" ;;
        esac
        echo "$name" >>"$s/modules/$2"
        ;;
      builtin\ *) ;;
      *) [ -z "$line" ] || log "modprobe: $line" ;;
    esac
  done <<<"$deps"
}

ensure_initramfs() {
  local k=$1 d=$CACHE/$1
  local ver moddir out stamp
  ver=$(jq -r .version "$d/kernel.json")
  moddir=$(jq -r .modules "$d/kernel.json")
  out=$d/initramfs.cpio.gz
  # rebuilt whenever this script, the busybox binary or the kernel changes
  stamp="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16) $(stat -c %s.%Y /bin/busybox) $ver"
  if [ -s "$out" ] && [ "$(cat "$d/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  log "kernel $k: building initramfs"

  local base=${moddir%/lib/modules/*} # .../root or .../root/usr
  local s=$d/initramfs.staging
  rm -rf "$s"
  mkdir -p "$s"/{bin,dev,proc,sys,newroot,lower,rw,modules}
  cp /bin/busybox "$s/bin/busybox"
  ln -s busybox "$s/bin/sh"

  # dependency order from modprobe (depmod ran above); builtins are skipped
  local seen=" " group m
  for group in core net fs; do
    local -n mods=INITRD_${group^^}
    : >"$s/modules/$group"
    for m in "${mods[@]}"; do
      add_module "$m" "$group"
    done
  done
  sed "s|@VERSION@|$ver|" >"$s/init" <<'INIT'
#!/bin/sh
# nicback VM initramfs (generated by test/vm/assets.sh; kernel @VERSION@)
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t devtmpfs dev /dev
busybox --install -s /bin
fail() { echo "initramfs: $*"; echo "initramfs: powering off"; sleep 1; poweroff -f; }
guest_init= debug=
for a in $(cat /proc/cmdline); do
  case $a in
    nicback.init=*) guest_init=${a#nicback.init=} ;;
    nicback.debug=1) debug=1 ;;
  esac
done
step() { [ -z "$debug" ] || echo "initramfs: $(cut -d' ' -f1 /proc/uptime) $*"; }
load() { # load GROUP
  for m in $(cat "/modules/$1"); do
    insmod "/modules/$m.ko" || echo "initramfs: insmod $m failed"
    step "loaded $m"
  done
}
step "loading modules"
load core
# NIC drivers load in the background (each e1000 probe takes ~0.4 s under
# emulation) while the root is mounted and guest-init starts; guest-init
# waits for every PCI NIC's netdev. They run from a tmpfs of their own,
# which switch_root leaves alone (it empties the initramfs).
mkdir -p /nic
mount -t tmpfs -o size=32m tmpfs /nic
cp /bin/busybox /nic/busybox
for m in $(cat /modules/net); do cp "/modules/$m.ko" /nic/; done
(
  for m in $(cat /modules/net); do
    /nic/busybox insmod "/nic/$m.ko" || echo "initramfs: insmod $m failed"
  done
  [ -z "$debug" ] || echo "initramfs: NIC drivers loaded"
) &
load fs
step "mounting"
[ -n "$guest_init" ] || fail "no nicback.init= on the kernel command line"
# the machine's own / read-only, a tmpfs overlay on top, the out share inside
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose root /lower ||
  fail "cannot mount the root share"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "cannot mount the overlay"
mkdir -p /newroot/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/out ||
  fail "cannot mount the out share"
step "mounted"
[ -f "/newroot$guest_init" ] || fail "no $guest_init in the shared root"
step "switch_root to $guest_init"
umount /dev /proc
exec switch_root /newroot /bin/bash "$guest_init"
INIT
  chmod 755 "$s/init"
  (cd "$s" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1 >"$out.tmp")
  mv "$out.tmp" "$out"
  echo "$stamp" >"$d/initramfs.stamp"
  rm -rf "$s"
}

# ---------------------------------------------------------------- sriov-cni
# The real sriov-cni plugin, both builds (test/vm/scenarios/sriov-cni.sh),
# built offline from the sources in ../shared/peers beside the checkout;
# after the packages, so that its apt-get (Go from bookworm-backports) never
# waits on ours.
ensure_sriov_cni() {
  local build
  build=$(cd "$(dirname "$0")/../../.." && pwd)/shared/peers/sriov-cni/build.sh
  [ -f "$build" ] || die "no $build: the VM tier needs ../shared beside the checkout (shared/peers/sriov-cni)"
  SRIOV_CNI_OUT=/var/cache/sriov-cni bash "$build" >&2 || die "building sriov-cni failed"
}

ensure_packages
ensure_sriov_cni
for k in 6.1 6.12; do
  ensure_kernel "$k"
  ensure_initramfs "$k"
done
echo "assets ready $CACHE"
