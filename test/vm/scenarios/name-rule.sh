#!/bin/bash
# RUN versus NAME= (issue 3 asks to measure both), in one boot:
#   run-rule   nicback's rules as installed: the rename is done from RUN;
#   name-rule  the rename left to udev: IMPORT{program} prints the recorded
#              name, NAME= hands it to udev (same node start-up);
#   name-swap  two NICs back under each other's names, NAME= rule: udev can
#              rename only the event's own device, into a name that is free.
set -u
. test/vm/guest/lib.sh
NODE=$(command -v node)
$NB install > /out/install.log 2>&1
BEFORE=$(snapshot)

# back_as_dev: ens3 renamed ens4 in a netns that dies: it returns as dev3.
back_as_dev() {
  ip netns add x1
  ip link set ens3 netns x1
  ip -n x1 link set ens3 name ens4
  $WATCH --timeout 20000 --expect $M3=ens3 -- ip netns del x1
  udevadm settle
}

result run-rule "{\"watch\": $(back_as_dev)}"

cat > /etc/udev/rules.d/81-nicback.rules <<RULES
SUBSYSTEM!="net", GOTO="nicback_end"
DEVPATH=="/devices/virtual/*", GOTO="nicback_end"
ACTION=="remove", RUN+="$NODE /usr/local/lib/nicback/nicback-udev.cjs", GOTO="nicback_end"
ACTION!="add|move", GOTO="nicback_end"
IMPORT{program}="$NODE $PWD/test/vm/guest/print-name.cjs"
ENV{NICBACK_NAME}=="?*", NAME="\$env{NICBACK_NAME}"
LABEL="nicback_end"
RULES
udevadm control --reload

result name-rule "{\"watch\": $(back_as_dev)}"

ip netns add x2
ip link set ens3 netns x2; ip link set ens4 netns x2
ip -n x2 link set ens3 name t3; ip -n x2 link set ens4 name ens3; ip -n x2 link set t3 name ens4
w=$($WATCH --timeout 8000 --expect $M3=ens3 --expect $M4=ens4 -- ip netns del x2)
udevadm settle
result name-swap "{\"watch\": $w, \"after\": $(json_str "$(snapshot)")}"
write_results
