#!/bin/bash
# Issue 10: real SR-IOV VFs (qemu's igb, 7 VFs per PF) coming back misnamed,
# with nicback's udev rules installed and nobody running it by hand:
#   udevd-alone  the storm below before nicback is installed, timed until
#            udevd is done with every VF: the floor under any storm;
#   single   one VF back from a dead netns as devN (measured 3 times);
#   storm    every VF in a netns of its own, renamed there to a PF's name,
#            all netns deleted at once: every VF back as devN together
#            (three times, as udevd-alone: the tests time the median);
#   by-hand  the same storm with `nicback restore` started by hand into it;
#   cycle    every VF in one netns, each renamed there to the host name of
#            the next: they come back under each other's names;
#   watch-*  single and storm again with the udev rule removed and
#            `nicback watch` (the resident agent) doing the work;
#   cni-*, hd-*  real CNI plugins on PF0's VFs (scenarios/sriov-cni.sh):
#            sriov-cni v2.10.0 and main, Debian's host-device; first
#            without nicback (*-without), then with it, and a registry an
#            earlier nicback wrote under sriov-cni's temp_N (cni-repair);
#   pod-*    the same with the agent in its container image, run by Docker
#            as the DaemonSet's pod spec says (DS_RUN, set by the test), the
#            VF moved into a pod netns CNI-style (ip netns add, renamed
#            there, the netns deleted without any cleanup).
# AGENT=0 (set by the test) stops after the rule's scenarios.
# Results: /out/result.json (times from the command's start, per VF MAC).
set -u
. test/vm/guest/lib.sh
. test/vm/guest/vfs.sh
. test/vm/scenarios/sriov-cni.sh

busybox syslogd -O /out/syslog.log
vfs_up

# udevd alone, before nicback is installed: the same storm as below, timed
# until udevd is done with every VF (it sent out the event of each VF's last
# add or move: its rules and its RUN programs, one systemd-sysctl per VF,
# ran; on 6.1 each VF's move to devN too): the floor under any storm, since
# nicback waits for udevd. Then each
# VF is named back by hand (its altname first: the altname trap).
# Three times (udevd-alone, -alone2, -alone3): the tests take the median.
for k in '' 2 3; do
  scatter
  result "udevd-alone$k" "{\"watch\": $($WATCH --timeout 60000 --udev-done $(expect_all) -- ip -all netns delete)}"
  home_by_hand
done

# The real plugins without nicback: what a node without it sees. A crash
# leaves VFs misnamed for good: named back by hand after each.
cni_init
cni_phase cni-v2-without v2.10.0
cni_rename_home
cni_phase cni-main-without main
cni_rename_home
cni_phase hd-without host-device
cni_rename_home
for v in "${VFS[@]}"; do MAC[$v]=$(cat "/sys/class/net/$v/address"); done

$NB install > /out/install.log 2>&1 || { echo "install failed"; cat /out/install.log; }
CNI_NICBACK=1
BEFORE=$(snapshot)
node_ms() { local t0=${EPOCHREALTIME/./}; node -e 0; echo $(( (${EPOCHREALTIME/./} - t0) / 1000 )); }
result nodeMs "$(for _ in 1 2 3; do node_ms; done | sort -n | sed -n 2p)"
result setup "{\"pfs\": $(json_str "${PFS[*]}"), \"vfs\": $(json_str "${VFS[*]}"), \"before\": $(json_str "$BEFORE"), \"status\": $($NB status --json)}"

# check NAME WATCH_JSON FROM_LINE: the watcher's view, whether the host is as
# before, and nicback's syslog lines since FROM_LINE
check() {
  udevadm settle
  local after untouched=false
  after=$(snapshot)
  [ "$after" = "$BEFORE" ] && untouched=true
  result "$1" "{\"watch\": $2, \"untouched\": $untouched, \"after\": $(json_str "$after"), \"syslog\": $(json_str "$(tail -n +"$3" /out/syslog.log | grep nicback)")}"
}
lines() { echo $(( $(wc -l < /out/syslog.log) + 1 )); }

# singles PREFIX VF NETNS: VF back as devN from a netns deleted without any
# cleanup (CNI-style), three times: PREFIXsingle1..3
singles() {
  local k
  for k in 1 2 3; do
    ip netns add "$3"
    ip link set "$2" netns "$3"
    ip -n "$3" link set "$2" name "${PFS[0]}"
    udevadm settle
    from=$(lines)
    check "${1}single$k" "$($WATCH --timeout 60000 --expect "${MAC[$2]}=$2" -- ip netns del "$3")" "$from"
  done
}
# storm NAME: every VF back as devN together
storm() {
  scatter
  from=$(lines)
  # shellcheck disable=SC2046
  check "$1" "$($WATCH --timeout 180000 $(expect_all) -- ip -all netns delete)" "$from"
}

singles "" "${VFS[0]}" one
# Three storms: the first is checked in full, the time is the median's.
storm storm
storm storm2
storm storm3

scatter
from=$(lines)
echo 'ip -all netns delete & sleep 0.5; node dist/nicback.mjs restore --json > /out/by-hand.json; echo $? > /out/by-hand.rc; wait' > /tmp/by-hand.sh
# shellcheck disable=SC2046
check by-hand "$($WATCH --timeout 180000 $(expect_all) -- bash /tmp/by-hand.sh)" "$from"
result byHand "{\"rc\": $(cat /out/by-hand.rc), \"report\": $(cat /out/by-hand.json)}"

ip netns add ring
n=${#VFS[@]}
for i in $(seq 0 $((n - 1))); do ip link set "${VFS[$i]}" netns ring; ip -n ring link set "${VFS[$i]}" name "t$i"; done
for i in $(seq 0 $((n - 1))); do ip -n ring link set "t$i" name "${VFS[$(( (i + 1) % n ))]}"; done
udevadm settle
from=$(lines)
# shellcheck disable=SC2046
check cycle "$($WATCH --timeout 180000 $(expect_all) -- ip netns del ring)" "$from"

# The real plugins with nicback.
cni_phase cni-v2 v2.10.0
cni_phase cni-main main
cni_phase hd host-device
cni_repair
cni_day_one

# AGENT=0: the rule's scenarios only (the agent's do not depend on the kernel).
if [ "${AGENT:-1}" = 0 ]; then
  write_results
  exit 0
fi

# The resident agent instead of the rule (a DaemonSet's node): same moments,
# no node start per event.
rm /etc/udev/rules.d/81-nicback.rules
udevadm control --reload
node dist/nicback.mjs watch --metrics-addr 127.0.0.1:9465 --log-format json 2>/out/watch.log &
wpid=$!
ready=false
for _ in $(seq 600); do curl -sf http://127.0.0.1:9465/readyz >/dev/null && { ready=true; break; }; sleep 0.1; done
singles watch- "${VFS[0]}" one
storm watch-storm
storm watch-storm2
storm watch-storm3
# sriov-cni v2's hand-over, seen by the agent (its own notes of host renames)
rounds="$(cni_round v2.10.0 w1), $(cni_round v2.10.0 w2)"
sleep 3
result watch-cni-v2 "{\"expected\": \"$(cni_expected)\", \"rounds\": [$rounds], \"after\": \"$(cni_names)\", \"recorded\": \"$(cni_recorded)\"}"
healthz=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9465/healthz)
kill -TERM "$wpid"
wait "$wpid"
result watch "{\"ready\": $ready, \"healthz\": \"$healthz\", \"exit\": $?, \"log\": $(json_str "$(cat /out/watch.log)")}"

# The DaemonSet's pod, under Docker (no cluster here): the image
# (deploy/image/build.sh: one archive, which docker load tags nicback:0.1.0)
# and the pod spec's docker run line (test/vm/pod-spec.ts). / is shared on a
# systemd node; the pod's /run/netns mount (HostToContainer) needs it.
mount --make-rshared /
t0=${EPOCHREALTIME/./}
docker load -i "$IMAGE_TAR" > /dev/null 2>/out/import.err
import_ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
NICBACK_NODE_NAME=$(hostname) docker "${DS_RUN[@]}" > /dev/null 2>/out/pod-run.err # the pod's env from spec.nodeName
# Ready within 2 minutes, or the pod's logs say why (no VF is moved then).
pod_ready=false
until=$(( ${EPOCHREALTIME/./} + 120000000 ))
while [ "${EPOCHREALTIME/./}" -lt "$until" ]; do
  curl -sf http://127.0.0.1:9465/readyz >/dev/null && { pod_ready=true; break; }
  [ "$(docker inspect -f '{{.State.Running}}' nicback-agent 2>&1)" = true ] || break
  sleep 0.5
done
if $pod_ready; then
  singles pod- "${VFS[1]}" pod1
  storm pod-storm
fi
pod_health=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9465/healthz)
pod_metrics=$(curl -s http://127.0.0.1:9465/metrics | grep '^nicback_restores_total')
# memory, for the DaemonSet's requests and limits: the agent's peak RSS
# (docker inspect gives its pid on the node) and its cgroup's peak (page
# cache too)
apid=$(docker inspect -f '{{.State.Pid}}' nicback-agent)
acid=$(docker inspect -f '{{.Id}}' nicback-agent)
pod_rss="agent $(grep -h VmHWM "/proc/$apid/status" | tr -s ' \t' ' '); children $(for c in $(cat /proc/$apid/task/*/children 2>/dev/null); do grep -h VmRSS "/proc/$c/status"; done | tr -s ' \t\n' ' '); cgroup peak $(cat /sys/fs/cgroup/docker/$acid/memory.peak /sys/fs/cgroup/system.slice/docker-$acid.scope/memory.peak 2>/dev/null | head -1) bytes"

docker stop -t 30 nicback-agent > /dev/null
result pod "{\"state\": $(json_str "$(docker inspect -f '{{.State.Status}} exit {{.State.ExitCode}} {{.State.Error}}' nicback-agent 2>&1)"), \"importMs\": $import_ms, \"ready\": $pod_ready, \"healthz\": \"$pod_health\", \"exit\": $(docker inspect -f '{{.State.ExitCode}}' nicback-agent), \"metrics\": $(json_str "$pod_metrics"), \"rss\": $(json_str "$pod_rss"), \"log\": $(json_str "$(docker logs nicback-agent 2>&1 | tail -n 200)"), \"err\": $(json_str "$(cat /out/import.err /out/pod-run.err)")}"

write_results
