#!/usr/bin/env bash
# The main job: the multi-core stress run (on the built-in software wire).
# Until the stress harness exists, it runs the isolation demo: per-thread lwIP
# instances paired by in-memory links, every byte verified, with a summary.
# Extra arguments are passed to the program.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target isolation-demo >/dev/null
exec ./build/tools/isolation-demo/isolation-demo "$@"
