#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs the DTDL parser fuzzer.
# Usage: scripts/fuzz.sh [seconds, default 60]
# Crashes are written to build-fuzz/artifacts/; the corpus grows in build-fuzz/corpus/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
"$root/scripts/bootstrap.sh"
build="$root/build-fuzz"
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCASTOR_FUZZ=ON -DCASTOR_SANITIZE=ON -DCASTOR_ONLY_LAYERS="common;model" -DCASTOR_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
fi
cmake --build "$build" --target dtdl_parser_fuzz -- --quiet
mkdir -p "$build/corpus" "$build/artifacts"
# Seed the corpus with the models of our own test cases.
python3 - "$root/tests/unit/model/cases" "$build/corpus" <<'PY'
import os, sys
src, dst = sys.argv[1:3]
for name in os.listdir(src):
    text = open(os.path.join(src, name)).read()
    models = [part.split("\n", 1)[1] for part in text.split("--- model")[1:]]
    models = [m.split("\n--- ")[0] for m in models]
    if models:
        open(os.path.join(dst, name + ".seed"), "w").write("\0".join(models))
PY
echo "fuzzing the DTDL parser for ${seconds}s (corpus: $build/corpus)"
"$build/fuzz/dtdl_parser_fuzz" "$build/corpus" -artifact_prefix="$build/artifacts/" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
