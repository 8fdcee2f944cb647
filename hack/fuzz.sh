#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the packages that parse what clients send, one after
# the other (go test fuzzes one target at a time), each for the same time:
#
#   hack/fuzz.sh [DURATION] [PACKAGE...]    # default 90s each, arm, resources, activity and api
#
# with one fuzzing worker (-parallel=1), so that it runs beside other work.
#
# A failing input is written to the package's testdata/fuzz/<target>/, where a plain
# `go test` then runs it: fix the code and commit the input with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

time="${1:-90s}"
shift || true
pkgs=("$@")
if [[ ${#pkgs[@]} -eq 0 ]]; then pkgs=(./internal/arm ./internal/resources ./internal/activity ./internal/api); fi
for pkg in "${pkgs[@]}"; do
  for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
    echo "== $pkg $target ($time)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$time" -parallel=1 "$pkg"
  done
done
