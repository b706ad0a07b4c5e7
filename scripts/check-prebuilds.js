'use strict';
// Checks every prebuilds/<platform>-<arch>/*.node by reading its headers (no
// tools needed): the right format and machine for its directory (ELF x86-64 /
// aarch64, Mach-O x86_64 / arm64, PE32+ x86-64), the Node-API module entry
// exported, and what it needs from the system: glibc builds no GLIBC_ symbol
// version newer than 2.28 (what Node 20 needs), musl builds no glibc at all,
// Mach-O only libSystem, PE only Windows' own DLLs and node.exe.
// Usage: node scripts/check-prebuilds.js [dir=prebuilds] [--all | --require names] [--max-glibc 2.28]
//        node scripts/check-prebuilds.js --pack [package dir=.] [--all | --require names] [--max-glibc 2.28]
//   --all   also fail when one of the six shipped targets is missing.
//   --require linux-x64,win32-x64,...  also fail when one of these targets
//           (prebuild:all's names) is missing: CI's check of the ones it builds.
//   --pack  check the prebuilds/ inside the tarball `npm pack` makes of the
//           package (what would be published), not the directory.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ENTRY = 'napi_register_module_v1';
const TARGETS = [
  'linux-x64/memmap.glibc.node',
  'linux-arm64/memmap.glibc.node',
  'linux-x64/memmap.musl.node',
  'darwin-x64/memmap.node',
  'darwin-arm64/memmap.node',
  'win32-x64/memmap.node',
];
// prebuild:all's target names -> TARGETS entries.
const NAMES = {
  'linux-x64': TARGETS[0],
  'linux-arm64': TARGETS[1],
  'linux-x64-musl': TARGETS[2],
  'darwin-x64': TARGETS[3],
  'darwin-arm64': TARGETS[4],
  'win32-x64': TARGETS[5],
};
const ELF_MACHINES = { 62: 'x64', 183: 'arm64' };
const MACHO_CPUS = { 0x01000007: 'x64', 0x0100000c: 'arm64' };
const PE_MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64' };
// Libraries every glibc system has (libstdc++ and libgcc_s: Node itself needs them).
const GLIBC_LIBS = /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|ld-linux-[\w-]+\.so\.\d|libgcc_s\.so\.1|libstdc\+\+\.so\.6)$/;
const MUSL_LIBS = /^(libc\.so|libc\.musl-[\w]+\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6)$/;
const MACHO_LIBS = /^\/usr\/lib\/libSystem\.B\.dylib$/;
const PE_DLLS = /^(kernel32|msvcrt|user32|advapi32|psapi|ws2_32|ntdll|node\.exe|api-ms-win-[a-z0-9-]+)(\.dll)?$/i;

const cstr = (buf, off) => buf.toString('latin1', off, buf.indexOf(0, off));
const versionLE = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0);
  return true;
};

// ELF64 little-endian: machine, defined dynamic symbols, DT_NEEDED and the
// versions required from each library (.gnu.version_r).
function readElf(b) {
  if (b[4] !== 2 || b[5] !== 1) throw new Error('not a 64-bit little-endian ELF');
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    sections.push({
      type: b.readUInt32LE(o + 4),
      offset: Number(b.readBigUInt64LE(o + 0x18)),
      size: Number(b.readBigUInt64LE(o + 0x20)),
      link: b.readUInt32LE(o + 0x28),
    });
  }
  const exports = [];
  const needed = [];
  const versions = [];
  for (const s of sections) {
    const strs = sections[s.link];
    if (s.type === 11) {
      // SHT_DYNSYM: 24-byte entries; defined, global or weak, default visibility.
      for (let o = s.offset; o < s.offset + s.size; o += 24) {
        const bind = b[o + 4] >> 4;
        if (b.readUInt16LE(o + 6) !== 0 && (bind === 1 || bind === 2) && (b[o + 5] & 3) === 0)
          exports.push(cstr(b, strs.offset + b.readUInt32LE(o)));
      }
    } else if (s.type === 6) {
      // SHT_DYNAMIC: DT_NEEDED (1) entries name the libraries.
      for (let o = s.offset; o < s.offset + s.size; o += 16) {
        const tag = b.readBigInt64LE(o);
        if (tag === 0n) break;
        if (tag === 1n) needed.push(cstr(b, strs.offset + Number(b.readBigUInt64LE(o + 8))));
      }
    } else if (s.type === 0x6ffffffe) {
      // SHT_GNU_verneed: per library, the version names it must provide.
      for (let o = s.offset, more = true; more; ) {
        const file = cstr(b, strs.offset + b.readUInt32LE(o + 4));
        for (let a = o + b.readUInt32LE(o + 8), n = b.readUInt16LE(o + 2); n > 0; n--) {
          versions.push({ file, name: cstr(b, strs.offset + b.readUInt32LE(a + 8)) });
          const next = b.readUInt32LE(a + 12);
          if (next === 0) break;
          a += next;
        }
        const next = b.readUInt32LE(o + 12);
        more = next !== 0;
        o += next;
      }
    }
  }
  return { format: 'ELF', arch: ELF_MACHINES[b.readUInt16LE(0x12)], exports, needed, versions };
}

// Mach-O 64-bit little-endian: cpu, exported symbols (LC_SYMTAB) and the
// dylibs it loads.
function readMachO(b) {
  const ncmds = b.readUInt32LE(16);
  const exports = [];
  const needed = [];
  let minos = null;
  for (let o = 32, i = 0; i < ncmds; i++) {
    const cmd = b.readUInt32LE(o);
    const size = b.readUInt32LE(o + 4);
    // LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX: the oldest macOS it loads on (xxxx.yy.zz).
    if (cmd === 0x32 || cmd === 0x24) {
      const v = b.readUInt32LE(o + (cmd === 0x32 ? 12 : 8));
      minos = `${v >>> 16}.${(v >> 8) & 0xff}`;
    }
    if (cmd === 0xc || cmd === 0x80000018 || cmd === 0x8000001f) needed.push(cstr(b, o + b.readUInt32LE(o + 8)));
    if (cmd === 0x2) {
      const [symoff, nsyms, stroff] = [b.readUInt32LE(o + 8), b.readUInt32LE(o + 12), b.readUInt32LE(o + 16)];
      for (let s = 0; s < nsyms; s++) {
        const e = symoff + s * 16;
        const type = b[e + 4];
        // N_EXT and N_SECT: defined here and visible outside.
        if ((type & 0x01) !== 0 && (type & 0x0e) === 0x0e) exports.push(cstr(b, stroff + b.readUInt32LE(e)).replace(/^_/, ''));
      }
    }
    o += size;
  }
  return { format: 'Mach-O', arch: MACHO_CPUS[b.readUInt32LE(4)], exports, needed, versions: [], minos };
}

// PE32+: machine, export names and imported DLLs.
function readPe(b) {
  const pe = b.readUInt32LE(0x3c);
  if (b.readUInt32LE(pe) !== 0x4550) throw new Error('no PE signature');
  const coff = pe + 4;
  const nsections = b.readUInt16LE(coff + 2);
  const opt = coff + 20;
  if (b.readUInt16LE(opt) !== 0x20b) throw new Error('not PE32+');
  const sectionTable = opt + b.readUInt16LE(coff + 16);
  const sections = [];
  for (let i = 0; i < nsections; i++) {
    const o = sectionTable + i * 40;
    sections.push({ va: b.readUInt32LE(o + 12), vsize: b.readUInt32LE(o + 8), raw: b.readUInt32LE(o + 20) });
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + x.vsize);
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return rva - s.va + s.raw;
  };
  const exports = [];
  const exportRva = b.readUInt32LE(opt + 112);
  if (exportRva !== 0) {
    const e = at(exportRva);
    const names = at(b.readUInt32LE(e + 32));
    for (let i = 0; i < b.readUInt32LE(e + 24); i++) exports.push(cstr(b, at(b.readUInt32LE(names + i * 4))));
  }
  const needed = [];
  const importRva = b.readUInt32LE(opt + 120);
  if (importRva !== 0) {
    for (let d = at(importRva); b.readUInt32LE(d + 12) !== 0; d += 20) needed.push(cstr(b, at(b.readUInt32LE(d + 12))));
  }
  return { format: 'PE32+', arch: PE_MACHINES[b.readUInt16LE(coff)], exports, needed, versions: [] };
}

function readBinary(file) {
  const b = fs.readFileSync(file);
  if (b.length >= 64 && b.readUInt32BE(0) === 0x7f454c46) return { platform: 'linux', ...readElf(b) };
  if (b.length >= 32 && b.readUInt32LE(0) === 0xfeedfacf) return { platform: 'darwin', ...readMachO(b) };
  if (b.length >= 64 && b.readUInt16BE(0) === 0x4d5a) return { platform: 'win32', ...readPe(b) };
  throw new Error('not an ELF, 64-bit Mach-O or PE file');
}

/**
 * Checks one prebuild against what its place says it is:
 * prebuilds/<platform>-<arch>/<name>[.glibc|.musl].node.
 * Returns { file, info, problems: string[] }.
 */
function checkFile(file, { maxGlibc = '2.28' } = {}) {
  const [platform, arch] = path.basename(path.dirname(file)).split('-');
  const libc = /\.musl\.node$/.test(file) ? 'musl' : platform === 'linux' ? 'glibc' : null;
  const problems = [];
  let bin;
  try {
    bin = readBinary(file);
  } catch (err) {
    return { file, info: '', problems: [`unreadable: ${err.message}`] };
  }
  if (bin.platform !== platform) problems.push(`${bin.format} file in a ${platform} directory`);
  if (bin.arch !== arch) problems.push(`machine is ${bin.arch || 'unknown'}, directory says ${arch}`);
  if (!bin.exports.includes(ENTRY)) problems.push(`${ENTRY} is not exported`);
  const allowed = { darwin: MACHO_LIBS, win32: PE_DLLS }[platform] || (libc === 'musl' ? MUSL_LIBS : GLIBC_LIBS);
  const foreign = bin.needed.filter((n) => !allowed.test(n));
  if (foreign.length) problems.push(`needs non-system libraries: ${foreign.join(', ')}`);
  const glibc = bin.versions.filter((v) => v.name.startsWith('GLIBC_') && /^[\d.]+$/.test(v.name.slice(6)));
  let newest = null;
  for (const v of glibc) if (newest === null || !versionLE(v.name.slice(6), newest)) newest = v.name.slice(6);
  if (libc === 'musl' && (glibc.length || bin.needed.includes('libc.so.6'))) problems.push('a musl build that needs glibc');
  if (libc === 'glibc' && newest !== null && !versionLE(newest, maxGlibc)) {
    const late = [...new Set(glibc.filter((v) => !versionLE(v.name.slice(6), maxGlibc)).map((v) => v.name))];
    problems.push(`needs glibc ${newest} > ${maxGlibc} (${late.join(', ')})`);
  }
  const info = [
    `${bin.format} ${bin.arch || '?'}`,
    bin.exports.includes(ENTRY) ? `exports ${ENTRY}` : null,
    libc === 'glibc' && newest ? `GLIBC_${newest} newest` : null,
    bin.minos ? `macOS ${bin.minos}+` : null,
    `needs ${bin.needed.join(', ') || 'nothing'}`,
  ]
    .filter(Boolean)
    .join('; ');
  return { file, info, problems };
}

/** Checks every prebuilds/*\/*.node under `dir`; with `all`, the six shipped targets must be there, else those `required`. */
function checkDir(dir, { all = false, required = [], maxGlibc } = {}) {
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((d) => fs.statSync(path.join(dir, d)).isDirectory())
        .flatMap((d) => fs.readdirSync(path.join(dir, d)).filter((f) => f.endsWith('.node')).map((f) => path.join(dir, d, f)))
    : [];
  const results = files.map((f) => checkFile(f, { maxGlibc }));
  const missing = (all ? TARGETS : required).filter((t) => !files.includes(path.join(dir, t)));
  return { results, missing };
}

/** Packs the package in `root` into `into` (npm pack, no scripts) and returns the tarball's prebuilds/ there. */
function packPrebuilds(root, into) {
  const win = process.platform === 'win32';
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', into], { cwd: root, encoding: 'utf8', shell: win });
  const tarball = path.join(into, JSON.parse(out)[0].filename);
  execFileSync('tar', ['-xzf', tarball, '-C', into]);
  return path.join(into, 'package', 'prebuilds');
}

module.exports = { checkFile, checkDir, readBinary, packPrebuilds, TARGETS, NAMES };

function usage(message) {
  console.error(`check-prebuilds: ${message} (names: ${Object.keys(NAMES).join(', ')})`);
  process.exit(2);
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const mg = args.indexOf('--max-glibc');
  const maxGlibc = mg >= 0 ? args[mg + 1] : undefined;
  const pack = args.includes('--pack');
  if (args.some((a) => a.startsWith('--require=') || a.startsWith('--max-glibc='))) usage('give --require and --max-glibc their value as the next argument');
  const rq = args.indexOf('--require');
  const required = rq >= 0 ? (args[rq + 1] ?? '').split(',').map((n) => (Object.hasOwn(NAMES, n) ? NAMES[n] : usage(`--require: unknown target ${n}`))) : [];
  const given = args.find((a, i) => !a.startsWith('--') && (mg < 0 || i !== mg + 1) && (rq < 0 || i !== rq + 1));
  let dir = given || 'prebuilds';
  let tmp = null;
  if (pack) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memmap-pack-'));
    process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
    dir = packPrebuilds(given || '.', tmp);
    console.log(`npm pack of ${path.resolve(given || '.')}: checking its ${path.relative(tmp, dir)}/`);
  }
  const { results, missing } = checkDir(dir, { all, required, maxGlibc });
  const shown = (f) => (tmp ? path.relative(tmp, f) : f);
  let failed = missing.length > 0;
  for (const r of results) {
    console.log(`${r.problems.length ? 'FAIL' : 'ok  '} ${shown(r.file)}: ${r.info}`);
    for (const p of r.problems) console.log(`     ${p}`);
    if (r.problems.length) failed = true;
  }
  for (const m of missing) console.log(`FAIL ${shown(path.join(dir, m))}: missing`);
  if (!results.length && !missing.length) {
    console.log(`no prebuilds in ${dir}`);
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}
