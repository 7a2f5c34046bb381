#!/usr/bin/env bash
# The instrumented run of docs/fuzzing.md: SharpFuzz-instrumented product assemblies under AFL++ (Debian's afl++).
#   tests/EngineSkeleton.Fuzz/afl.sh SECONDS [TARGET[:SECONDS]...]   every target when none is named
# Work files (publish, findings) go to $FUZZ_WORK (default /tmp/engineskeleton-fuzz); a summary table is printed and
# written to $FUZZ_WORK/summary.md. Crashes and hangs are in $FUZZ_WORK/findings/<target>/default/{crashes,hangs}:
# replay one with `dotnet tests/EngineSkeleton.Fuzz/bin/Debug/net10.0/EngineSkeleton.Fuzz.dll <target> run FILE`.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 SECONDS [TARGET[:SECONDS]...]" >&2; exit 2; }
seconds=$1; shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_WORK:-/tmp/engineskeleton-fuzz}
mkdir -p "$work/findings"

command -v afl-fuzz >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null; }
[ -x "$work/tool/sharpfuzz" ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tool" >/dev/null

rm -rf "$work/publish"
dotnet publish "$repo/tests/EngineSkeleton.Fuzz" -c Release -o "$work/publish" -v q -nologo >/dev/null
# Our decoders, and Snappier whose decompressor the RLPx target feeds: instrumented in place.
for dll in EngineSkeleton.Core EngineSkeleton.Network EngineSkeleton.Server Snappier; do
  "$work/tool/sharpfuzz" "$work/publish/$dll.dll"
done

if [ $# -eq 0 ]; then
  set -- $(dotnet "$work/publish/EngineSkeleton.Fuzz.dll" list | awk '{print $1}')
fi

summary="$work/summary.md"
echo "| target | seconds | executions | execs/s | corpus | edges | crashes | hangs | crashes that are known findings |" > "$summary"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|" >> "$summary"
for spec in "$@"; do
  target=${spec%%:*}
  secs=$seconds
  [ "$spec" != "$target" ] && secs=${spec#*:}
  out="$work/findings/$target"
  rm -rf "$out"
  echo "== $target: $secs s" >&2
  # SharpFuzz keeps one dotnet process and feeds it input after input; dotnet itself is not AFL-built (SKIP_BIN_CHECK).
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    timeout $((secs + 120)) afl-fuzz -V "$secs" -t 2000 -m none -i "$work/publish/corpus/$target" -o "$out" \
    -- dotnet "$work/publish/EngineSkeleton.Fuzz.dll" "$target" afl > "$work/$target.log" 2>&1 || true
  stats="$out/default/fuzzer_stats"
  if [ -f "$stats" ]; then
    get() { awk -F' *: *' -v k="$1" '$1==k {print $2}' "$stats"; }
    # Triage: each saved crash replayed; the ones tests/EngineSkeleton.Fuzz/KnownFindings.cs names are counted apart.
    known=0
    if [ -n "$(ls -A "$out/default/crashes" 2>/dev/null)" ]; then
      dotnet "$work/publish/EngineSkeleton.Fuzz.dll" "$target" run "$out/default/crashes" > "$work/$target.triage.log" 2>&1 || true
      known=$(grep -c '^KNOWN' "$work/$target.triage.log" || true)
    fi
    echo "| $target | $secs | $(get execs_done) | $(get execs_per_sec) | $(get corpus_count) | $(get edges_found) | $(get saved_crashes) | $(get saved_hangs) | $known |" >> "$summary"
  else
    echo "| $target | $secs | afl-fuzz did not start: see $work/$target.log | | | | | | |" >> "$summary"
  fi
done
cat "$summary"
