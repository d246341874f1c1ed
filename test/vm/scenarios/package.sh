#!/bin/bash
# Issue 12: the Debian package on a Debian 12 whose node is Debian's own 18.
# The test prepends DEB=<the .deb>, NODE18=<deploy/debian/node18.sh's
# cache> and IMAGE=<deploy/image/build.sh's archive>. Steps: node 18
# replaces the shared node (dpkg -i, in the guest's overlay only); file
# list; apt-get install ./nicback_*.deb; the seed's Docker scenario (ens3
# renamed ens4 inside, docker rm -f) must bring ens3 back; apt-get purge nicback; file list again (must be the same) and the
# same scenario must now end as the kernel leaves it (devN).
# Issue 20: a NIC away before the install (ens6) is written down by
# postinst and comes home under its policy name (result dayOne).
# Issue 18: the admin disables the boot unit; "apt-get remove" masks it and
# a reinstall leaves it disabled (remove used to forget it: enabled again).
# At the end, the image's archive is loaded by Docker, and the package
# installed in a chroot (an image build) records no NIC (postinst used to
# record the build host's).
# Issue 17, item 13: before the file list, a daemon.json of odd layout (an
# int64 extreme among its numbers, no final newline) that dockerd reads;
# after the install, "nicback install --docker" adds the shim (dockerd
# reloads and lists runtime "nicback"), and the installed prerm's "upgrade"
# keeps it; the purge must take it away: daemon.json byte for byte as before
# (cmp), no wrapper, dockerd no longer lists the runtime.
# Results: /out/result.json.
set -u
. test/vm/guest/lib.sh

busybox syslogd -O /out/syslog.log

ms() { echo $(( ${EPOCHREALTIME/./} / 1000 )); }
# What nicback could leave behind: everything dpkg, udev, systemd, OCI hooks
# and nicback itself write to, less logs, caches and dpkg's/apt's own state.
files() {
  find /etc /var /usr/lib/udev /usr/lib/systemd /usr/libexec /usr/sbin /usr/bin /usr/local \
    /usr/share/containers /usr/share/man/man8 /usr/share/doc/nicback /usr/share/lintian/overrides -xdev \
    \( -path /var/log -o -path /var/cache -o -path /var/tmp -o -path /var/lib/apt -o -path /var/lib/docker \
    -o -path /var/lib/containerd \) -prune -o -print 2>/dev/null |
    grep -vE '^/var/lib/dpkg/(status|status-old|available|available-old|lock[^/]*|triggers|updates)(/|$)' |
    LC_ALL=C sort
}
sum_of() { if [ -e "$1" ]; then sha256sum <"$1" | cut -c1-16; else echo absent; fi; }
start() { docker run -d --network none --name "$1" nbtest sleep 1000 > /dev/null; }
give() { # give CONTAINER DEV NAME_INSIDE
  local p; p=$(pid_of "$1")
  ip link set "$2" netns "$p" && nsenter -t "$p" -n ip link set "$2" name "$3"
}
name_of() { for d in /sys/class/net/*; do [ "$(cat "$d/address")" = "$1" ] && basename "$d"; done; }

# A fresh Debian 12: no nicback of any earlier run on the shared root, and
# Debian's own node 18 as /usr/bin/node: the files of Debian's nodejs 18
# packages copied over the machine's node 20 (dpkg -i of them takes minutes
# under emulation; dpkg's database still says nodejs 20, which satisfies
# the package's "nodejs (>= 18)" just as 18 does).
rm -rf /var/lib/nicback /usr/local/lib/nicback /usr/local/sbin/nicback /usr/local/sbin/nicback-runtime \
  /etc/udev/rules.d/81-nicback.rules /etc/systemd/system/nicback-record.service \
  /etc/systemd/system/multi-user.target.wants/nicback-record.service
# man-db's trigger rebuilds its index on every dpkg run (a minute here):
# without this file it skips that. Only the guest's overlay changes.
rm -f /var/lib/man-db/auto-update
t=$(ms)
{ cp -a "$NODE18"/root/usr/. /usr/ && ldconfig; } > /out/node18.log 2>&1
result node18 "{\"rc\": $?, \"ms\": $(( $(ms) - t )), \"version\": \"$(node -v)\", \"log\": $(json_str "$(tail -n 5 /out/node18.log)")}"
node_ms() { local t0=${EPOCHREALTIME/./}; node -e 0; echo $(( (${EPOCHREALTIME/./} - t0) / 1000 )); }
result nodeMs "$(for _ in 1 2 3; do node_ms; done | sort -n | sed -n 2p)"

# Valid for dockerd 20.10 (it reads it on each reload), odd for a JSON
# writer: 2^63-1 (a JSON.parse round trip would write ...808), spaces before
# colons and commas, a tab, \u escapes, no final newline.
mkdir -p /etc/docker
printf '{"max-concurrent-downloads":9223372036854775807 ,\n\t"debug" :false,\n   "runtimes":{ "runc-alt" : {"path":"runc"}},\n"labels":["nicback.test=\\u00e9t\\u00e9"]   }' > /etc/docker/daemon.json
cp -p /etc/docker/daemon.json /tmp/daemon.before
kill -HUP "$(cat /run/docker.pid)"
# runtimes has|lacks NAME: dockerd's runtimes (GET /info: no docker CLI
# start) once they have (lack) NAME, or after 10 s: a reload is asynchronous.
runtimes() {
  local r= i
  for i in $(seq 100); do
    r=$(curl -sf --unix-socket /run/docker.sock http://docker/info | jq -c '.Runtimes | keys')
    if [[ "$r" == *\"$2\"* ]]; then [ "$1" = has ] && break
    elif [ -n "$r" ] && [ "$1" = lacks ]; then break; fi
    sleep 0.1
  done
  echo "${r:-null}"
}
RUNTIMES_BEFORE=$(runtimes has runc-alt)

files > /tmp/files.before
DAEMON_BEFORE=$(sum_of /etc/docker/daemon.json)
SNAP_BEFORE=$(snapshot)

# Issue 20, day one: ens6 leaves before the package is installed (renamed
# inside to a host name: back as devN); postinst's "nicback record" writes it
# down, and it comes home under the name udev's policy gives it.
ip netns add pkg1
ip link set ens6 netns pkg1 && ip -n pkg1 link set ens6 name ens3

# apt-get install ./nicback_*.deb: offline, every dependency is installed.
t=$(ms)
apt-get -o DPkg::Options::=--force-unsafe-io install -y --no-install-recommends "$DEB" > /out/install.log 2>&1
rc=$?
result install "{\"rc\": $rc, \"ms\": $(( $(ms) - t )), \"log\": $(json_str "$(tail -n 15 /out/install.log)")}"
wants=/etc/systemd/system/multi-user.target.wants/nicback-record.service
result installed "{
  \"bin\": \"$(command -v nicback)\", \"version\": $(json_str "$(nicback --version 2>&1)"),
  \"rule\": $([ -f /usr/lib/udev/rules.d/81-nicback.rules ] && echo true || echo false),
  \"ruleRun\": $(json_str "$(grep '^RUN' /usr/lib/udev/rules.d/81-nicback.rules 2>&1)"),
  \"unitEnabled\": \"$(readlink $wants)\",
  \"man\": $([ -f /usr/share/man/man8/nicback.8.gz ] && echo true || echo false),
  \"hooks\": $(json_str "$(ls /usr/share/containers/oci/hooks.d 2>&1)"),
  \"daemonJson\": \"$(sum_of /etc/docker/daemon.json)\",
  \"status\": $(nicback status --json 2>/dev/null || echo null)
}"
DPKG_FILES=$(dpkg-query -L nicback 2>/dev/null)
w=$($WATCH --timeout 120000 --expect $M6=ens6 -- ip netns del pkg1)
udevadm settle
result dayOne "{\"watch\": $w, \"status\": $(nicback status --json 2>/dev/null || echo null), \"registry\": $(cat /var/lib/nicback/registry.json 2>/dev/null || echo null)}"

# The admin disables the unit; remove, then install again: still disabled.
unit_state() { echo "\"wants\": \"$(readlink $wants)\", \"mask\": \"$(readlink /etc/systemd/system/nicback-record.service)\""; }
systemctl disable nicback-record.service > /out/disable.log 2>&1
rc_disable=$?
DISABLED=$(unit_state)
t=$(ms)
apt-get -o DPkg::Options::=--force-unsafe-io remove -y nicback > /out/remove.log 2>&1
rc_remove=$?
remove_ms=$(( $(ms) - t ))
REMOVED=$(unit_state)
REGISTRY_KEPT=$([ -f /var/lib/nicback/registry.json ] && echo true || echo false)
t=$(ms)
apt-get -o DPkg::Options::=--force-unsafe-io install -y --no-install-recommends "$DEB" > /out/reinstall.log 2>&1
rc_reinstall=$?
result unit "{
  \"disableRc\": $rc_disable, \"disableLog\": $(json_str "$(cat /out/disable.log)"), \"disabled\": {$DISABLED},
  \"removeRc\": $rc_remove, \"removeMs\": $remove_ms, \"removeLog\": $(json_str "$(tail -n 8 /out/remove.log)"), \"removed\": {$REMOVED}, \"registryKept\": $REGISTRY_KEPT,
  \"reinstallRc\": $rc_reinstall, \"reinstallMs\": $(( $(ms) - t )), \"reinstallLog\": $(json_str "$(tail -n 8 /out/reinstall.log)"), \"reinstalled\": {$(unit_state)}
}"

# Docker's shim, added by the packaged nicback; an upgrade's prerm keeps it.
t=$(ms)
nicback install --docker > /out/shim.log 2>&1
rc=$?
shim_ms=$(( $(ms) - t ))
SHIM_SUM=$(sum_of /etc/docker/daemon.json)
result shim "{\"rc\": $rc, \"ms\": $shim_ms, \"log\": $(json_str "$(cat /out/shim.log)"),
  \"daemonJson\": $(json_str "$(cat /etc/docker/daemon.json)"),
  \"wrapper\": $([ -x /usr/local/sbin/nicback-runtime ] && echo true || echo false),
  \"manifest\": $(cat /var/lib/nicback/install.json 2>/dev/null || echo null),
  \"runtimes\": $(runtimes has nicback)}"
/var/lib/dpkg/info/nicback.prerm upgrade 0.1.0-1 > /out/prerm-upgrade.log 2>&1
rc=$?
result upgrade "{\"rc\": $rc, \"log\": $(json_str "$(cat /out/prerm-upgrade.log)"),
  \"daemonJsonKept\": $([ "$(sum_of /etc/docker/daemon.json)" = "$SHIM_SUM" ] && echo true || echo false),
  \"wrapper\": $([ -x /usr/local/sbin/nicback-runtime ] && echo true || echo false)}"

# The seed, with Docker: ens3 becomes ens4 inside (ens4 exists on the host).
start c1; give c1 ens3 ens4
w=$($WATCH --timeout 180000 --expect $M3=ens3 -- docker rm -f c1)
udevadm settle
result seed "{\"watch\": $w, \"status\": $(nicback status --json 2>/dev/null || echo null), \"untouched\": $([ "$(snapshot)" = "$SNAP_BEFORE" ] && echo true || echo false), \"after\": $(json_str "$(snapshot)")}"

# apt-get purge nicback: nothing of nicback's is left.
t=$(ms)
apt-get -o DPkg::Options::=--force-unsafe-io purge -y nicback > /out/purge.log 2>&1
rc=$?
result purge "{\"rc\": $rc, \"ms\": $(( $(ms) - t )), \"log\": $(json_str "$(tail -n 10 /out/purge.log)")}"
files > /tmp/files.after
left=$(for f in $DPKG_FILES; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done)
result files "{
  \"count\": $(wc -l < /tmp/files.before),
  \"added\": $(json_str "$(comm -13 /tmp/files.before /tmp/files.after)"),
  \"removed\": $(json_str "$(comm -23 /tmp/files.before /tmp/files.after)"),
  \"packageFilesLeft\": $(json_str "$left"),
  \"packageFiles\": $(echo "$DPKG_FILES" | grep -c .),
  \"daemonJson\": [\"$DAEMON_BEFORE\", \"$(sum_of /etc/docker/daemon.json)\"]
}"
result shimGone "{
  \"cmp\": $(json_str "$(cmp /tmp/daemon.before /etc/docker/daemon.json 2>&1 && echo same)"),
  \"daemonJson\": $(json_str "$(cat /etc/docker/daemon.json)"),
  \"wrapper\": $([ -e /usr/local/sbin/nicback-runtime ] && echo true || echo false),
  \"runtimesBefore\": $RUNTIMES_BEFORE,
  \"runtimes\": $(runtimes lacks nicback),
  \"dockerdLog\": $(json_str "$(grep -i 'reload\|error' /out/dockerd.log | tail -n 8)")
}"

# The kernel's behaviour again: the same NIC stays devN.
start c1; give c1 ens3 ens4
w=$($WATCH --timeout 60000 --expect $M3=dev3 -- docker rm -f c1)
udevadm settle
sleep 1
result kernel "{\"watch\": $w, \"final\": \"$(name_of $M3)\"}"

# The image (deploy/image/build.sh, amd64), as Docker 20.10 loads it: one
# image, nicback:0.1.0, with its labels, which runs nicback.
t=$(ms)
docker load -i "$IMAGE" > /out/load.log 2>&1
rc=$?
load_ms=$(( $(ms) - t ))
result image "{\"rc\": $rc, \"ms\": $load_ms, \"log\": $(json_str "$(cat /out/load.log)"),
  \"inspect\": $(docker image inspect nicback:0.1.0 --format '{{json .}}' 2>/dev/null || echo null),
  \"version\": $(json_str "$(docker run --rm --network none nicback:0.1.0 --version 2>&1)")}"

# An image build: the package installed in a chroot (a root filesystem of
# its own, an overlay of this one, with /proc, /sys and /dev as debootstrap
# and mmdebstrap give it) records no NIC and says so; the unit is enabled
# there, to record the NICs of the machine the image boots on.
C=/tmp/chroot
mkdir -p $C /tmp/chroot-rw/upper /tmp/chroot-rw/work
mount -t overlay overlay -o lowerdir=/,upperdir=/tmp/chroot-rw/upper,workdir=/tmp/chroot-rw/work $C
for d in proc sys dev; do mount --rbind /$d $C/$d; done
t=$(ms)
chroot $C dpkg --force-unsafe-io -i "$DEB" > /out/chroot.log 2>&1
rc=$?
result chroot "{\"rc\": $rc, \"ms\": $(( $(ms) - t )), \"log\": $(json_str "$(cat /out/chroot.log)"),
  \"registry\": $(cat $C/var/lib/nicback/registry.json 2>/dev/null || echo null),
  \"unitEnabled\": \"$(readlink $C$wants)\",
  \"status\": $(chroot $C nicback status --json 2>/dev/null || echo null),
  \"hostRegistry\": $([ -e /var/lib/nicback ] && echo true || echo false)}"

result syslog "$(json_str "$(cat /out/syslog.log 2>/dev/null)")"
write_results
