#!/usr/bin/env bash
# npm run test:no-external-buffers: the addon as a runtime that refuses
# external ArrayBuffers has it (Electron's V8 memory cage). CMakeLists.txt's
# memmap_noext target defines NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED, so
# node-addon-api and the Node-API headers drop the external-buffer
# constructors; it shares the core objects with the cmake-js build, so in
# npm run test:cmake's tree (build-cmake/build, reused here) it costs one file.
# Then test/no-external-buffers.test.js runs against it (with
# MEMMAP_NO_EXTERNAL_BUFFERS=1: `data`, `bytes`, segments() must throw
# ERR_NO_EXTERNAL_BUFFERS), with the test files whose calls need no buffer over
# a mapping, unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

OUT=build-cmake/build
section "no external buffers: build (target memmap_noext -> $OUT/noext/build/Release/memmap.node)"
start=$(now)
node node_modules/cmake-js/bin/cmake-js build --out "$OUT" --target memmap_noext --parallel "${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
build_time=$(( $(now) - start ))
echo "build took $build_time s"

section "no external buffers: tests"
npm run build:ts
use_build_dir "$OUT/noext"
export MEMMAP_NO_EXTERNAL_BUFFERS=1
# Element values, reductions (sync and async, close during a call), .npy, Zarr
# writes, printing: none of these files takes `data`, `bytes` or segments() of a mapping.
DEFAULT_FILES="test/async-native.test.js test/sum-read-gather.test.js test/reductions.test.js test/npy-numpy.test.js test/zarr-write.test.js test/zarr-decode-pool.test.js test/print.test.js test/array-protocol.test.js"
# shellcheck disable=SC2086
node node_modules/mocha/bin/mocha.js --no-config --timeout 300000 --reporter "${MEMMAP_REPORTER:-dot}" \
  test/no-external-buffers.test.js ${MEMMAP_NOEXT_FILES:-$DEFAULT_FILES}
echo "no-external-buffers stage passed in $(( $(now) - start )) s (build $build_time s)"
