#!/usr/bin/env bash
# Runs every Castor test on a bare Debian 12: installs dependencies, builds, runs the unit,
# conformance and integration suites, then the unit suite again under ASan+UBSan.
# Usage: scripts/test.sh            everything
#        scripts/test.sh --fast     skip the sanitizer pass
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fast=0
[ "${1:-}" = "--fast" ] && fast=1

"$root/scripts/bootstrap.sh"
jobs=$(nproc)

echo "== build (RelWithDebInfo)"
CASTOR_BUILD_DIR="$root/build" "$root/scripts/build.sh"
echo "== tests"
ctest --test-dir "$root/build" -j "$jobs" --output-on-failure --timeout 900 --progress

if [ "$fast" = 0 ]; then
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  CASTOR_BUILD_DIR="$root/build-asan" "$root/scripts/build.sh" \
    -DCASTOR_SANITIZE=ON -DCASTOR_UNIT_ONLY=ON -DCASTOR_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" -j "$jobs" -L unit --output-on-failure --timeout 900 --progress
fi
echo "== all tests passed"
