# Guest side of `npm run bench:storms` (bench/vm/storms.vm.ts): issue 21's
# storm measured against udevd alone with the two interleaved, so that a
# drift over the boot cannot pass for nicback's cost. One boot, 3 igb PFs,
# 21 VFs; REPS pairs for the udev rule, then REPS for the agent:
#   alone<k>   nicback's rule taken out (the agent stopped): every VF in a
#              netns of its own, all deleted at once, timed until udevd is
#              done with the last VF; then named back by hand;
#   storm<k>   the same storm with the rule (the agent) in place, timed
#              until the last VF has its name;
#   single<k>  one VF, three times, before the pairs;
#   dstorm<k>  with DETACHED=1, the rule's storm once more in each pair with
#              the leader out of udevd's worker (the front starts it in the
#              background and exits; only where udevd kills nothing it
#              leaves, as here, with no systemd), the order of the two
#              storms alternating: what a leader outside udevd would gain
#              (docs/design.md, "Why RUN and not a service").
# Results: /out/result.json (times from the command's start, per VF MAC).
set -u
. test/vm/guest/lib.sh
. test/vm/guest/vfs.sh
REPS=${REPS:-5}
DETACHED=${DETACHED:-0}
busybox syslogd -O /out/syslog.log
vfs_up
alone() { # alone KEY
  scatter
  # shellcheck disable=SC2046
  result "$1" "{\"watch\": $($WATCH --timeout 60000 --udev-done $(expect_all) -- ip -all netns delete)}"
  home_by_hand
}
# what nicback logged since a mark: the rule's runs (syslog), the agent's
# (its stderr)
mark() { echo "$(($(wc -l </out/syslog.log) + 1)) $(($(cat /out/watch.log 2>/dev/null | wc -l) + 1))"; }
since() {
  { tail -n +"$1" /out/syslog.log; tail -n +"$2" /out/watch.log 2>/dev/null; } |
    grep -E 'step by step|waited|still has|led [0-9]+ rounds|File exists|planning again' | cut -c1-600
}
timed() { # timed KEY WATCH_ARGS...
  local key=$1 from w
  shift
  from=$(mark)
  w=$($WATCH --timeout 180000 "$@")
  udevadm settle
  sleep 0.2 # the runs' last lines reach syslogd and the agent's log
  # shellcheck disable=SC2086 # two numbers
  result "$key" "{\"watch\": $w, \"log\": $(json_str "$(since $from)")}"
}
singles() { # singles PREFIX
  local k
  for k in 1 2 3; do
    ip netns add one
    ip link set "${VFS[0]}" netns one
    ip -n one link set "${VFS[0]}" name "${PFS[0]}"
    udevadm settle
    timed "${1}single$k" --expect "${MAC[${VFS[0]}]}=${VFS[0]}" -- ip netns del one
  done
}

$NB install >/out/install.log 2>&1 || { echo "install failed"; cat /out/install.log; }
RULE=/etc/udev/rules.d/81-nicback.rules
rule() { # rule on|off
  if [ "$1" = off ]; then mv "$RULE" /run/81-nicback.rules.off; else mv /run/81-nicback.rules.off "$RULE"; fi
  udevadm control --reload
}
# the installed front, and a copy whose leader runs in the background
FRONT=$(sed -n 's#^RUN+="/bin/sh \([^ ]*\) .*#\1#p' "$RULE")
cp "$FRONT" /run/front.worker
sed 's#^  command -v nice >/dev/null && exec nice -n -10 "$node" "$js"$#  ( exec nice -n -10 "$node" "$js" ) </dev/null >/dev/null 2>\&1 \& exit 0#' /run/front.worker >/run/front.detached
if [ "$DETACHED" = 1 ] && cmp -s /run/front.worker /run/front.detached; then
  echo "bench: the front's leader line was not found: no detached variant"
  exit 1
fi
front() { cat "/run/front.$1" >"$FRONT"; }
# pairs PREFIX SWITCH: REPS pairs of a udevd-alone storm (SWITCH off: nicback
# taken out) and the same storm with nicback (SWITCH on); with DETACHED=1,
# the rule's storm with the leader in the background too
pairs() {
  local k f
  for k in $(seq "$REPS"); do
    "$2" off
    alone "${1}alone$k"
    "$2" on
    if [ "$DETACHED" != 1 ] || [ "$2" != rule ]; then
      scatter
      # shellcheck disable=SC2046
      timed "${1}storm$k" $(expect_all) -- ip -all netns delete
      continue
    fi
    for f in $([ $((k % 2)) = 1 ] && echo worker detached || echo detached worker); do
      front "$f"
      scatter
      # shellcheck disable=SC2046
      timed "$([ "$f" = worker ] && echo storm || echo dstorm)$k" $(expect_all) -- ip -all netns delete
    done
    front worker
  done
}
singles ""
pairs "" rule

rule off
agent() { # agent on|off
  if [ "$1" = off ]; then
    kill "$wpid"
    wait "$wpid"
    return
  fi
  node dist/nicback.mjs watch --metrics-addr 127.0.0.1:9465 --log-format json 2>>/out/watch.log &
  wpid=$!
  for _ in $(seq 600); do curl -sf http://127.0.0.1:9465/readyz >/dev/null && return; sleep 0.1; done
  echo "the agent was not ready in 60 s"
}
agent on
singles agent-
pairs agent- agent
agent off
write_results
