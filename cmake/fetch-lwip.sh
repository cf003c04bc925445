#!/usr/bin/env bash
# Fetch lwIP 2.1.3 (Debian's source package lwip 2.1.3+dfsg1, orig tarball only),
# verify it, cache it, and lay out the trees the build uses:
#   <out>/lwip-orig    the tarball as released, line endings normalised to LF
#   <out>/lwip         the same plus upstream-patches/ (applied in `series` order)
#   <out>/lwip-bad     lwip plus tests/identity/behaviour-change.patch (the
#                      identity check's negative control)
#
# The download uses apt's own source download through a private apt directory
# whose deb-src entries are derived from this machine's apt sources; the
# system's apt configuration is read, never written. No lwIP file is committed.
#
# usage: fetch-lwip.sh <out-dir> <repo-root> [<cache-dir>]
set -euo pipefail

readonly TARBALL=lwip_2.1.3+dfsg1.orig.tar.xz
readonly SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24
readonly SRC_VERSION=2.1.3+dfsg1

out=${1:?usage: fetch-lwip.sh <out-dir> <repo-root> [<cache-dir>]}
root=${2:?usage: fetch-lwip.sh <out-dir> <repo-root> [<cache-dir>]}
cache=${3:-${INC_LWIP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inception}}

die() {
  echo "fetch-lwip: error: $*" >&2
  exit 1
}

have_good_tarball() {
  [[ -f $cache/$TARBALL ]] && echo "$SHA256  $cache/$TARBALL" | sha256sum --check --status
}

# Writes deb-src entries for every deb entry of the machine's apt sources
# (one-line .list format and deb822 .sources format) into $1.
derive_sources() {
  local dst=$1 f n=0
  : >"$dst/sources.list"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" >>"$dst/sources.list"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    n=$((n + 1))
    # Types: deb [deb-src] -> Types: deb-src
    sed -E 's/^Types:.*$/Types: deb-src/' "$f" >"$dst/sources.list.d/derived-$n.sources"
  done
  if [[ ! -s $dst/sources.list ]] && ((n == 0)); then
    die "no apt 'deb' entries found in /etc/apt/sources.list or /etc/apt/sources.list.d/; cannot derive deb-src entries to fetch lwIP (or place $TARBALL, sha256 $SHA256, in $cache)"
  fi
}

download() {
  command -v apt-get >/dev/null || die "apt-get not found; put $TARBALL (sha256 $SHA256) in $cache by hand"
  local apt_dir
  apt_dir=$(mktemp -d "${TMPDIR:-/tmp}/inc-lwip-apt.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$apt_dir'" RETURN
  mkdir -p "$apt_dir"/{etc/sources.list.d,etc/preferences.d,etc/apt.conf.d,state/lists/partial,cache/archives/partial,dl}
  derive_sources "$apt_dir/etc"
  local -a opts=(
    -o "Dir::Etc=$apt_dir/etc"
    -o "Dir::Etc::sourcelist=$apt_dir/etc/sources.list"
    -o "Dir::Etc::sourceparts=$apt_dir/etc/sources.list.d"
    -o "Dir::Etc::parts=$apt_dir/etc/apt.conf.d"
    -o "Dir::Etc::preferencesparts=$apt_dir/etc/preferences.d"
    -o "Dir::State=$apt_dir/state"
    -o "Dir::State::Lists=$apt_dir/state/lists"
    -o "Dir::State::status=/var/lib/dpkg/status"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=$(id -un)"
  )
  echo "fetch-lwip: downloading lwip $SRC_VERSION source with apt-get source (private apt directory $apt_dir)"
  if ! apt-get "${opts[@]}" -q update >"$apt_dir/update.log" 2>&1; then
    # some derived deb-src entries may not exist (third-party repositories); go on
    echo "fetch-lwip: note: apt-get update reported problems (see below); trying the download anyway" >&2
    tail -n 5 "$apt_dir/update.log" >&2
  fi
  if ! (cd "$apt_dir/dl" && apt-get "${opts[@]}" -q --download-only source "lwip=$SRC_VERSION-*" >"$apt_dir/source.log" 2>&1) &&
    ! (cd "$apt_dir/dl" && apt-get "${opts[@]}" -q --download-only source lwip >>"$apt_dir/source.log" 2>&1); then
    tail -n 20 "$apt_dir/source.log" >&2
    die "apt-get source lwip failed: the machine's apt sources must reach a Debian mirror that carries lwip $SRC_VERSION (bookworm). Alternatively put $TARBALL (sha256 $SHA256) in $cache"
  fi
  [[ -f $apt_dir/dl/$TARBALL ]] || die "apt-get source lwip did not produce $TARBALL (got: $(ls "$apt_dir/dl" | tr '\n' ' '))"
  echo "$SHA256  $apt_dir/dl/$TARBALL" | sha256sum --check --status ||
    die "$TARBALL has the wrong sha256 ($(sha256sum "$apt_dir/dl/$TARBALL" | cut -d' ' -f1), expected $SHA256)"
  mkdir -p "$cache"
  mv "$apt_dir/dl/$TARBALL" "$cache/$TARBALL.tmp"
  mv "$cache/$TARBALL.tmp" "$cache/$TARBALL"
}

# Extracts the tarball into $1 and converts CRLF to LF (the tarball has CRLF
# in most files, lwIP's git has LF; this changes no compiled code).
extract() {
  local dst=$1 tmp
  tmp=$(mktemp -d "$out/.extract.XXXXXX")
  tar -xJf "$cache/$TARBALL" -C "$tmp"
  [[ -d $tmp/lwip-2.1.3 ]] || die "$TARBALL does not contain lwip-2.1.3/"
  find "$tmp/lwip-2.1.3" -type f -exec sed -i 's/\r$//' {} +
  rm -rf "$dst"
  mv "$tmp/lwip-2.1.3" "$dst"
  rmdir "$tmp"
}

# git apply outside any repository: the trees may sit inside a git work tree
# (a build directory in the checkout), where git apply would resolve paths
# against that repository and skip them silently.
tree_git() {
  local tree=$1
  shift
  (cd "$tree" && GIT_CEILING_DIRECTORIES=$(dirname "$tree") GIT_DIR=/nonexistent git "$@")
}

apply_patch() {
  local tree=$1 patch=$2
  if ! tree_git "$tree" apply --check -p1 "$patch" 2>"$out/.apply.log" ||
    ! tree_git "$tree" apply -p1 "$patch" 2>>"$out/.apply.log"; then
    cat "$out/.apply.log" >&2
    die "patch $(basename "$patch") does not apply to lwIP 2.1.3 (tree $tree)"
  fi
  # make sure it really changed the tree: it must now apply in reverse
  tree_git "$tree" apply --check -R -p1 "$patch" 2>/dev/null ||
    die "patch $(basename "$patch") left the tree unchanged (tree $tree)"
}

command -v git >/dev/null || die "git is needed to apply upstream-patches/ (apt-get install git)"
mkdir -p "$out"

if have_good_tarball; then
  echo "fetch-lwip: using cached $cache/$TARBALL"
else
  download
fi

series=$root/upstream-patches/series
[[ -f $series ]] || die "missing $series"
# The stamp records what the trees were made from; remake them when it changes.
stamp_now=$(
  echo "$SHA256"
  while read -r p; do
    [[ -z $p || $p == \#* ]] && continue
    [[ -f $root/upstream-patches/$p ]] || die "upstream-patches/series names $p, which does not exist"
    sha256sum "$root/upstream-patches/$p"
  done <"$series"
  sha256sum "$root/tests/identity/behaviour-change.patch"
)
if [[ -f $out/.stamp && $(cat "$out/.stamp") == "$stamp_now" && -d $out/lwip && -d $out/lwip-orig && -d $out/lwip-bad ]]; then
  exit 0
fi
rm -f "$out/.stamp"

extract "$out/lwip-orig"
extract "$out/lwip"
while read -r p; do
  [[ -z $p || $p == \#* ]] && continue
  echo "fetch-lwip: applying $p"
  apply_patch "$out/lwip" "$root/upstream-patches/$p"
done <"$series"
rm -rf "$out/lwip-bad"
cp -a "$out/lwip" "$out/lwip-bad"
apply_patch "$out/lwip-bad" "$root/tests/identity/behaviour-change.patch"
echo "$stamp_now" >"$out/.stamp"
echo "fetch-lwip: lwIP trees ready in $out"
