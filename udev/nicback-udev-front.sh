# nicback's udev front, run by 81-nicback.rules as: sh THIS NODE
# (no #!: udev runs it with /bin/sh, and the package gives it mode 0644).
#
# Many NICs leave or come back at once when a pod with SR-IOV VFs starts or
# dies, and udevd runs this once per NIC, in parallel. One process leads: it
# holds the leader lock and does the work of every event, again and again
# while marks keep coming. The others exit 0 without starting node. Every
# event first leaves its mark, named by its SEQNUM: udev-pending.SEQNUM (a
# NIC may be back: an add or move) or udev-departure.SEQNUM (a NIC left: its
# name, ifindex and DEVPATH, the only moment they can be read); then it tries
# the lock once. No event is lost: a try fails only while a leader holds the
# lock, and a leader looks for marks after it lets go of it, so it sees every
# mark left before that try. The leader knows its own SEQNUM: its own add
# alone, for a NIC that needs nothing, costs no restore run. One flock per
# event: under emulation each exec costs ~0.1 s.
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
# Nothing recorded: nothing to give back. A state directory that is a
# symlink or not root's is node's to refuse, loudly.
if [ ! -d "$state" ]; then
  [ "$ACTION" = remove ] && exec "$node" "$js"
  exit 0
fi
if [ -L "$state" ] || [ ! -O "$state" ]; then exec "$node" "$js"; fi
# not from udev (no SEQNUM to name a mark by): node takes the event alone
case $SEQNUM in '' | *[!0-9]*) exec "$node" "$js" ;; esac
umask 077
if [ "$ACTION" = move ]; then
  case $INTERFACE in
  dev[0-9]* | nbt[0-9]* | nbtmp[0-9]*) ;;
  *)
    set -C
    { printf '%s %s %s %s\n' "${DEVPATH_OLD##*/}" "$INTERFACE" "${IFINDEX:--}" "$DEVPATH" >"$state/udev-rename.$SEQNUM"; } 2>/dev/null
    exit 0
    ;;
  esac
fi
# noclobber: > never opens a file (or a symlink) that is already there;
# >> creates without truncating or writing.
set -C
{ command exec 9>>"$state/udev-leader.lock"; } 2>/dev/null || exec "$node" "$js"
if [ "$ACTION" = remove ]; then
  { printf '%s %s %s\n' "$INTERFACE" "${IFINDEX:--}" "$DEVPATH" >"$state/udev-departure.$SEQNUM"; } 2>/dev/null || exec "$node" "$js"
else
  { : >"$state/udev-pending.$SEQNUM"; } 2>/dev/null || exec "$node" "$js"
fi
NICBACK_LEADER_FD=9
export NICBACK_LEADER_FD
# The leader does the work of every event of a storm while udevd's workers
# and the programs of other rules (systemd-sysctl, one per NIC) still run:
# ahead of them (21 VFs under emulation: its start went from ~4 s to ~2 s).
if flock -n 9; then
  command -v nice >/dev/null && exec nice -n -10 "$node" "$js"
  exec "$node" "$js"
fi
exit 0
