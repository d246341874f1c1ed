# Sourced by the SR-IOV scenarios (scenarios/sriov.sh, bench/vm/storms.sh):
# the igb PFs' VFs, and the storm they make when they all come back at once.
#
# vfs_up: igb and igbvf loaded, 7 VFs on every PF, udevd done naming them;
# sets PFS (the PFs' names), VFS (the VFs' names) and MAC (VF name -> MAC).
vfs_up() {
  modprobe -a dca i2c-algo-bit igb igbvf
  udevadm settle
  PFS=()
  local d pf v
  for d in /sys/class/net/*; do
    [ "$(cat "$d/device/sriov_totalvfs" 2>/dev/null || echo 0)" -gt 0 ] && PFS+=("$(basename "$d")")
  done
  for pf in "${PFS[@]}"; do echo 7 >"/sys/class/net/$pf/device/sriov_numvfs"; done
  udevadm settle
  VFS=()
  for d in /sys/class/net/*; do [ -e "$d/device/physfn" ] && VFS+=("$(basename "$d")"); done
  declare -gA MAC
  for v in "${VFS[@]}"; do MAC[$v]=$(cat "/sys/class/net/$v/address"); done
}
# the watcher's --expect for every VF under its name
expect_all() { for v in "${VFS[@]}"; do printf -- '--expect %s=%s ' "${MAC[$v]}" "$v"; done; }
# Each VF into a netns of its own, renamed there to a PF's name: the kernel
# hands each back as devN (the PF holds the name on the host).
scatter() {
  local i=0 v
  for v in "${VFS[@]}"; do
    ip netns add "s$i"
    ip link set "$v" netns "s$i"
    ip -n "s$i" link set "$v" name "${PFS[0]}"
    i=$((i + 1))
  done
  # The leaving is a moment of its own (its remove events, nicback recording
  # them): done before the timed return starts, as when a pod dies later.
  udevadm settle
}
# After a storm nobody named back: each VF named back by hand (its altname
# first: the altname trap).
home_by_hand() {
  udevadm settle
  local d m v
  for d in /sys/class/net/dev*; do
    m=$(cat "$d/address")
    for v in "${VFS[@]}"; do
      if [ "${MAC[$v]}" = "$m" ]; then
        ip link property del dev "${d##*/}" altname "$v" 2>/dev/null
        ip link set "${d##*/}" name "$v"
      fi
    done
  done
  udevadm settle
}
