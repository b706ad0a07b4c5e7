#!/usr/bin/env bash
# npm run prebuild:win: cross-compiles the win32-x64 prebuild on this Linux
# machine with Debian's mingw-w64 (the posix thread model: the win32 one has no
# std::thread/std::mutex for node-addon-api), into prebuilds/win32-x64/, then
# checks the DLL: it exports the Node-API module and imports only system DLLs.
# npm run test:wine (a CI stage) builds it when stale and runs the suite with it (~1 min of CPU).
#
#   MEMMAP_WERROR=1   warnings are errors, as for binding.gyp
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CXX=x86_64-w64-mingw32-g++-posix
DLLTOOL=x86_64-w64-mingw32-dlltool
OBJDUMP=x86_64-w64-mingw32-objdump
STRIP=x86_64-w64-mingw32-strip

section "win32: toolchain (g++-mingw-w64-x86-64-posix)"
if ! command -v "$CXX" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-mingw-w64-x86-64-posix
  else
    echo "missing: $CXX (apt-get install g++-mingw-w64-x86-64-posix)" >&2
    exit 1
  fi
fi

section "win32: cross-compile prebuilds/win32-x64/memmap.node"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
addon_api=$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json"))')
napi_headers=$(node -p 'require("path").dirname(require.resolve("node-api-headers/package.json"))')
napi_version=$(node -p 'require("./package.json").binary.napi_versions[0]')
# Node-API functions resolve against the host executable, as node.lib does for MSVC.
"$DLLTOOL" -d "$napi_headers/def/node_api.def" -l "$stage/libnode.a" -D node.exe
werror=()
[ "${MEMMAP_WERROR:-}" = 1 ] && werror=(-Werror)
# binding.gyp's sources for OS=='win' (scripts/gyp-sources.js) and its flags;
# two compilers at a time (MEMMAP_JOBS).
gyp_sources=$(node scripts/gyp-sources.js win)
mapfile -t sources <<<"$gyp_sources"
cxxflags=(-O3 -std=c++17 -fexceptions -fno-rtti -fvisibility=hidden -Wall -Wextra "${werror[@]}"
  -DNAPI_VERSION="$napi_version" -DNAPI_CPP_EXCEPTIONS -D_FILE_OFFSET_BITS=64 -DBUILDING_NODE_EXTENSION
  -I"$addon_api" -I"$napi_headers/include")
printf '%s\n' "${sources[@]}" |
  xargs -P "${MEMMAP_JOBS:-2}" -I{} "$CXX" -c "${cxxflags[@]}" src-native/{}.cc -o "$stage/{}.o"
objs=()
for s in "${sources[@]}"; do objs+=("$stage/$s.o"); done
mkdir -p prebuilds/win32-x64
"$CXX" -shared -static -o "$stage/memmap.node" "${objs[@]}" "$stage/libnode.a"
"$STRIP" "$stage/memmap.node"
mv "$stage/memmap.node" prebuilds/win32-x64/memmap.node
file prebuilds/win32-x64/memmap.node

section "win32: exports and imports"
dump=$("$OBJDUMP" -p prebuilds/win32-x64/memmap.node)
grep -q 'napi_register_module_v1' <<<"$dump" || { echo "napi_register_module_v1 is not exported" >&2; exit 1; }
imports=$(sed -n 's/^\s*DLL Name: //p' <<<"$dump" | sort -u)
echo "imports: $(tr '\n' ' ' <<<"$imports")"
# Only Windows' own DLLs and the host executable: -static took in libstdc++,
# libgcc and winpthread.
bad=$(grep -viE '^(kernel32|msvcrt|user32|advapi32|psapi|ws2_32|ntdll|node\.exe|api-ms-win-[a-z0-9-]+)(\.dll)?$' <<<"$imports" || true)
[ -z "$bad" ] || { echo "imports non-system DLLs: $bad" >&2; exit 1; }
echo "win32 prebuild ok: prebuilds/win32-x64/memmap.node"
