#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, one libFuzzer
# process per target (no -jobs), two targets at a time (PARALLEL=2).
#
#   fuzz/run.sh [SECONDS] [TARGET...]      default: 600 seconds, all targets
#
# Needs cargo-fuzz (installed if missing). cargo-fuzz wants nightly
# instrumentation flags; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them.
# The sanitizer is off by default (coroner forbids unsafe code; panics,
# overflows, hangs and memory blow-ups are what we look for): set
# SANITIZER=address to turn it on. Seeds are read from fuzz/corpus/<target>
# (committed, small); what the fuzzer learns goes to fuzz/target/corpus/<target>
# (ignored); crashes land in fuzz/artifacts/<target>/. Each target's last
# libFuzzer lines (executions, coverage) are in fuzz/target/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-600}"
shift || true
all=(log_line log_stream json_line metric rules template archive)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all[@]}")
parallel="${PARALLEL:-2}"
sanitizer="${SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1

cargo fuzz build -s "$sanitizer"
mkdir -p fuzz/target/logs

run_one() {
    local t="$1"
    mkdir -p "fuzz/target/corpus/$t"
    local rc=0
    cargo fuzz run -s "$sanitizer" "$t" "fuzz/target/corpus/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 \
        >"fuzz/target/logs/$t.log" 2>&1 || rc=$?
    local execs
    execs=$(grep -E '^stat::number_of_executed_units' "fuzz/target/logs/$t.log" | awk '{print $2}' || true)
    echo "$t: exit $rc, ${execs:-?} executions in ${secs}s"
    return $rc
}

status=0
running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$parallel" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
[ "$status" -ne 0 ] && echo "a target failed: see fuzz/artifacts/ and fuzz/target/logs/" >&2
exit "$status"
