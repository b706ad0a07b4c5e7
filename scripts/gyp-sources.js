'use strict';
// Prints the C++ sources binding.gyp compiles for one OS, one base name a line
// (src-native/<name>.cc), so the scripts that build without node-gyp
// (prebuild-all.sh with zig, prebuild-win.sh with mingw) pick up a new file as
// node-gyp does. Understands what binding.gyp uses: "sources" and
// ["OS=='x'" / "OS!='x'", {...}] conditions; anything else is an error rather
// than a guess.
// Usage: node scripts/gyp-sources.js <OS as gyp names it: linux, mac, win>
const fs = require('node:fs');
const path = require('node:path');

function sources(gyp, os) {
  const out = [];
  const take = (block) => {
    for (const s of block.sources || []) out.push(s);
    for (const c of block.conditions || []) {
      const m = /^\s*OS\s*(==|!=)\s*'(\w+)'\s*$/.exec(c[0]);
      if (!m) throw new Error(`binding.gyp: condition not understood: ${c[0]}`);
      const branch = (m[1] === '==') === (m[2] === os) ? c[1] : c[2];
      if (branch) take(branch);
    }
  };
  const targets = gyp.targets.filter((t) => t.target_name === 'memmap');
  if (targets.length !== 1) throw new Error('binding.gyp: no single target "memmap"');
  take(targets[0]);
  return out.map((s) => {
    const m = /^src-native\/([\w-]+)\.cc$/.exec(s);
    if (!m) throw new Error(`binding.gyp: source not under src-native/*.cc: ${s}`);
    return m[1];
  });
}

module.exports = { sources };

if (require.main === module) {
  const os = process.argv[2];
  if (!os) {
    console.error('usage: node scripts/gyp-sources.js <linux|mac|win>');
    process.exit(2);
  }
  // binding.gyp is a Python literal; ours is plain JSON, and must stay so for this reader.
  const gyp = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'binding.gyp'), 'utf8'));
  console.log(sources(gyp, os).join('\n'));
}
