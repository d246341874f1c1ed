# nicback's udev front, run by 81-nicback.rules as: sh THIS NODE
# (no #!: udev runs it with /bin/sh, and the package gives it mode 0644).
#
# Many NICs leave or come back at once when a pod with SR-IOV VFs starts or
# dies, and udevd runs this once per NIC, in parallel. One process leads: it
# holds the leader lock and does the work of every event, again and again
# while marks keep coming. The others leave a mark and exit 0 without
# starting node. A mark is udev-pending (a NIC may be back: an add or move)
# or udev-departure.SEQNUM (a NIC left: its name, ifindex and DEVPATH, the
# only moment they can be read). No event is lost: a follower marks before
# its second try of the lock, and the leader looks for marks after it lets
# go of the lock, so a mark is either seen by the leader or made by a
# process that then leads.
node=$1
js=${0%/*}/../nicback-udev.cjs
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
case $ACTION in
add | move) ;;
remove) case $SEQNUM in '' | *[!0-9]*) exec "$node" "$js" ;; esac ;;
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
umask 077
# noclobber: > never opens a file (or a symlink) that is already there;
# >> creates without truncating or writing.
set -C
{ command exec 9>>"$state/udev-leader.lock"; } 2>/dev/null || exec "$node" "$js"
if [ "$ACTION" = remove ]; then
  { printf '%s %s %s\n' "$INTERFACE" "${IFINDEX:--}" "$DEVPATH" >"$state/udev-departure.$SEQNUM"; } 2>/dev/null || exec "$node" "$js"
fi
NICBACK_LEADER_FD=9
export NICBACK_LEADER_FD
flock -n 9 && exec "$node" "$js"
# a departure file is its own mark
[ "$ACTION" = remove ] || : >>"$state/udev-pending"
flock -n 9 && exec "$node" "$js"
exit 0
