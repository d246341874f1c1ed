# Issue 16: real CNI plugins that move NICs, on PF0's 7 igb VFs, with and
# without nicback: sriov-cni (shared/peers/sriov-cni, built by
# test/vm/assets.sh) in both builds (v2.10.0 renames each VF on the host to
# temp_<ifindex> before it moves it; main goes through a temporary netns),
# and Debian's CNI host-device (v1.1.1: moves the NIC under its host name,
# renames it inside, keeps the host name in ifalias; docs/movers.md).
# Sourced by sriov.sh (bash), which sets VFS, PFS and the result helpers.
# Each phase records, per VF (by PCI address), its name on the host after
# each step: "pci=name".
#   cni_phase LABEL PLUGIN    PLUGIN: v2.10.0 | main | host-device
# Scenarios of a phase:
#   rounds  ADD of every VF in parallel, each into a pod netns of its own,
#           then DEL of every VF in parallel; three times;
#   crash   ADD of every VF, then every pod netns deleted without DEL (the
#           pod died); the kubelet's DEL with the netns gone; a new ADD of
#           the same VFs (the cache then holds the host name the plugin
#           read), and its DEL;
#   race    ADD of every VF; the pods die; the next pods' ADD at once, while
#           the VFs come back (retried as the kubelet would, a failed try's
#           sandbox torn down, until the VF is back); then their DEL.
CNI_DIR=/var/cache/sriov-cni
HOST_DEVICE=/usr/lib/cni/host-device
cni_bin() {
  case $1 in
  main) echo "$CNI_DIR/sriov" ;;
  host-device) echo "$HOST_DEVICE" ;;
  *) echo "$CNI_DIR/$1/sriov" ;;
  esac
}
CNI_VFS=()
declare -A CNI_PCI CNI_NAME
cni_init() {
  local v
  CNI_VFS=()
  for v in "${VFS[@]}"; do
    [ "$(basename "$(readlink -f "/sys/class/net/$v/device/physfn")")" = "$(basename "$(readlink -f "/sys/class/net/${PFS[0]}/device")")" ] || continue
    CNI_VFS+=("$v")
    CNI_PCI[$v]=$(basename "$(readlink -f "/sys/class/net/$v/device")")
    CNI_NAME[${CNI_PCI[$v]}]=$v
  done
  mkdir -p /var/run/netns
}
# cni PLUGIN CMD CID POD PCI: one plugin call; what a failed call printed
# goes to /out/cni-failed.log
cni() {
  local conf="{\"cniVersion\":\"1.0.0\",\"name\":\"sriov-net\",\"type\":\"sriov\",\"deviceID\":\"$5\"}"
  [ "$1" = host-device ] && conf="{\"cniVersion\":\"1.0.0\",\"name\":\"hd\",\"type\":\"host-device\",\"pciBusID\":\"$5\"}"
  local out rc
  out=$(echo "$conf" | CNI_COMMAND=$2 CNI_CONTAINERID=$3 CNI_NETNS=/var/run/netns/$4 CNI_IFNAME=net1 CNI_PATH=$CNI_DIR "$(cni_bin "$1")" 2>&1)
  rc=$?
  [ $rc = 0 ] || echo "$1 $2 $3 $5 rc=$rc: $out" | tr '\n' ' ' | sed 's/$/\n/' >> /out/cni-failed.log
  return $rc
}
# names: "pci=name" of every VF, "pci=-" when it is not on the host
cni_names() {
  local v p n out=""
  for v in "${CNI_VFS[@]}"; do
    p=${CNI_PCI[$v]}
    n=$(ls "/sys/bus/pci/devices/$p/net/" 2>/dev/null | head -1)
    out="$out $p=${n:--}"
  done
  echo "${out# }"
}
# every VF home under its name
cni_home() {
  local v p
  for v in "${CNI_VFS[@]}"; do
    p=${CNI_PCI[$v]}
    [ -e "/sys/bus/pci/devices/$p/net/$v" ] || return 1
  done
}
# every VF on the host, whatever its name
cni_back() {
  local v
  for v in "${CNI_VFS[@]}"; do [ -n "$(ls "/sys/bus/pci/devices/${CNI_PCI[$v]}/net/" 2>/dev/null)" ] || return 1; done
}
# wait_for COND SECONDS: until COND holds (then settle), or SECONDS pass.
# Without nicback (CNI_NICBACK=0) nothing renames a VF after udevd: no wait
# for cni_home beyond udevd's queue.
CNI_NICBACK=0
wait_for() {
  local i
  udevadm settle
  [ "$1" = cni_home ] && [ "$CNI_NICBACK" = 0 ] && return
  for i in $(seq $(($2 * 10))); do "$1" && break; sleep 0.1; done
  udevadm settle
}
# all BUILD CMD TAG: CMD for every VF in parallel (pod = TAG-index); prints the exit codes
cni_all() {
  local i=0 v pids=() rcs=""
  for v in "${CNI_VFS[@]}"; do
    [ "$2" = ADD ] && ip netns add "$3-$i" 2>/dev/null
    cni "$1" "$2" "$3-$i" "$3-$i" "${CNI_PCI[$v]}" &
    pids+=($!)
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
  echo "${rcs# }"
}
# add_retry BUILD TAG: ADD of every VF in parallel, each retried (as the
# kubelet would) until its VF is back on the host; prints the exit codes
cni_add_retry() {
  local i=0 v pids=() rcs=""
  for v in "${CNI_VFS[@]}"; do
    ip netns add "$2-$i"
    # As the kubelet: a failed ADD's sandbox is torn down (DEL, its netns
    # deleted) and the next try gets a new one. host-device 1.1 moves the
    # VF by ifindex, then looks it up in the pod by the name it read on the
    # host: renamed home in between, the VF stays in the pod's netns, and
    # only the teardown brings it back (seen once on 6.1, 2026-12-07).
    (for _ in $(seq 50); do
      cni "$1" ADD "$2-$i" "$2-$i" "${CNI_PCI[$v]}" && exit 0
      cni "$1" DEL "$2-$i" "$2-$i" "${CNI_PCI[$v]}"
      ip netns del "$2-$i" && ip netns add "$2-$i"
      sleep 0.2
    done; exit 1) &
    pids+=($!)
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; rcs="$rcs $?"; done
  echo "${rcs# }"
}
del_pods() { local i; for i in $(seq 0 $((${#CNI_VFS[@]} - 1))); do ip netns del "$1-$i" 2>/dev/null; done; }
# the host names the plugin cached for pods TAG-*
cni_cached() {
  local i out=""
  for i in $(seq 0 $((${#CNI_VFS[@]} - 1))); do
    out="$out $(sed -n 's/.*"HostIFName":"\([^"]*\)".*/\1/p' "/var/lib/cni/sriov/$1-$i-net1" 2>/dev/null)"
  done
  echo "${out# }"
}
cni_lines() { echo $(( $(wc -l < /out/syslog.log) + 1 )); }
cni_failed_from() { echo $(( $(cat /out/cni-failed.log 2>/dev/null | wc -l) + 1 )); }
cni_syslog() { tail -n +"$1" /out/syslog.log | grep nicback; }

# cni_round PLUGIN TAG: ADD of every VF in parallel, then DEL of every VF
# in parallel; prints the round as JSON
cni_round() {
  local add del inpods
  add=$(cni_all "$1" ADD "$2")
  udevadm settle
  inpods=$(cni_names)
  del=$(cni_all "$1" DEL "$2")
  del_pods "$2"
  wait_for cni_home 5
  echo "{\"add\": \"$add\", \"inPods\": \"$inpods\", \"del\": \"$del\", \"after\": \"$(cni_names)\"}"
}
cni_expected() { local v; for v in "${CNI_VFS[@]}"; do printf '%s=%s ' "${CNI_PCI[$v]}" "$v"; done | sed 's/ $//'; }

cni_phase() {
  local label=$1 build=$2 r from rounds="" add crash_back crash_del crash_add crash_cached crash_del2 crash_after race_add race_after race_del
  [ ${#CNI_VFS[@]} -gt 0 ] || cni_init
  from=$(cni_lines)
  local failed_from; failed_from=$(cni_failed_from)
  for r in 1 2 3; do rounds="$rounds$(cni_round "$build" "$label-r$r"),"; done
  # crash: the pods die without DEL
  add=$(cni_all "$build" ADD "$label-c")
  udevadm settle
  del_pods "$label-c"
  wait_for cni_back 20
  wait_for cni_home 15
  crash_back=$(cni_names)
  crash_del=$(cni_all "$build" DEL "$label-c")
  crash_add=$(cni_all "$build" ADD "$label-n")
  crash_cached=$(cni_cached "$label-n")
  crash_del2=$(cni_all "$build" DEL "$label-n")
  del_pods "$label-n"
  wait_for cni_home 15
  crash_after=$(cni_names)
  # race: the next pods' ADD while the VFs come back
  add=$(cni_all "$build" ADD "$label-x")
  udevadm settle
  del_pods "$label-x"
  race_add=$(cni_add_retry "$build" "$label-y")
  udevadm settle
  race_del=$(cni_all "$build" DEL "$label-y")
  del_pods "$label-y"
  wait_for cni_home 15
  race_after=$(cni_names)
  local recorded=""
  [ "$CNI_NICBACK" = 1 ] && recorded=$(cni_recorded)
  result "$label" "{\"build\": \"$build\", \"recorded\": \"$recorded\", \"expected\": \"$(cni_expected)\", \"rounds\": [${rounds%,}], \"crash\": {\"back\": \"$crash_back\", \"del\": \"$crash_del\", \"add\": \"$crash_add\", \"cached\": \"$crash_cached\", \"del2\": \"$crash_del2\", \"after\": \"$crash_after\"}, \"race\": {\"add\": \"$race_add\", \"del\": \"$race_del\", \"after\": \"$race_after\"}, \"syslog\": $(json_str "$(cni_syslog "$from")"), \"failedCalls\": $(json_str "$(tail -n +"$failed_from" /out/cni-failed.log 2>/dev/null)")}"
}

# Without nicback a crash leaves the VFs misnamed: name them back by hand
# (their altname first: the altname trap) before the next phase.
cni_rename_home() {
  local v p n
  for v in "${CNI_VFS[@]}"; do
    p=${CNI_PCI[$v]}
    n=$(ls "/sys/bus/pci/devices/$p/net/" 2>/dev/null | head -1)
    [ -n "$n" ] && [ "$n" != "$v" ] || continue
    ip link property del dev "$n" altname "$v" 2>/dev/null
    ip link set "$n" name "$v"
  done
  udevadm settle
}

cni_recorded() { node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync("/var/lib/nicback/registry.json", "utf8")).nics.map((e) => e.name).join(" "))'; }

# An earlier nicback recorded a VF under temp_<ifindex> (this issue) and
# gave it that name: the next return repairs the record and the name.
cni_repair() {
  local v=${CNI_VFS[6]} idx from before after
  idx=$(cat "/sys/class/net/$v/ifindex")
  ip link set "$v" name "temp_$idx"
  node -e '
    const fs = require("fs"); const p = "/var/lib/nicback/registry.json"
    const r = JSON.parse(fs.readFileSync(p, "utf8"))
    for (const e of r.nics) if (e.name === process.argv[1]) e.name = process.argv[2]
    fs.writeFileSync(p, JSON.stringify(r, null, 2) + "\n", { mode: 0o600 })' "$v" "temp_$idx"
  udevadm settle
  # the earlier nicback wrote no rename notes
  rm -f /var/lib/nicback/udev-rename.*
  before=$(cni_recorded)
  from=$(cni_lines)
  ip netns add rep
  cni v2.10.0 ADD rep rep "${CNI_PCI[$v]}"
  udevadm settle
  cni v2.10.0 DEL rep rep "${CNI_PCI[$v]}"
  ip netns del rep
  wait_for cni_home 15
  after=$(cni_recorded)
  result cni-repair "{\"vf\": \"$v\", \"tempName\": \"temp_$idx\", \"recordedBefore\": \"$before\", \"recordedAfter\": \"$after\", \"names\": \"$(cni_names)\", \"syslog\": $(json_str "$(cni_syslog "$from")")}"
}

# Issue 20, day one: a VF sriov-cni v2.10.0 moved into a pod before nicback
# knew it (its record forgotten, as on a node where nicback came later),
# written down as away by "nicback record" (what install and the package's
# postinst run), on a host whose naming policy gives that VF no name (a
# .link file with an empty NamePolicy= and no Name=). The pod dies without
# DEL: the VF comes back as net1 (free on the host) and nicback names it
# from sriov-cni's cache.
cni_day_one() {
  local v=${CNI_VFS[5]} p status_before from cached
  p=${CNI_PCI[$v]}
  mkdir -p /etc/systemd/network
  printf '[Match]\nPath=pci-%s\n[Link]\nNamePolicy=\n' "$p" > /etc/systemd/network/10-nbtest-vf.link
  udevadm control --reload
  ip netns add day1
  cni v2.10.0 ADD day1 day1 "$p"
  udevadm settle
  cached=$(sed -n 's/.*"HostIFName":"\([^"]*\)".*/\1/p' /var/lib/cni/sriov/day1-net1 2>/dev/null)
  $NB forget "$v" > /dev/null 2>&1
  $NB record > /dev/null 2>&1
  status_before=$($NB status --json)
  from=$(cni_lines)
  ip netns del day1
  wait_for cni_back 20
  wait_for cni_home 15
  result cni-day1 "{\"vf\": \"$v\", \"pci\": \"$p\", \"cached\": \"$cached\", \"names\": \"$(cni_names)\", \"statusBefore\": $status_before, \"status\": $($NB status --json), \"registry\": $(cat /var/lib/nicback/registry.json), \"syslog\": $(json_str "$(cni_syslog "$from")")}"
  rm -f /etc/systemd/network/10-nbtest-vf.link
  udevadm control --reload
  # the kubelet's DEL, the netns gone: sriov-cni drops its cache
  cni v2.10.0 DEL day1 day1 "$p"
}
