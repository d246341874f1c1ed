#!/bin/bash
# PID 1 of the nicback test VM, started by the initramfs (assets.sh) with
# switch_root from the machine's own / shared read-only over 9p with a tmpfs
# overlay on top. /out is the harness's writable share.
#
# Kernel command line (set by harness.ts):
#   nicback.script=/abs/path  scenario (bash) to run
#   nicback.cwd=/abs/path     its working directory (the checkout)
#   nicback.setup=/abs/path   optional, run before udevd/dockerd start
#   nicback.docker=0|1        start containerd + dockerd, import image nbtest
#   nicback.moddir=/abs/path  the kernel's module tree (for modprobe)
#
# Outputs: /out/scenario.log (stdout+stderr of the scenario), /out/exit (its
# exit code), /out/guest.log (this script's own trace). The scenario writes
# what it wants to report to /out/result.json.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
umask 022

t0=$(cut -d' ' -f1 /proc/uptime 2>/dev/null)
say() { echo "nicback-vm: $*" >/dev/console 2>/dev/null || echo "nicback-vm: $*"; }
bye() {
  sync
  say "poweroff"
  exec /bin/busybox poweroff -f
}
# Anything unexpected must still end the VM (the harness waits for qemu).
trap bye EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs -o mode=0755 dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/udev /run/lock /run/netns
mount -t cgroup2 cgroup2 /sys/fs/cgroup

script= cwd=/ setup= docker=0 moddir=
for a in $(cat /proc/cmdline); do
  case $a in
    nicback.script=*) script=${a#*=} ;;
    nicback.cwd=*) cwd=${a#*=} ;;
    nicback.setup=*) setup=${a#*=} ;;
    nicback.docker=*) docker=${a#*=} ;;
    nicback.moddir=*) moddir=${a#*=} ;;
  esac
done

exec 3>>/out/guest.log
log() { echo "$(cut -d' ' -f1 /proc/uptime) $*" >&3; }
log "guest-init start (initramfs handed over at ${t0}s)"

# A fresh /tmp, unless the checkout (or the scenario) lives there.
case "$cwd/ $script" in
  /tmp/*|*" /tmp/"*) log "keeping the shared /tmp: the checkout is under it" ;;
  *) mount -t tmpfs -o mode=1777 tmpfs /tmp ;;
esac

if [ -n "$moddir" ] && [ -d "$moddir" ]; then
  mkdir -p "/lib/modules/$(uname -r)"
  mount --bind "$moddir" "/lib/modules/$(uname -r)"
fi

hostname nicback-vm
ip link set lo up

if [ -n "$setup" ]; then
  log "setup $setup"
  (cd "$cwd" && bash "$setup") >>/out/setup.log 2>&1 || log "setup exited $?"
fi

log "udevd"
/lib/systemd/systemd-udevd --daemon >>/out/guest.log 2>&1
udevadm trigger --action=add --subsystem-match=net
udevadm settle --timeout=30
log "udev settled: $(ls /sys/class/net | tr '\n' ' ')"

if [ "$docker" = 1 ]; then
  log "docker"
  mkdir -p /var/lib/docker /var/lib/containerd /etc/containerd
  mount -t tmpfs -o mode=0711 tmpfs /var/lib/docker
  mount -t tmpfs -o mode=0711 tmpfs /var/lib/containerd
  # Only what dockerd needs; the CRI plugin is slow to start and unused.
  cat >/run/nicback-containerd.toml <<'EOF'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
EOF
  containerd --config /run/nicback-containerd.toml >/out/containerd.log 2>&1 &
  for _ in $(seq 1 300); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
  dockerd --iptables=false --ip6tables=false --ip-masq=false --bridge=none \
    --storage-driver=vfs --containerd=/run/containerd/containerd.sock \
    --userland-proxy=false >/out/dockerd.log 2>&1 &
  for _ in $(seq 1 600); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  docker info >/dev/null 2>&1 || log "dockerd did not answer"
  img=$(mktemp -d)
  mkdir -p "$img/bin" "$img/proc" "$img/sys" "$img/dev" "$img/etc" "$img/tmp"
  cp /bin/busybox "$img/bin/busybox"
  for c in sh ash sleep ip ls cat echo ps kill ifconfig grep sed awk mount true false; do
    ln -s busybox "$img/bin/$c"
  done
  tar -C "$img" -c . | docker import -q - nbtest >/dev/null || log "docker import failed"
  rm -rf "$img"
  log "docker ready"
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
