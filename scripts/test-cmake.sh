#!/usr/bin/env bash
# npm run test:cmake: builds the addon with cmake-js (`npm run build:cmake`,
# CMakeLists.txt) into build-cmake/, checks its flags match the node-gyp build,
# then runs the tests of the native entry points against that binary
# (MEMMAP_PREBUILD, which node-gyp-build honours, points the loader at it).
# The whole suite runs against a cmake-js build in `npm run test:asan` (same
# CMakeLists.txt, plus the sanitizers); MEMMAP_CMAKE_SPEC=all runs it here too.
#
#   MEMMAP_CMAKE_SPEC   test files to run (default: the native entry points' files below; "all": every file)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

section "cmake-js: build (CMakeLists.txt -> build-cmake/build/Release/memmap.node)"
start=$(now)
npm run build:cmake -- --out build-cmake/build
# node-gyp's generated makefile for the same target, to compare flags with.
if [ ! -f build/memmap.target.mk ] || [ binding.gyp -nt build/memmap.target.mk ]; then node_gyp configure; fi
node scripts/check-flag-parity.js build build-cmake/build

section "cmake-js: tests against the cmake-js build"
npm run build:ts
use_build_dir build-cmake
SPEC="${MEMMAP_CMAKE_SPEC:-test/memmap.test.js test/modes.test.js test/lifecycle.test.js test/first-reads.test.js test/reduce-native.test.js test/sum-read-gather.test.js test/async-native.test.js test/sharing.test.js test/zarr-read.test.js test/zarr-copy.test.js}"
if [ "$SPEC" = all ]; then
  node node_modules/mocha/bin/mocha.js --reporter "${MEMMAP_REPORTER:-dot}"
else
  read -r -a spec <<<"$SPEC"
  # --no-config: .mocharc.json's spec would add every file to the ones named.
  node node_modules/mocha/bin/mocha.js --no-config --timeout 120000 --reporter "${MEMMAP_REPORTER:-dot}" "${spec[@]}"
fi
echo "cmake-js stage passed in $(( $(now) - start )) s"
