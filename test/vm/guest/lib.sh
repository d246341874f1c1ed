# Helpers for guest scenario scripts (sourced; bash). The guest is a qemu VM
# booted by test/vm/harness.ts; cwd is the checkout, /out is shared back.
NB="node $PWD/dist/nicback.mjs"
WATCH="node $PWD/test/vm/guest/watch.mjs"
M3=52:54:00:00:00:10 M4=52:54:00:00:00:11 M5=52:54:00:00:00:12 M6=52:54:00:00:00:13

# "mac=name" for every device of the host netns, sorted: what must not change.
snapshot() {
  for d in /sys/class/net/*; do echo "$(cat "$d/address")=$(basename "$d")"; done | sort
}

# Results: one JSON object per scenario, merged into /out/result.json at the end.
declare -A RESULTS
result() { RESULTS[$1]=$2; }
write_results() {
  {
    echo '{'
    local first=1
    for k in "${!RESULTS[@]}"; do
      [ $first = 1 ] || echo ','
      first=0
      printf '"%s": %s' "$k" "${RESULTS[$k]}"
    done
    echo '}'
  } > /out/result.json
}

# json_str TEXT: TEXT as a JSON string.
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }

pid_of() { docker inspect --format '{{.State.Pid}}' "$1"; }

# until_gone MAC: wait (max 5 s) until no host device has this MAC.
until_gone() {
  for _ in $(seq 500); do snapshot | grep -q "^$1=" || return 0; sleep 0.01; done
  return 1
}
