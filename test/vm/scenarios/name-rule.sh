#!/bin/bash
# The NAME= alternative (issue 3 asks to measure both): nicback's RUN rule is
# replaced by one that computes the recorded name in IMPORT{program} and lets
# udev rename through NAME=. Same return as the udev suite's plain-netns case.
set -u
. test/vm/guest/lib.sh
NODE=$(command -v node)
$NB install > /out/install.log 2>&1
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
BEFORE=$(snapshot)
ip netns add x1
ip link set ens3 netns x1
ip -n x1 link set ens3 name ens4
w=$($WATCH --timeout 5000 --expect $M3=ens3 -- ip netns del x1)
udevadm settle
result name-rule "{\"watch\": $w, \"links\": $(ip -j link), \"after\": $(json_str "$(snapshot)")}"
write_results
