#!/usr/bin/env bash
# The main job: the multi-core stress harness on the built-in software RSS
# wire (tools/stress/main.c). With no arguments: 2 workers per stack, about a
# minute of mixed short, request/response and bulk sessions, every byte
# verified; exits non-zero on any data error, lost connection, leak or stall.
# Arguments are passed to the harness (--help lists them); --tap makes Linux
# the server, over a tap device in a network namespace (root).
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target inc-stress >/dev/null
exec ./build/tools/stress/inc-stress "$@"
