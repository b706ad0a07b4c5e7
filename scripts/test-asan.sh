#!/usr/bin/env bash
# npm run test:asan: builds the addon with AddressSanitizer + UndefinedBehavior-
# Sanitizer (cmake-js, -DMEMMAP_SANITIZE=address,undefined) into build-asan/ and
# runs the whole test suite against it. Node itself is not instrumented, so the
# ASan runtime is preloaded (LD_PRELOAD) and leak checking is off (Node does not
# free everything at exit). Any ASan or UBSan report aborts the run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CXX_BIN="${CXX:-g++}"
section "asan: build (address,undefined -> build-asan/build/Release/memmap.node)"
start=$(now)
npm run build:cmake -- --out build-asan/build --CDMEMMAP_SANITIZE=address,undefined
ASAN_RT=$("$CXX_BIN" -print-file-name=libasan.so)
[ -f "$ASAN_RT" ] || { echo "no ASan runtime found ($CXX_BIN -print-file-name=libasan.so gave $ASAN_RT)" >&2; exit 1; }
ldd build-asan/build/Release/memmap.node | grep -E 'lib(asan|ubsan)' || { echo "the addon is not linked against the sanitizer runtimes" >&2; exit 1; }

section "asan: test suite under ASan + UBSan"
npm run build:ts
use_build_dir build-asan
# The children the tests spawn (node, python3, npm) inherit these, harmlessly.
# handle_sigbus=0: the truncation test expects its child to die of a plain SIGBUS.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:handle_sigbus=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Tests can tell they run under sanitizers (e.g. to skip timing-free but
# allocator-sensitive checks).
export MEMMAP_SANITIZER=address,undefined
# Tests that count every line of /proc/self/maps cannot pass under ASan: its
# allocator and stack depot map memory as the process goes. They run in every
# other stage; here they are left out by title.
EXCLUDE="${MEMMAP_ASAN_EXCLUDE:-no mappings or fds}"
echo "left out under ASan (titles matching): $EXCLUDE"
LD_PRELOAD="$ASAN_RT" node node_modules/mocha/bin/mocha.js --reporter "${MEMMAP_REPORTER:-dot}" \
  --grep "$EXCLUDE" --invert
echo "asan stage passed in $(( $(now) - start )) s"
