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
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)

# Modules the initramfs loads (their dependencies are added automatically):
# 9p root over virtio, overlay on top, the emulated NICs, veth for scenarios.
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_net e1000 veth)

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
  have containerd || missing+=(containerd)
  have xz || missing+=(xz-utils)
  have modinfo || missing+=(kmod)
  have depmod || missing+=(kmod)
  have ethtool || missing+=(ethtool)
  have ip || missing+=(iproute2)
  have nsenter || missing+=(util-linux)
  have jq || missing+=(jq)
  have gzip || missing+=(gzip)
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
  apt-cache search --names-only "$1" | awk '{print $1}' | grep -E "$1" | sort -V | tail -n1
}

ensure_backports_source() {
  local f=/etc/apt/sources.list.d/nicback-backports.sources
  [ -e "$f" ] && return 0
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

# pick_package KERNEL -> prints the package name to download
pick_package() {
  local k=$1 re pkg
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
  echo "$pkg"
}

kernel_ready() {
  local d=$CACHE/$1
  [ -s "$d/kernel.json" ] || return 1
  local f
  for f in $(jq -r '.vmlinuz, .modules' "$d/kernel.json"); do [ -e "$f" ] || return 1; done
}

ensure_kernel() {
  local k=$1 d=$CACHE/$1
  if [ "${NICBACK_VM_REFRESH:-0}" != 1 ] && kernel_ready "$k"; then return 0; fi
  local pkg
  pkg=$(pick_package "$k")
  if kernel_ready "$k" && [ "$(jq -r .package "$d/kernel.json")" = "$pkg" ]; then return 0; fi
  log "kernel $k: downloading $pkg"
  local dl=$CACHE/dl
  rm -rf "$dl" "$d.new"
  mkdir -p "$dl" "$d.new"
  chown _apt "$dl" 2>/dev/null || true # lets apt download sandboxed
  (cd "$dl" && apt-get "${APT_OPTS[@]}" -qq download "$pkg" >&2)
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

  rm -rf "$d"
  mv "$d.new" "$d"
  moddir=${moddir/#"$d.new"/"$d"}
  vmlinuz=${vmlinuz/#"$d.new"/"$d"}
  jq -n --arg kernel "$k" --arg version "$ver" --arg package "$pkg" --arg packageVersion "$pkgver" \
    --arg vmlinuz "$vmlinuz" --arg modules "$moddir" --arg initramfs "$d/initramfs.cpio.gz" \
    '{kernel: $kernel, version: $version, package: $package, packageVersion: $packageVersion,
      vmlinuz: $vmlinuz, modules: $modules, initramfs: $initramfs}' >"$d/kernel.json.tmp"
  mv "$d/kernel.json.tmp" "$d/kernel.json"
  rm -f "$d/initramfs.cpio.gz" "$d/initramfs.stamp"
}

# ---------------------------------------------------------------- initramfs
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
  local order=() line path name seen=" " deps
  for m in "${INITRD_MODULES[@]}"; do
    deps=$(modprobe -d "$base" -S "$ver" --show-depends "$m") ||
      die "module $m not found for $ver"
    while read -r line; do
      case $line in
        insmod\ *)
          path=$(awk '{print $2}' <<<"$line")
          name=$(basename "$path"); name=${name%%.ko*}
          case $seen in *" $name "*) continue ;; esac
          seen+="$name "
          case $path in
            *.ko.xz) xz -dc "$path" >"$s/modules/$name.ko" ;;
            *.ko.zst) zstd -qdc "$path" >"$s/modules/$name.ko" ;;
            *.ko.gz) gzip -dc "$path" >"$s/modules/$name.ko" ;;
            *.ko) cp "$path" "$s/modules/$name.ko" ;;
            *) die "unexpected module file $path" ;;
          esac
          order+=("$name")
          ;;
        builtin\ *) ;;
        *) [ -z "$line" ] || log "modprobe: $line" ;;
      esac
    done <<<"$deps"
  done
  printf '%s\n' "${order[@]}" >"$s/modules/order"

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
step "loading modules"
for m in $(cat /modules/order); do
  insmod "/modules/$m.ko" || echo "initramfs: insmod $m failed"
done
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
[ -x "/newroot$guest_init" ] || fail "$guest_init is not executable in the shared root"
step "switch_root to $guest_init"
umount /dev /proc
exec switch_root /newroot "$guest_init"
INIT
  chmod 755 "$s/init"
  (cd "$s" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -1 >"$out.tmp")
  mv "$out.tmp" "$out"
  echo "$stamp" >"$d/initramfs.stamp"
  rm -rf "$s"
}

ensure_packages
for k in 6.1 6.12; do
  ensure_kernel "$k"
  ensure_initramfs "$k"
done
echo "assets ready $CACHE"
