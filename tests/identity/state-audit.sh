#!/usr/bin/env bash
# The state audit: in a build where LWIP_STATE_STORAGE is thread-local, no
# object of lwIP's core may keep a symbol in .data, .bss or COMMON (mutable
# state shared by all threads). Read-only data (.rodata, .data.rel.ro) is fine.
#
# usage: state-audit.sh [--expect-missed] <objects.txt>
#   --expect-missed: negative control; succeed only if some state is found.
set -euo pipefail

expect_missed=0
if [[ ${1:-} == --expect-missed ]]; then
  expect_missed=1
  shift
fi
list=${1:?usage: state-audit.sh [--expect-missed] <objects.txt>}

missed=0 tls=0 n=0
while read -r o; do
  [[ -n $o ]] || continue
  n=$((n + 1))
  src=$(sed -E 's#^.*/(src/.*\.c)\.o$#\1#' <<<"$o")
  # objdump -t: <value> <flags> <section> <size> <name>
  while read -r sec name; do
    echo "SHARED STATE: $src: $name (in $sec)"
    missed=$((missed + 1))
  done < <(objdump -t "$o" | awk 'NF >= 5 && $NF !~ /^\./ && ($(NF-2) ~ /^\.(data|bss)($|\.)/ || $(NF-2) == "*COM*") && $(NF-2) !~ /^\.data\.rel\.ro/ {print $(NF-2), $NF}')
  tls=$((tls + $(objdump -t "$o" | awk 'NF >= 5 && $(NF-2) ~ /^\.t(data|bss)/ && $NF !~ /^\./' | wc -l)))
done <"$list"

echo "audited $n objects: $tls thread-local symbols, $missed symbols of shared mutable state"
if ((n == 0)); then
  exit 2
fi
if ((expect_missed)); then
  ((missed > 0)) && echo "as expected, the audit finds shared state" && exit 0
  echo "negative control failed: the audit found no shared state" >&2
  exit 1
fi
((missed == 0 && tls > 0))
