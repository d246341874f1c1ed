# LXC's `phys` network type (Debian 12's lxc 5.0.2), with or without nicback:
# what happens to a NIC's host name when a container that was given it stops
# cleanly or crashes (docs/movers.md, the LXC row). Sourced by a scenario
# that has sourced test/vm/guest/lib.sh (result, json_str, snapshot).
#   lxc_phase LABEL NIC
# Six sub-cases, each its own container (no template: a rootfs of the
# machine's static busybox under /tmp, on the guest's tmpfs):
#   INNER.stop   lxc.net.0.name = INNER; lxc-stop (init exits on SIGTERM,
#                the monitor tears the network down: LXC moves the NIC home
#                as physXXXXXX, then renames it on the host to NIC)
#   INNER.crash  SIGKILL to the monitor (init has PR_SET_PDEATHSIG SIGKILL
#                and dies with it): nobody hands the NIC back, the kernel
#                does at netns death under the name it had inside.
#   INNER.kill   (only when asked in LXC_MODES) `lxc-stop -k`: SIGKILL to
#                init only; the monitor lives and renames the NIC home,
#                as a clean stop does.
#   INNER.lost   like stop, but the NIC carries NIC as an altname when it
#                comes back (added inside before the stop), as when udevd
#                handled the `add` before LXC renamed it (a race seen once
#                under load): LXC's rename home fails (EEXIST)
# with INNER = eth0 (free on the host) and ens4 (another host NIC's name).
# LXC_INNERS and LXC_MODES narrow the lists.
# result LABEL: per sub-case the NIC's host name (found by MAC) after the
# start, after the stop, the net events udevd sent out (action and
# INTERFACE, `move` with the old name) during each step, and the times.
# A NIC that is not home at the end of a sub-case is renamed home by hand
# ("fixed"), so the next starts from the same host.

LXC_P=/tmp/nb-lxc # lxcpath: containers, logs, the shared rootfs

lxc_rootfs() {
  local r=$LXC_P/rootfs c
  [ -x "$r/bin/busybox" ] && return 0
  mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,root}
  cp /bin/busybox "$r/bin/busybox"
  for c in sh sleep ip ls cat echo kill true; do ln -s busybox "$r/bin/$c"; done
  # init: exits on SIGTERM (lxc.signal.halt below); PID 1 ignores signals
  # it has no handler for.
  printf '%s\n' '#!/bin/sh' "trap 'exit 0' TERM" 'sleep 100000 &' 'wait' > "$r/init"
  chmod 755 "$r/init"
}

# lxc_conf NAME LINK INNER: the container's config
lxc_conf() {
  mkdir -p "$LXC_P/$1"
  cat > "$LXC_P/$1/config" <<EOF
lxc.uts.name = $1
lxc.rootfs.path = dir:$LXC_P/rootfs
lxc.init.cmd = /init
lxc.signal.halt = SIGTERM
lxc.apparmor.profile = unconfined
lxc.mount.auto = proc:mixed sys:mixed
lxc.autodev = 1
lxc.tty.max = 0
lxc.pty.max = 4
lxc.console.path = none
lxc.log.file = $LXC_P/$1.log
lxc.log.level = INFO
lxc.net.0.type = phys
lxc.net.0.link = $2
lxc.net.0.name = $3
lxc.net.0.flags = up
EOF
}

lxc_ms() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }

# lxc_host_name MAC: the host device with this MAC ("" when none), like
# `snapshot | sed -n "s/^MAC=//p"` without a process per device.
lxc_host_name() {
  local d a
  for d in /sys/class/net/*; do
    read -r a < "$d/address" 2>/dev/null || continue
    [ "$a" = "$1" ] && { echo "${d##*/}"; return; }
  done
}

# Net events as udevd sends them out, into FILE; returns when it listens.
LXC_MON=
lxc_mon_start() {
  : > "$1"
  udevadm monitor --udev --property --subsystem-match=net > "$1" 2>&1 &
  LXC_MON=$!
  local _
  for _ in $(seq 300); do grep -q '^UDEV - ' "$1" && return 0; sleep 0.01; done
}
# lxc_mon_stop FILE: LXC_EV = JSON array, "ACTION INTERFACE" per event, a
# move with " (was OLD)".
LXC_EV=
lxc_mon_stop() {
  udevadm settle --timeout=30
  sleep 0.3
  kill "$LXC_MON" 2>/dev/null
  wait "$LXC_MON" 2>/dev/null
  LXC_EV=$(awk '
    function flush() { if (a != "") { s = a " " i; if (o != "") s = s " (was " o ")"; out = out (n++ ? ", " : "") "\"" s "\"" } a = i = o = "" }
    /^$/ { flush(); next }
    /^ACTION=/ { a = substr($0, 8) }
    /^INTERFACE=/ { i = substr($0, 11) }
    /^INTERFACE_OLD=/ { o = substr($0, 15) }
    END { flush(); print "[" out "]" }' "$1")
}

# nicback still working on something (its udev front or a leader)?
lxc_nicback_busy() {
  local p a
  for p in /proc/[0-9]*; do
    mapfile -d '' -t a < "$p/cmdline" 2>/dev/null || continue
    case "${a[*]}" in *nicback*udev*) return 0 ;; esac
  done
  return 1
}

# lxc_settle MAC WANT: wait (max 15 s) until the NIC is named WANT, or it is
# on the host, its name has not changed for 2 s and no nicback runs.
lxc_settle() {
  local t0=${EPOCHREALTIME/./} last="" since=${EPOCHREALTIME/./} n now
  while :; do
    n=$(lxc_host_name "$1")
    now=${EPOCHREALTIME/./}
    [ "$n" != "$last" ] && { last=$n; since=$now; }
    [ -n "$n" ] && [ "$n" = "$2" ] && ! lxc_nicback_busy && return 0
    [ -n "$n" ] && [ $((now - since)) -gt 2000000 ] && ! lxc_nicback_busy && return 0
    [ $((now - t0)) -gt 15000000 ] && return 1
    sleep 0.1
  done
}

# lxc_altnames DEV: its altnames, space-separated
lxc_altnames() { ip -o link show dev "$1" 2>/dev/null | grep -o 'altname [^ \\]*' | sed 's/altname //' | tr '\n' ' ' | sed 's/ $//'; }

# lxc_case LABEL NIC MAC INNER MODE: one container, one stop; prints its JSON.
lxc_case() {
  local label=$1 nic=$2 mac=$3 inner=$4 mode=$5
  local name="$label-$inner-$mode" ev_start ev_stop t0 t1 start_ms stop_ms settle_ms
  local after_start after_stop inside="" init mon rc fixed=null errors alt
  [ "$(lxc_host_name "$mac")" = "$nic" ] || { echo "{\"skipped\": \"$nic is not home: $(lxc_host_name "$mac")\"}"; return 1; }
  lxc_conf "$name" "$nic" "$inner"

  lxc_mon_start /tmp/lxc-ev-start
  t0=${EPOCHREALTIME/./}
  lxc-start -P "$LXC_P" -n "$name" -d > "$LXC_P/$name.start.out" 2>&1
  rc=$?
  start_ms=$(lxc_ms "$t0")
  lxc_mon_stop /tmp/lxc-ev-start
  ev_start=$LXC_EV
  after_start=$(lxc_host_name "$mac")
  init=$(lxc-info -P "$LXC_P" -n "$name" -pH 2>/dev/null)
  if [ "$rc" != 0 ] || [ -z "$init" ]; then
    errors=$(cat "$LXC_P/$name.start.out"; grep -E 'ERROR|WARN' "$LXC_P/$name.log" 2>/dev/null | tail -20)
    echo "{\"startRc\": $rc, \"startMs\": $start_ms, \"startEvents\": $ev_start, \"afterStart\": $(json_str "$after_start"), \"errors\": $(json_str "$errors")}"
    return 1
  fi
  inside=$(nsenter -t "$init" -n ip -o link 2>/dev/null | grep -i "$mac" | awk -F': ' '{print $2}')

  lxc_mon_start /tmp/lxc-ev-stop
  t0=${EPOCHREALTIME/./}
  if [ "$mode" = lost ]; then
    # what LXC's own rename home meets when udevd was faster: udev's
    # net_setup_link gives the returning NIC its slot name (NIC) as an
    # altname on `add`; altnames travel with a NIC between netns
    nsenter -t "$init" -n ip link property add dev "$inner" altname "$nic"
  fi
  if [ "$mode" = kill ]; then
    lxc-stop -P "$LXC_P" -n "$name" -k > "$LXC_P/$name.stop.out" 2>&1
    rc=$?
  elif [ "$mode" != crash ]; then
    lxc-stop -P "$LXC_P" -n "$name" -t 20 > "$LXC_P/$name.stop.out" 2>&1
    rc=$?
  else
    # the monitor is init's parent; it must die first, or it cleans up
    mon=$(awk '/^PPid:/ {print $2}' "/proc/$init/status")
    rc=$(tr '\0' ' ' < "/proc/$mon/cmdline")
    rc="\"SIGKILL to the monitor $mon (${rc% })\""
    kill -9 "$mon"
    while [ -d "/proc/$mon" ] && ! grep -q '^State:.*Z' "/proc/$mon/status" 2>/dev/null; do sleep 0.01; done
    # LXC gives init PR_SET_PDEATHSIG SIGKILL: it usually is gone already
    kill -9 "$init" 2>/dev/null || rc="${rc%\"}; init died with it\""
  fi
  stop_ms=$(lxc_ms "$t0")
  t1=${EPOCHREALTIME/./}
  lxc_settle "$mac" "$nic"
  settle_ms=$(lxc_ms "$t1")
  lxc_mon_stop /tmp/lxc-ev-stop
  ev_stop=$LXC_EV
  after_stop=$(lxc_host_name "$mac")
  alt=$(lxc_altnames "$after_stop")
  errors=$(grep -E 'ERROR|WARN' "$LXC_P/$name.log" 2>/dev/null | sed 's/^[^ ]* [^ ]* //' | tail -20)

  if [ "$after_stop" != "$nic" ]; then
    if [ -n "$after_stop" ]; then
      # udev gives a returning NIC its slot name as an altname (Debian 12's
      # 99-default.link: AlternativeNamesPolicy=... slot path); it blocks
      # the rename (EEXIST).
      ip link property del dev "$after_stop" altname "$nic" 2>/dev/null
      ip link set dev "$after_stop" down
      ip link set dev "$after_stop" name "$nic" && fixed="$(json_str "$after_stop")"
      udevadm settle --timeout=30
    else
      fixed='"not on the host"'
    fi
  fi
  echo "{\"inside\": $(json_str "$inside"), \"startMs\": $start_ms, \"afterStart\": $(json_str "$after_start"), \"startEvents\": $ev_start," \
    "\"stop\": $rc, \"stopMs\": $stop_ms, \"settleMs\": $settle_ms, \"afterStop\": $(json_str "$after_stop"), \"altnames\": $(json_str "$alt"), \"stopEvents\": $ev_stop," \
    "\"fixed\": $fixed, \"lxcLog\": $(json_str "$errors")}"
}

# lxc_phase LABEL NIC: the four sub-cases; result LABEL.
lxc_phase() {
  local label=$1 nic=$2 t0=${EPOCHREALTIME/./} inner mode out="" j mac
  mac=$(cat "/sys/class/net/$nic/address") || return 1
  lxc_rootfs
  grep -q cgroup2 /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
  for inner in ${LXC_INNERS:-eth0 ens4}; do
    for mode in ${LXC_MODES:-stop crash lost}; do
      j=$(lxc_case "$label" "$nic" "$mac" "$inner" "$mode")
      out="$out\"$inner.$mode\": ${j:-null}, "
    done
  done
  result "$label" "{$out\"ms\": $(lxc_ms "$t0"), \"altnames\": $(json_str "$(lxc_altnames "$nic")"), \"host\": $(json_str "$(snapshot)")}"
}
