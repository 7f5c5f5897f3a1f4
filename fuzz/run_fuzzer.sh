#!/usr/bin/env bash
# The test fuzz.<name>.run of a GS_FUZZ build (scripts/test --fuzz):
#   run_fuzzer.sh FUZZER CORPUS_DIR WORK_DIR
# fuzzes FUZZER for $FUZZ_SECONDS (30 by default) starting from the committed
# CORPUS_DIR (fuzz/corpus/<name>/), then merges the inputs it found that add
# coverage into CORPUS_DIR (libFuzzer -merge=1), so they can be committed.
#
# A crash, leak, timeout or out-of-memory input fails the test, names the
# reproducer (kept in WORK_DIR/artifacts/) and says how to replay it; nothing
# is merged then. Every process runs under timeout(1).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 FUZZER CORPUS_DIR WORK_DIR" >&2
  exit 2
fi
fuzzer=$1
corpus=$2
work=$3
name=$(basename "$corpus")
seconds=${FUZZ_SECONDS:-30}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "FUZZ_SECONDS must be a whole number of seconds, at least 1 (got '$seconds')" >&2
  exit 2
fi
mkdir -p "$corpus" "$work/artifacts"
rm -rf "$work/new" "$work/summary"
mkdir -p "$work/new"
# UBSan reports abort (-fno-sanitize-recover in the build); this adds the stack.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

count() { find "$1" -maxdepth 1 -type f | wc -l; }

# New inputs go to the first directory ($work/new); the corpus is only read.
# -timeout: one input taking 10 s is a hang, reported as a timeout- artifact.
timeout -k 10 $((seconds + 120)) "$fuzzer" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/new" "$corpus" >"$work/fuzz.log" 2>&1
rc=$?
done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/fuzz.log" | tail -1)
if [ $rc -ne 0 ]; then
  echo "fuzz $name: FAILED (exit $rc) after fuzzing; the end of $work/fuzz.log:"
  tail -n 80 "$work/fuzz.log"
  mapfile -t found < <(grep -oE 'Test unit written to [^ ]+' "$work/fuzz.log" | sed 's/.* written to //')
  if [ ${#found[@]} -eq 0 ]; then
    mapfile -t found < <(find "$work/artifacts" -type f -newer "$work/new")
  fi
  for f in "${found[@]}"; do
    echo "fuzz $name: reproducer: $f"
    echo "fuzz $name: replay it with: $fuzzer $f"
  done
  [ $rc -eq 124 ] && echo "fuzz $name: the fuzzer did not stop in time (timeout(1))"
  exit 1
fi

new=$(count "$work/new")
before=$(count "$corpus")
if ! timeout -k 10 600 "$fuzzer" -merge=1 -timeout=10 -rss_limit_mb=2048 \
     -artifact_prefix="$work/artifacts/" "$corpus" "$work/new" >"$work/merge.log" 2>&1; then
  echo "fuzz $name: FAILED: merging into $corpus; the end of $work/merge.log:"
  tail -n 40 "$work/merge.log"
  exit 1
fi
after=$(count "$corpus")
# Also kept in WORK_DIR/summary, which scripts/test --fuzz prints at the end.
{
  echo "fuzz $name: clean for ${seconds} s: ${done_line:-no DONE line}"
  echo "fuzz $name: $new new inputs, $((after - before)) kept by -merge=1; $corpus has $after files"
} | tee "$work/summary"
