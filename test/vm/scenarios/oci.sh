#!/bin/bash
# Issue 4 scenarios, OCI hook path only: nicback installed with --docker, its
# udev rule taken out again, so only the hooks can give a NIC its name back.
#   runc     runc run on a bundle whose config.json carries nicback's hooks
#            and io.nicback.nics=ens3:eth0; runc delete --force
#   docker   docker run --runtime nicback -e NICBACK_NICS=ens3:eth0; docker rm -f
#   cost     docker run --rm of a container without NICs, runc vs nicback
#   podman   (when podman runs here) podman run --annotation
#            io.nicback.nics=ens4:eth0 with the hooks.d files; podman rm -f
# Results: /out/result.json, one key per scenario.
set -u
. test/vm/guest/lib.sh
NBI=/usr/local/sbin/nicback # the installed wrapper, what the hooks call

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
name_of() { # name_of MAC: the host device that has it, or nothing
  local d a
  for d in /sys/class/net/*; do
    read -r a 2>/dev/null <"$d/address" || continue
    [ "$a" = "$1" ] && { echo "${d##*/}"; return 0; }
  done
  return 1
}
inside_name() { # inside_name PID MAC: the name the device with MAC has in PID's netns
  nsenter -t "$1" -n ip -j link show | node -e '
    const l = JSON.parse(require("fs").readFileSync(0, "utf8")).find((x) => x.address === process.argv[1])
    process.stdout.write(l ? l.ifname : "")' "$2"
}
away_of() { # away_of NAME: the registry entry's away, as JSON
  $NB status --json | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8")).find((x) => x.recordedName === process.argv[1])
    process.stdout.write(JSON.stringify(r ? r.away : null))' "$1"
}
up_of() { ip -j link show dev "$1" 2>/dev/null | grep -q '"UP"' && echo true || echo false; }
mtu_of() { cat "/sys/class/net/$1/mtu" 2>/dev/null || echo null; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

busybox syslogd -O /out/syslog.log
$NB install --docker >/out/install.log 2>&1 || { echo "install failed"; cat /out/install.log; }
# Only the hooks may bring a NIC home here.
rm -f /etc/udev/rules.d/81-nicback.rules
udevadm control --reload
for _ in $(seq 100); do docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q nicback && break; sleep 0.1; done
RUNTIMES=$(docker info --format '{{json .Runtimes}}')
BEFORE=$(snapshot)
result install "{\"log\": $(json_str "$(cat /out/install.log)"), \"daemonJson\": $(cat /etc/docker/daemon.json), \"runtimes\": $RUNTIMES, \"rulePresent\": $([ -e /etc/udev/rules.d/81-nicback.rules ] && echo true || echo false)}"

# ------------------------------------------------------------------ runc
B=/tmp/bundle
mkdir -p $B/rootfs
docker export "$(docker create nbtest sh)" | tar -C $B/rootfs -x
(cd $B && runc spec)
node -e '
  const fs = require("fs"), p = process.argv[1], c = JSON.parse(fs.readFileSync(p, "utf8"))
  c.process.terminal = false
  c.process.args = ["sleep", "1000"]
  c.annotations = { "io.nicback.nics": "ens3:eth0" }
  const hook = (stage) => ({ path: process.argv[2], args: ["nicback", "hook", "--stage", stage] })
  c.hooks = { createRuntime: [hook("createRuntime")], poststop: [hook("poststop")] }
  fs.writeFileSync(p, JSON.stringify(c, null, 2))' $B/config.json $NBI
ip link set ens3 mtu 1400 up # what the hooks must give back
t0=$(now_ms)
runc run -d --bundle $B r1 </dev/null >/out/runc-run.log 2>&1
rc_run=$?
t_run=$(($(now_ms) - t0))
pid=$(runc state r1 2>/dev/null | node -e 'try { process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).pid)) } catch {}')
inside=$(inside_name "${pid:-0}" $M3)
host_during=$(name_of $M3 || echo -)
away=$(away_of ens3)
t0=$(now_ms)
runc delete --force r1 >/out/runc-delete.log 2>&1
rc_del=$?
t_del=$(($(now_ms) - t0))
after=$(name_of $M3 || echo -)
result runc "{\"runRc\": $rc_run, \"runMs\": $t_run, \"inside\": \"$inside\", \"hostDuring\": \"$host_during\", \"away\": $away,
  \"deleteRc\": $rc_del, \"deleteMs\": $t_del, \"after\": \"$after\", \"upAfter\": $(up_of ens3), \"mtuAfter\": $(mtu_of ens3),
  \"log\": $(json_str "$(cat /out/runc-run.log /out/runc-delete.log)")}"

# ---------------------------------------------------------------- docker
t0=$(now_ms)
cid=$(docker run -d --runtime nicback --network none -e NICBACK_NICS=ens3:eth0 --name c1 nbtest sleep 1000 2>/out/docker-run.err)
rc_run=$?
t_run=$(($(now_ms) - t0))
pid=$(pid_of c1 2>/dev/null || echo 0)
inside=$(inside_name "$pid" $M3)
inside_ip=$(docker exec c1 ip -o link show eth0 2>&1)
host_during=$(name_of $M3 || echo -)
away=$(away_of ens3)
t0=$(now_ms)
docker rm -f c1 >/dev/null 2>/out/docker-rm.err
rc_rm=$?
t_rm=$(now_ms)
after=$(name_of $M3 || echo -) # read at once: no waiting after docker rm returns
# when it got there, for the record (poll up to 5 s)
until [ "$(name_of $M3)" = ens3 ] || [ $(($(now_ms) - t0)) -gt 5000 ]; do sleep 0.01; done
t_home=$(($(now_ms) - t0))
result docker "{\"runRc\": $rc_run, \"runMs\": $t_run, \"containerId\": \"$cid\", \"inside\": \"$inside\", \"insideIp\": $(json_str "$inside_ip"),
  \"hostDuring\": \"$host_during\", \"away\": $away, \"rmRc\": $rc_rm, \"rmMs\": $((t_rm - t0)), \"after\": \"$after\", \"homeMs\": $t_home,
  \"upAfter\": $(up_of ens3), \"mtuAfter\": $(mtu_of ens3),
  \"err\": $(json_str "$(cat /out/docker-run.err /out/docker-rm.err)"), \"status\": $($NB status --json)}"

# ------------------------------------------------------------------ cost
# A container without NICs: what the shim costs a whole docker run --rm.
cost() { # cost RUNTIME: ms of one docker run --rm
  local t0; t0=$(now_ms)
  docker run --rm --runtime "$1" --network none nbtest true >/dev/null 2>&1
  echo $(($(now_ms) - t0))
}
if ! grep -qw nicback.quick=1 /proc/cmdline; then
  cost runc >/dev/null; cost nicback >/dev/null # warm up
  runc_ms=$(for _ in 1 2 3; do cost runc; done | median)
  nicback_ms=$(for _ in 1 2 3; do cost nicback; done | median)
  result cost "{\"runcMs\": $runc_ms, \"nicbackMs\": $nicback_ms}"
fi

# ---------------------------------------------------------------- podman
# Its own storage: the guest's / is the machine's, and a podman run there
# (another driver in its database) must not decide this one.
PODMAN="podman --root /var/lib/nbt-podman --runroot /run/nbt-podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend file"
if command -v podman >/dev/null; then
  img=$(mktemp -d)
  mkdir -p "$img/bin" "$img/proc" "$img/sys" "$img/dev" "$img/etc" "$img/tmp"
  cp /bin/busybox "$img/bin/busybox"
  for c in sh sleep ip cat; do ln -s busybox "$img/bin/$c"; done
  tar -C "$img" -c . | $PODMAN import -q - nbtest >/out/podman.log 2>&1
  ip link set ens4 mtu 1400 up
  t0=$(now_ms)
  $PODMAN --log-level debug run -d --network none --annotation io.nicback.nics=ens4:eth0 --name p1 nbtest sleep 1000 >/out/podman-run.log 2>&1
  rc_run=$?
  t_run=$(($(now_ms) - t0))
  pid=$($PODMAN inspect -f '{{.State.Pid}}' p1 2>>/out/podman.log || echo 0)
  inside=$(inside_name "${pid:-0}" $M4)
  away=$(away_of ens4)
  t0=$(now_ms)
  $PODMAN --log-level debug rm -f -t 0 p1 >/out/podman-rm.log 2>&1
  rc_rm=$?
  t_rm=$(($(now_ms) - t0))
  after=$(name_of $M4 || echo -)
  until [ "$(name_of $M4)" = ens4 ] || [ $(($(now_ms) - t0)) -gt 5000 ]; do sleep 0.01; done
  t_home=$(($(now_ms) - t0))
  result podman "{\"version\": $(json_str "$(podman --version)"), \"runRc\": $rc_run, \"runMs\": $t_run, \"inside\": \"$inside\", \"away\": $away,
    \"rmRc\": $rc_rm, \"rmMs\": $t_rm, \"after\": \"$after\", \"homeMs\": $t_home, \"upAfter\": $(up_of ens4), \"mtuAfter\": $(mtu_of ens4), \"log\": $(json_str "$(cat /out/podman.log; grep -i 'hook' /out/podman-run.log /out/podman-rm.log | tail -30)")}"
fi

udevadm settle
AFTER=$(snapshot)
result end "{\"untouched\": $([ "$AFTER" = "$BEFORE" ] && echo true || echo false), \"after\": $(json_str "$AFTER"), \"syslog\": $(json_str "$(grep nicback /out/syslog.log | tail -40)")}"
write_results
