#!/bin/bash
# Issue 5: the seed's Docker scenario done by nicback (assign / release), with
# nicback installed (udev rules) on a real kernel with PCI NICs.
#   clean     assign ens3 --to c1 --as ens4; the container changes its MAC
#             and MTU; release --from c1: no devN ever seen on the host, name,
#             MAC, MTU and admin state back.
#   returned  assign again, then docker rm -f c1: the kernel hands it back
#             (devN), the udev rule gives it its name back.
#   gone      assign ens5 --to c2, docker rm -f c2, then release --from c2:
#             the container is gone, release waits for / finds the NIC back.
#   race      (issue 8) release ens3 while the container swaps the NIC's name
#             with a veth of its own in a tight loop: the veth never reaches
#             the host; once the race stops, ens3 comes home.
#   altname   (issue 8) the container plants altname ens5 on ens3; both die:
#             ens3 and ens5 both end home, the planted altname dropped.
# Results: /out/result.json (strings; the test parses them).
set -u
. test/vm/guest/lib.sh

busybox syslogd -O /out/syslog.log # nicback logs through logger(1) to /dev/log
$NB install >/out/install.log 2>&1 || { echo "install failed"; cat /out/install.log; }
udevadm settle
BEFORE=$(snapshot)

# state_of NAME: what must come back as it was.
state_of() { ip -j link show "$1" 2>/dev/null | jq -c '.[0] | {name: .ifname, mtu, mac: .address, up: (.flags | index("UP") != null)}'; }
# Host link names seen by `ip monitor link` while a command runs.
mon_start() {
  stdbuf -oL ip -o monitor link >/tmp/mon 2>&1 &
  MON=$!
  sleep 0.3
}
mon_stop() {
  sleep 0.5
  kill "$MON"
  wait "$MON" 2>/dev/null
  sed -nE 's/^(Deleted )?[0-9]+: ([^:@ ]+).*/\2/p' /tmp/mon | awk '!seen[$0]++' | paste -sd' '
}
j() { printf '%s' "$1" | jq -Rs .; } # a JSON string (jq: node costs seconds under emulation)

# ---------------------------------------------------------------- clean
ip link set ens3 up # a NIC in use is up; it must come back up
S3=$(state_of ens3)
docker run -d --network none --name c1 nbtest sleep 1000 >/dev/null
P=$(pid_of c1)
A1=$($NB assign ens3 --to c1 --as ens4 --json 2>/tmp/err); A1RC=$?
A1ERR=$(cat /tmp/err)
INSIDE=$(nsenter -t "$P" -n ip -j link show ens4 | jq -c '.[0] | {name: .ifname, mac: .address, up: (.flags | index("UP") != null)}')
HOST_HAS_ENS3=$(ip link show ens3 >/dev/null 2>&1 && echo true || echo false)
udevadm settle
ST1=$($NB status --json)
nsenter -t "$P" -n ip link set ens4 down
nsenter -t "$P" -n ip link set ens4 address 02:00:00:00:00:99 mtu 1400
nsenter -t "$P" -n ip link set ens4 up
mon_start
R1=$($NB release --from c1 --json 2>/tmp/err); R1RC=$?
R1ERR=$(cat /tmp/err)
udevadm settle
SEEN1=$(mon_stop)
result clean "{\"assignRc\": $A1RC, \"assign\": $(j "$A1"), \"assignErr\": $(j "$A1ERR"), \"inside\": $(j "$INSIDE"), \
\"hostHadEns3\": $HOST_HAS_ENS3, \"status\": $(j "$ST1"), \"releaseRc\": $R1RC, \"release\": $(j "$R1"), \
\"releaseErr\": $(j "$R1ERR"), \"seen\": $(j "$SEEN1"), \"before\": $(j "$S3"), \"after\": $(j "$(state_of ens3)"), \
\"inContainer\": $(j "$(nsenter -t "$P" -n ip -br link)")}"

# ------------------------------------------------------------- returned
A2=$($NB assign ens3 --to c1 --as ens4 2>&1); A2RC=$?
nsenter -t "$P" -n ip link set ens4 mtu 1400
W2=$($WATCH --expect $M3=ens3 -- docker rm -f c1)
udevadm settle
sleep 0.3
udevadm settle
result returned "{\"assignRc\": $A2RC, \"assign\": $(j "$A2"), \"watch\": $W2, \"before\": $(j "$S3"), \
\"after\": $(j "$(state_of ens3)"), \"status\": $(j "$($NB status --json)")}"

# ----------------------------------------------------------------- gone
S5=$(state_of ens5)
docker run -d --network none --name c2 nbtest sleep 1000 >/dev/null
A3=$($NB assign ens5 --to c2 --as eth0 2>&1); A3RC=$?
udevadm settle
docker rm -f c2 >/dev/null
R3=$($NB release --from c2 --timeout 10 2>&1); R3RC=$?
udevadm settle
result gone "{\"assignRc\": $A3RC, \"assign\": $(j "$A3"), \"releaseRc\": $R3RC, \"release\": $(j "$R3"), \
\"before\": $(j "$S5"), \"after\": $(j "$(state_of ens5)")}"

# ----------------------------------------------------------------- race
FAKE=02:66:66:66:66:66
docker run -d --network none --name c3 nbtest sleep 1000 >/dev/null
P=$(pid_of c3)
A4=$($NB assign ens3 --to c3 --as ens4 2>&1); A4RC=$?
nsenter -t "$P" -n ip link add fake address $FAKE type veth peer name fakep
nsenter -t "$P" -n sh -c 'while :; do ip link set ens4 name x; ip link set fake name ens4; ip link set x name fake; done' >/dev/null 2>&1 &
RACER=$!
TRIES="" FAKE_ON_HOST=false
for i in 1 2 3 4; do
  $NB release ens3 --timeout 2 >/dev/null 2>>/tmp/race.err; TRIES="$TRIES $?"
  ip -o link | grep -q "$FAKE" && FAKE_ON_HOST=true
  ip link show ens3 >/dev/null 2>&1 && break
done
kill "$RACER"; wait "$RACER" 2>/dev/null
ip link show ens3 >/dev/null 2>&1 || $NB release ens3 >/dev/null 2>>/tmp/race.err
udevadm settle
ip -o link | grep -q "$FAKE" && FAKE_ON_HOST=true
FAKE_IN_CTR=$(nsenter -t "$P" -n ip -o link | grep -c "$FAKE")
docker rm -f c3 >/dev/null
udevadm settle
result race "{\"assignRc\": $A4RC, \"assign\": $(j "$A4"), \"tries\": $(j "$TRIES"), \"fakeOnHost\": $FAKE_ON_HOST, \"fakeInContainer\": $FAKE_IN_CTR, \
\"errors\": $(j "$(cat /tmp/race.err)"), \"after\": $(j "$(state_of ens3)"), \"before\": $(j "$S3")}"

# -------------------------------------------------------------- altname
docker run -d --network none --name c4 nbtest sleep 1000 >/dev/null
docker run -d --network none --name c5 nbtest sleep 1000 >/dev/null
A5=$($NB assign ens3 --to c4 2>&1 && $NB assign ens5 --to c5 --as eth0 2>&1); A5RC=$?
nsenter -t "$(pid_of c4)" -n ip link property add dev ens3 altname ens5
docker rm -f c4 >/dev/null
udevadm settle
ALT_BACK=$(ip -j link show ens3 | jq -c '.[0].altnames // []')
W5=$($WATCH --expect $M3=ens3 --expect $M5=ens5 -- docker rm -f c5)
udevadm settle
result altname "{\"assignRc\": $A5RC, \"assign\": $(j "$A5"), \"altnamesWhenBack\": $(j "$ALT_BACK"), \"watch\": $W5, \
\"ens3\": $(j "$(state_of ens3)"), \"ens5\": $(j "$(state_of ens5)"), \"ens3altnames\": $(j "$(ip -j link show ens3 | jq -c '.[0].altnames // []')"), \
\"status\": $(j "$($NB status --json)")}"

ip link set ens3 down # as it was before the scenario
udevadm settle
result end "{\"untouched\": $([ "$(snapshot)" = "$BEFORE" ] && echo true || echo false), \"snapshot\": $(j "$(snapshot)"), \
\"status\": $(j "$($NB status --json)"), \"syslog\": $(j "$(cat /out/syslog.log 2>/dev/null | grep nicback | tail -n 40)")}"
write_results
