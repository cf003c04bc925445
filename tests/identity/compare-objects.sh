#!/usr/bin/env bash
# Compares two builds of lwIP object by object: the machine code (disassembly
# with relocations, without addresses or file names), the contents of the
# initialised data sections, and the size of every allocated section.
#
# usage: compare-objects.sh [--expect-only <src-path>] <objects-A.txt> <objects-B.txt>
#   objects-*.txt: one object path per line (from $<TARGET_OBJECTS>), matched
#   between A and B by the lwIP source path they were compiled from (src/...).
# Exit 0 if all pairs are identical; with --expect-only, exit 0 if exactly
# the named object (e.g. src/core/udp.c) differs and nothing else does.
set -euo pipefail

expect_only=""
if [[ ${1:-} == --expect-only ]]; then
  expect_only=$2
  shift 2
fi
list_a=${1:?usage} list_b=${2:?usage}

# key: the part of the object path from "src/" on, minus the object suffix
key() { sed -E 's#^.*/(src/.*\.c)\.o(bj)?$#\1#' <<<"$1"; }

declare -A objs_b=()
while read -r o; do [[ -n $o ]] && objs_b[$(key "$o")]=$o; done <"$list_b"

# What an object "is", written to stdout: code, data, relocations, sizes.
describe() {
  local o=$1 sec
  objdump -dr --no-addresses --no-show-raw-insn "$o" | grep -v 'file format'
  while read -r sec; do
    objdump -s -j "$sec" "$o" | grep -v 'file format'
  done < <(objdump -h "$o" | awk '$2 ~ /^\.(data|rodata|tdata)/ {print $2}')
  objdump -r "$o" | grep -v 'file format'
  size -A "$o" | awk 'NR > 2 && $1 !~ /^\.(comment|note|debug|rela|group)/ && NF == 3 {print $1, $2}'
}

n=0 ndiff=0
diffs=()
while read -r a; do
  [[ -n $a ]] || continue
  k=$(key "$a")
  b=${objs_b[$k]:-}
  if [[ -z $b ]]; then
    echo "MISSING in B: $k" >&2
    exit 2
  fi
  n=$((n + 1))
  if ! cmp -s <(describe "$a") <(describe "$b"); then
    ndiff=$((ndiff + 1))
    diffs+=("$k")
    echo "DIFFERENT: $k"
    diff <(describe "$a") <(describe "$b") | head -n 20 | sed 's/^/    /'  || true
  fi
done <"$list_a"

if ((n == 0)); then
  echo "no objects to compare" >&2
  exit 2
fi
echo "compared $n objects: $ndiff different"
if [[ -n $expect_only ]]; then
  if ((ndiff == 1)) && [[ ${diffs[0]} == "$expect_only" ]]; then
    echo "as expected, only $expect_only differs"
    exit 0
  fi
  echo "expected exactly $expect_only to differ" >&2
  exit 1
fi
((ndiff == 0))
