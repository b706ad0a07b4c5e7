#!/usr/bin/env bash
# npm run test:cmake: builds the addon with cmake-js (`npm run build:cmake`,
# CMakeLists.txt) into build-cmake/, checks its flags match the node-gyp build,
# then runs the whole test suite against that binary (MEMMAP_PREBUILD, which
# node-gyp-build honours, points the loader at it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

section "cmake-js: build (CMakeLists.txt -> build-cmake/build/Release/memmap.node)"
start=$(now)
npm run build:cmake -- --out build-cmake/build
# node-gyp's generated makefile for the same target, to compare flags with.
if [ ! -f build/memmap.target.mk ] || [ binding.gyp -nt build/memmap.target.mk ]; then node_gyp configure; fi
node scripts/check-flag-parity.js build build-cmake/build

section "cmake-js: test suite against the cmake-js build"
npm run build:ts
use_build_dir build-cmake
node node_modules/mocha/bin/mocha.js --reporter "${MEMMAP_REPORTER:-dot}"
echo "cmake-js stage passed in $(( $(now) - start )) s"
