#!/usr/bin/env bash
# Runs every fuzz target (func FuzzX in a *_fuzz_test.go file) for a while
# each, one after the other, and prints how many inputs each tried. The
# argument is go test's -fuzztime: scripts/test.sh runs 5s per target; the
# long form is `bash scripts/fuzz.sh 10m`. New failing inputs are written
# to the package's testdata/fuzz/<Target>/: commit them with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-3s}
files=$(git ls-files '*_fuzz_test.go' 2>/dev/null || find . -name '*_fuzz_test.go')
for file in $files; do
  pkg=./$(dirname "$file")
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
    # Minimizing a new input can take a minute by default; a short run
    # keeps its time for trying inputs. -timeout 0: go test's default 10m
    # would stop the long form at its end.
    if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 1s -timeout 0 "$pkg" 2>&1); then
      # Go's coordinator can report its own -fuzztime deadline as a failure
      # (go.dev/issue/75804, fixed in Go 1.27): no input failed then, and
      # none was written. Anything else is a failure.
      if ! grep -q 'Failing input written' <<<"$out" && [ "$(tail -4 <<<"$out" | grep -c '^    context deadline exceeded$')" -eq 1 ]; then
        echo "fuzz: $pkg $target: stopped by Go's fuzztime deadline race (go.dev/issue/75804), no failing input"
        continue
      fi
      echo "$out"
      echo "fuzz: $pkg $target failed"
      exit 1
    fi
    # A short run on a busy machine can end while Go still gathers its
    # baseline coverage, before it prints a count.
    execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1 | cut -d' ' -f2 || true)
    echo "fuzz: $pkg $target: ${execs:-0} inputs in $fuzztime"
  done
done
