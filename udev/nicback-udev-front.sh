# nicback's udev front, run by 81-nicback.rules as: sh THIS NODE
# (no #!: udev runs it with /bin/sh, and the package gives it mode 0644).
#
# Many NICs leave or come back at once when a pod with SR-IOV VFs starts or
# dies, and udevd runs this once per NIC, in parallel. One process leads: it
# holds the leader lock and does the work of every event, again and again
# while marks keep coming. The others exit 0 without starting node. Every
# event first leaves its mark, named by its SEQNUM: udev-pending.SEQNUM (a
# NIC may be back: an add or move) or udev-departure.SEQNUM (a NIC left: its
# name, ifindex and DEVPATH, the only moment they can be read); then, unless
# the leader's note says a leader runs, it tries the lock once. No event is
# lost: a try fails only while a leader holds the lock, the note is there
# only while one does, and a leader looks for marks after it removes its
# note and lets go of the lock, so it sees every mark left before. The
# leader knows its own SEQNUM: its own add alone, for a NIC that needs
# nothing, costs no restore run. Builtins only but for that one flock, and
# none while a leader runs: under emulation each exec costs ~0.04-0.1 s.
#
# A move into any other name than a devN or temporary one (a rename on the
# host: an admin's, udev's, nicback's own, or a mover's just before it takes
# the NIC) cannot bring a NIC back: it only leaves udev-rename.SEQNUM ("OLD
# NEW IFINDEX DEVPATH"; its mtime is when) and exits, without node or lock.
# A departure soon after it is part of the same hand-over: the NIC leaves
# with the name it had before (plan/departure.ts).
node=$1
js=${0%/*}/../nicback-udev.cjs
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
case $ACTION in
add | move | remove) ;;
*) exec "$node" "$js" ;;
esac
state=${NICBACK_STATE_DIR:-/var/lib/nicback}
lock=$state/udev-leader.lock
# Nothing recorded: nothing to give back.
if [ ! -d "$state" ]; then
  [ "$ACTION" = remove ] && exec "$node" "$js"
  exit 0
fi
# The front refuses what node refuses (paths.ts checkPrivateDir: a symlink,
# not root's, writable by group or others) and lets node say why: it writes
# nothing there and execs node. Link and owner are tested here. The mode
# cannot be read in the shell without starting a process, so node vouches
# for it: each time nicback finds the directory private it gives the lock
# the sticky bit (meaningless on a file; a root-owned file carrying it can
# only be root's doing, and nicback takes it away, removing the lock, when
# it finds the directory writable by others). A directory not vouched for
# (not yet, or no more): node takes the event and checks it. Builtins only.
if [ -L "$state" ] || [ ! -O "$state" ]; then exec "$node" "$js"; fi
if [ -L "$lock" ] || [ ! -f "$lock" ] || [ ! -O "$lock" ] || [ ! -k "$lock" ]; then
  # a rename noted nowhere is only a note lost; node would restore it
  [ "$ACTION" = move ] && case $INTERFACE in dev[0-9]* | nbt[0-9]* | nbtmp[0-9]*) ;; *) exit 0 ;; esac
  exec "$node" "$js"
fi
# not from udev (no SEQNUM to name a mark by): node takes the event alone
case $SEQNUM in '' | *[!0-9]*) exec "$node" "$js" ;; esac
umask 077
# noclobber: > never opens a regular file (or a symlink to one) that is
# already there and creates with O_EXCL, never through a link; but it does
# open an existing FIFO or device, which blocks: so nothing may be there.
set -C
if [ "$ACTION" = move ]; then
  case $INTERFACE in
  dev[0-9]* | nbt[0-9]* | nbtmp[0-9]*) ;;
  *)
    mark=$state/udev-rename.$SEQNUM
    [ -e "$mark" ] || [ -L "$mark" ] && exit 0
    { printf '%s %s %s %s\n' "${DEVPATH_OLD##*/}" "$INTERFACE" "${IFINDEX:--}" "$DEVPATH" >"$mark"; } 2>/dev/null
    exit 0
    ;;
  esac
fi
# The lock, checked above, is opened read-only (flock needs no more): had a
# link or a FIFO been swapped in since, the open creates and writes nothing,
# and node takes the descriptor only if it is this very file, root's and
# private (leader.ts leadershipFromEnv).
{ command exec 9<"$lock"; } 2>/dev/null || exec "$node" "$js"
if [ "$ACTION" = remove ]; then mark=$state/udev-departure.$SEQNUM; else mark=$state/udev-pending.$SEQNUM; fi
if [ -e "$mark" ] || [ -L "$mark" ]; then exec "$node" "$js"; fi
if [ "$ACTION" = remove ]; then
  { printf '%s %s %s\n' "$INTERFACE" "${IFINDEX:--}" "$DEVPATH" >"$mark"; } 2>/dev/null || exec "$node" "$js"
else
  { : >"$mark"; } 2>/dev/null || exec "$node" "$js"
fi
# A leader runs (its note udev-leading.PID names a live process by its start
# time, field 22 of /proc/PID/stat): it looks for marks after it removes its
# note and lets go of the lock, so it takes this one. No flock exec (~0.04 s
# under emulation, per event of a storm). A note of a leader that died (no
# such process, a zombie, the PID reused) is passed over. (leader.ts)
for note in "$state"/udev-leading.*; do
  [ -f "$note" ] && [ ! -L "$note" ] || continue
  pid=${note##*.}
  case $pid in '' | *[!0-9]*) continue ;; esac
  { read -r born <"$note" && read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
  set -f
  # shellcheck disable=SC2086 # fields of numbers, split on purpose
  set -- ${stat##*") "}
  [ $# -ge 20 ] && [ "$1" != Z ] && [ "$1" != X ] && [ "${20}" = "$born" ] && exit 0
done
NICBACK_LEADER_FD=9
export NICBACK_LEADER_FD
# The leader does the work of every event of a storm while udevd's workers
# and the programs of other rules (systemd-sysctl, one per NIC) still run:
# ahead of them. 21 VFs under emulation (issue 21, docs/measurements.md):
# its run began 0.6-1.6 s into its process at nice -10, 2.3-4.6 s at
# udevd's priority; the storm's end differed by less than the noise.
if flock -n 9; then
  # this process's note (node keeps the PID); node writes it if this fails
  # shellcheck disable=SC2086 # fields of numbers, split on purpose
  { read -r stat </proc/$$/stat && set -f && set -- ${stat##*") "} && [ $# -ge 20 ] && printf '%s\n' "${20}" >"$state/udev-leading.$$"; } 2>/dev/null
  command -v nice >/dev/null && exec nice -n -10 "$node" "$js"
  exec "$node" "$js"
fi
exit 0
