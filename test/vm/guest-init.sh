#!/bin/bash
# PID 1 of the nicback test VM, started by the initramfs (assets.sh) with
# switch_root from the machine's own / shared read-only over 9p with a tmpfs
# overlay on top. /out is the harness's writable share.
#
# Kernel command line (set by harness.ts):
#   nicback.script=/abs/path  scenario (bash) to run
#   nicback.cwd=/abs/path     its working directory (the checkout)
#   nicback.setup=/abs/path   optional, run (bash) before udevd/dockerd start
#   nicback.docker=0|1        start containerd + dockerd, import image nbtest
#   nicback.moddir=/abs/path  the kernel's module tree (for modprobe)
#
# Outputs: /out/scenario.log (stdout+stderr of the scenario), /out/exit (its
# exit code), /out/guest.log (this script's trace, guest uptime in seconds),
# /out/containerd.log, /out/dockerd.log. The scenario writes what it wants to
# report to /out/result.json.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
umask 022

# Static busybox for the early steps: every dynamically linked exec costs
# ~0.1 s under emulation while the 9p cache is cold.
bb=/bin/busybox
$bb mount -t proc proc /proc
read -r t0 _ </proc/uptime
say() { echo "nicback-vm: $*" >/dev/console 2>/dev/null || echo "nicback-vm: $*"; }
bye() {
  sync
  say "poweroff"
  exec $bb poweroff -f
}
# Whatever happens, the VM ends (the harness waits for qemu to exit).
trap bye EXIT

$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs -o mode=0755 dev /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 tmpfs /dev/shm
$bb mount -t tmpfs -o mode=0755 tmpfs /run
$bb mkdir -p /run/udev /run/lock /run/netns
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup

script= cwd=/ setup= docker=0 moddir=
read -r cmdline </proc/cmdline
for a in $cmdline; do
  case $a in
    nicback.script=*) script=${a#*=} ;;
    nicback.cwd=*) cwd=${a#*=} ;;
    nicback.setup=*) setup=${a#*=} ;;
    nicback.docker=*) docker=${a#*=} ;;
    nicback.moddir=*) moddir=${a#*=} ;;
  esac
done

exec 3>>/out/guest.log
log() { local u; read -r u _ </proc/uptime; echo "$u $*" >&3; }
log "guest-init start (bash started at ${t0}s)"

# A fresh /tmp, unless the checkout (or the scenario) lives there.
case "$cwd/ $script" in
  /tmp/* | *" /tmp/"*) log "keeping the shared /tmp: the checkout is under it" ;;
  *) $bb mount -t tmpfs -o mode=1777 tmpfs /tmp ;;
esac

# modprobe (and the kernel's module autoload) from the cached module tree
if [ -n "$moddir" ] && [ -d "$moddir" ]; then
  read -r kver </proc/sys/kernel/osrelease
  $bb mkdir -p "/lib/modules/$kver"
  $bb mount -o bind "$moddir" "/lib/modules/$kver"
fi

echo nicback-vm >/proc/sys/kernel/hostname
$bb ip link set lo up

if [ -n "$setup" ]; then
  log "setup $setup"
  (cd "$cwd" && bash "$setup") >>/out/setup.log 2>&1 </dev/null || log "setup exited $?"
fi

start_docker() {
  $bb mkdir -p /var/lib/docker /var/lib/containerd
  $bb mount -t tmpfs -o mode=0711 tmpfs /var/lib/docker
  $bb mount -t tmpfs -o mode=0711 tmpfs /var/lib/containerd
  # Read the big Go binaries in one go: sequential 9p reads beat page faults.
  cat /usr/bin/containerd /usr/sbin/dockerd /usr/bin/docker \
    /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc >/dev/null 2>&1 &
  # Only what dockerd needs; the CRI plugin is slow to start and unused.
  printf '%s\n' 'version = 2' 'disabled_plugins = ["io.containerd.grpc.v1.cri"]' \
    >/run/nicback-containerd.toml
  containerd --config /run/nicback-containerd.toml >/out/containerd.log 2>&1 &
  # dockerd retries until containerd's socket answers
  dockerd --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --storage-driver=vfs --containerd=/run/containerd/containerd.sock \
    --userland-proxy=false >/out/dockerd.log 2>&1 &
  # the image nbtest: static busybox and a few links
  local img=/run/nbtest-image c
  $bb mkdir -p "$img/bin" "$img/proc" "$img/sys" "$img/dev" "$img/etc" "$img/tmp"
  $bb cp /bin/busybox "$img/bin/busybox"
  for c in sh ash sleep ip ls cat echo ps kill ifconfig grep sed awk mount true false; do
    $bb ln -s busybox "$img/bin/$c"
  done
  # Talk to the API with curl: every docker CLI call is a Go program start,
  # ~0.5 s under emulation.
  local api=(curl -sf --unix-socket /run/docker.sock)
  command -v curl >/dev/null || api=()
  local up=0
  for _ in $(seq 1 1200); do
    if [ -S /run/docker.sock ]; then
      if [ ${#api[@]} -gt 0 ]; then "${api[@]}" -o /dev/null http://docker/_ping && up=1
      else docker version >/dev/null 2>&1 && up=1; fi
      [ $up = 1 ] && break
    fi
    sleep 0.05
  done
  [ $up = 1 ] || { log "dockerd does not answer"; return 1; }
  log "dockerd answers"
  $bb tar -C "$img" -cf /run/nbtest.tar . || return 1
  if [ ${#api[@]} -gt 0 ]; then
    "${api[@]}" -o /dev/null -X POST -H 'Content-Type: application/x-tar' --data-binary @/run/nbtest.tar \
      'http://docker/images/create?fromSrc=-&repo=nbtest&tag=latest'
  else
    docker import /run/nbtest.tar nbtest >/dev/null
  fi || { log "docker import failed"; return 1; }
  $bb rm -f /run/nbtest.tar
  $bb rm -rf "$img"
  log "docker ready"
}

# udevd first: NICs still probing get their names as on a real boot; the
# trigger below covers those that appeared before it.
/lib/systemd/systemd-udevd --daemon >>/out/guest.log 2>&1
log "udevd started"

# Docker starts in the background while udev names the NICs.
docker_job=
if [ "$docker" = 1 ]; then
  log "starting docker"
  start_docker &
  docker_job=$!
fi

# Every PCI network controller (class 0x02xxxx) must have its netdev (the
# initramfs loads the NIC drivers in the background), igb's excepted.
for _ in $(seq 1 600); do
  pending=0
  for d in /sys/bus/pci/devices/*; do
    read -r class <"$d/class"
    case $class in 0x02*) ;; *) continue ;; esac
    # igb PFs (82576) wait for the scenario's modprobe (test/vm/sriov.test.ts)
    read -r device <"$d/device"
    [ "$device" = 0x10c9 ] && continue
    [ -d "$d/net" ] || compgen -G "$d/virtio*/net" >/dev/null || pending=1
  done
  [ $pending = 0 ] && break
  sleep 0.05
done
if [ $pending = 0 ]; then log "PCI NICs probed"; else log "some PCI NICs have no netdev after 30 s"; fi

udevadm trigger --action=add --subsystem-match=net
udevadm settle --timeout=30
log "udev settled: $(echo /sys/class/net/* | sed 's|/sys/class/net/||g')"

if [ -n "$docker_job" ]; then
  wait "$docker_job" || log "docker did not start (see /out/dockerd.log)"
fi

if [ -z "$script" ]; then
  log "no nicback.script"
  echo 127 >/out/exit
  exit
fi
log "scenario $script (cwd $cwd)"
say "scenario start"
(cd "$cwd" && exec bash "$script") >/out/scenario.log 2>&1 </dev/null
rc=$?
echo "$rc" >/out/exit
say "scenario end $rc"
log "scenario exited $rc"
exit
