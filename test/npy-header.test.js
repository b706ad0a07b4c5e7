'use strict';
// .npy headers: numpy's malformed-header cases (error code, file unchanged),
// and leniency parity: every header variant below is accepted by openNpy
// exactly when numpy's np.load(mmap_mode='r') accepts it, with the same result.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { openNpy, readNpyHeader, MemmapError, MemmapTypeError, MemmapRangeError } = require('..');
const { useTmpDir, fingerprint } = require('./helpers/tmp');
const { pythonJSON, runPython } = require('./helpers/python');
const { readWithNumpy } = require('../scripts/fuzz-npy');
const { throwsCode } = require('./helpers/assert');

const MAGIC = Buffer.from('\x93NUMPY', 'latin1');

/** A .npy file: magic, version, length field, header text as given (no padding added), data. */
function npyBytes(text, { version = [1, 0], data = Buffer.alloc(256, 7), encoding } = {}) {
  const header = Buffer.from(text, encoding || (version[0] === 3 ? 'utf8' : 'latin1'));
  const len = Buffer.alloc(version[0] === 1 ? 2 : 4);
  if (len.length === 2) len.writeUInt16LE(header.length);
  else len.writeUInt32LE(header.length);
  return Buffer.concat([MAGIC, Buffer.from(version), len, header, data]);
}

/** Pads a dict text with spaces and a newline to `align` bytes, as numpy does (16 before numpy 1.14). */
function padded(dict, align = 64, lenBytes = 2) {
  const used = MAGIC.length + 2 + lenBytes + Buffer.byteLength(dict, 'latin1') + 1;
  return dict + ' '.repeat((align - (used % align)) % align) + '\n';
}

const STD = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

describe('.npy headers', function () {
  const tmp = useTmpDir();
  let n = 0;
  function write(buf) {
    const file = tmp.file(`h${n++}.npy`);
    fs.writeFileSync(file, buf);
    return file;
  }

  /** Asserts readNpyHeader and openNpy in r, r+ and c refuse `file` with `code` and leave it unchanged. */
  function refused(file, code, options = {}) {
    const before = fingerprint(file);
    const errors = [throwsCode(() => readNpyHeader(file, options), code)];
    for (const mode of ['r', 'r+', 'c']) errors.push(throwsCode(() => openNpy(file, { ...options, mode }), code));
    assert.equal(fingerprint(file), before, `${file} changed`);
    return errors[0];
  }

  describe("numpy's malformed files are refused with a stable code and left unchanged", function () {
    it('bad magic prefixes: ERR_NPY_BAD_MAGIC; a prefix cut short: ERR_NPY_TRUNCATED', function () {
      const body = npyBytes(padded(STD)).subarray(8);
      for (const m of ['\x92NUMPY\x01\x00', '\x00NUMPY\x01\x00', '\x93numpy\x01\x00', '\x93MATLB\x01\x00']) {
        refused(write(Buffer.concat([Buffer.from(m, 'latin1'), body])), 'ERR_NPY_BAD_MAGIC');
      }
      refused(write(Buffer.from('hello, world\n')), 'ERR_NPY_BAD_MAGIC');
      refused(write(Buffer.from('PK\x03\x04', 'latin1')), 'ERR_NPY_BAD_MAGIC'); // an .npz
      for (const m of ['\x93NUMPY\x01', '\x93NUMPY', '\x93N', '']) refused(write(Buffer.from(m, 'latin1')), 'ERR_NPY_TRUNCATED');
    });

    it('unsupported versions (1,1) (0,0) (0,1) (2,2) (255,255): ERR_NPY_VERSION', function () {
      for (const v of [[1, 1], [0, 0], [0, 1], [2, 2], [255, 255], [4, 0]]) {
        const buf = npyBytes(padded(STD));
        buf[6] = v[0];
        buf[7] = v[1];
        const err = refused(write(buf), 'ERR_NPY_VERSION');
        assert.match(err.message, new RegExp(`${v[0]}\\.${v[1]}`));
      }
    });

    it('short length field, short header, short data (r/c): ERR_NPY_TRUNCATED', function () {
      const v1 = npyBytes(padded(STD));
      refused(write(v1.subarray(0, 9)), 'ERR_NPY_TRUNCATED');
      const v2 = npyBytes(padded(STD, 64, 4), { version: [2, 0] });
      refused(write(v2.subarray(0, 11)), 'ERR_NPY_TRUNCATED');
      refused(write(v1.subarray(0, 60)), 'ERR_NPY_TRUNCATED');
      const huge = Buffer.from(v2);
      huge.writeUInt32LE(0xffffffff, 8);
      refused(write(huge), 'ERR_NPY_TRUNCATED');
      // data: 2x3 float32 needs 24 bytes after the header
      const short = write(npyBytes(padded(STD), { data: Buffer.alloc(23) }));
      readNpyHeader(short); // the header itself is fine
      for (const mode of ['r', 'c']) {
        const before = fingerprint(short);
        throwsCode(() => openNpy(short, { mode }), 'ERR_NPY_TRUNCATED');
        assert.equal(fingerprint(short), before);
      }
    });

    it("short data in 'r+' grows the file, as numpy's memmap does", function () {
      const file = write(npyBytes(padded(STD), { data: Buffer.alloc(10, 1) }));
      const a = openNpy(file, { mode: 'r+' });
      assert.equal(fs.statSync(file).size, 128 + 24);
      a.close();
      const py = pythonJSON("import numpy as np, sys, json; a = np.load(sys.argv[1], mmap_mode='r'); print(json.dumps([list(a.shape), a.dtype.str]))", [file]);
      assert.deepEqual(py, [[2, 3], '<f4']);
    });

    it('header larger than maxHeaderSize (default 10000, as numpy): ERR_NPY_HEADER_TOO_LARGE', function () {
      const at = (chars) => STD + ' '.repeat(chars - STD.length - 1) + '\n';
      const ok = write(npyBytes(at(10000)));
      assert.deepEqual(readNpyHeader(ok).shape, [2, 3]);
      const big = write(npyBytes(at(10001)));
      refused(big, 'ERR_NPY_HEADER_TOO_LARGE');
      assert.equal(readNpyHeader(big, { maxHeaderSize: 10001 }).dataOffset, 10 + 10001);
      refused(ok, 'ERR_NPY_HEADER_TOO_LARGE', { maxHeaderSize: 9999 });
      // version 3.0 counts characters, not bytes (as numpy: len(header.decode('utf8')))
      const wide = STD.replace('}', '} # ' + 'é'.repeat(4000));
      const v3 = write(npyBytes(wide + ' '.repeat(9000 - wide.length) + '\n', { version: [3, 0] }));
      assert.ok(fs.statSync(v3).size > 10000 + 12 + 256);
      assert.deepEqual(readNpyHeader(v3).version, [3, 0]);
      throwsCode(() => readNpyHeader(v3, { maxHeaderSize: 1.5 }), 'ERR_INVALID_ARG_TYPE', MemmapTypeError);
      throwsCode(() => readNpyHeader(v3, { maxHeaderSize: -1 }), 'ERR_INVALID_ARG_VALUE', MemmapRangeError);
    });

    it('header that is not a dict literal, or not valid UTF-8 in 3.0: ERR_NPY_HEADER', function () {
      for (const text of ["[('descr', '<f4')]", "'descr'", '(1,)', '', '   \n', "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)", "dict(descr='<f4')", '{1: 2']) {
        refused(write(npyBytes(padded(text))), 'ERR_NPY_HEADER');
      }
      const bad = Buffer.concat([Buffer.from(STD.slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from('}\n')]);
      refused(write(npyBytes(bad.toString('latin1'), { version: [3, 0], encoding: 'latin1' })), 'ERR_NPY_HEADER');
    });

    it("numpy's missing and extra keys: ERR_NPY_HEADER", function () {
      refused(write(npyBytes("{'descr': 'x', 'shape': (1, 2), }                    \n")), 'ERR_NPY_HEADER');
      refused(write(npyBytes(padded("{'descr': 'x', 'fortran_order': False, 'extrakey': -1, 'shape': (1, 2), }"))), 'ERR_NPY_HEADER');
      refused(write(npyBytes(padded("{b'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"))), 'ERR_NPY_HEADER');
      refused(write(npyBytes(padded('{}'))), 'ERR_NPY_HEADER');
    });

    it('shape not a tuple of non-negative ints, fortran_order not a bool, descr not a dtype: ERR_NPY_HEADER', function () {
      const dict = (shape, fo = 'False', descr = "'<f4'") => padded(`{'descr': ${descr}, 'fortran_order': ${fo}, 'shape': ${shape}, }`);
      for (const shape of ['[3]', '(3.0,)', '(-1,)', '(True,)', "('3',)", '3', '(3, None)', 'None', '(99999999999999999999,)', '(2**3,)']) {
        refused(write(npyBytes(dict(shape))), 'ERR_NPY_HEADER');
      }
      for (const fo of ['0', "'False'", 'None', '1']) refused(write(npyBytes(dict('(3,)', fo))), 'ERR_NPY_HEADER');
      for (const descr of ['5', "b'<f4'", 'None', '{}']) refused(write(npyBytes(dict('(3,)', 'False', descr))), 'ERR_NPY_HEADER');
    });

    it('dtypes memmap cannot map (structured, object, strings, datetime, sub-array): ERR_NPY_DTYPE naming the dtype', function () {
      const dict = (descr) => padded(`{'descr': ${descr}, 'fortran_order': False, 'shape': (3,), }`);
      for (const [descr, name] of [
        ["'<U5'", '<U5'],
        ["'|S3'", '|S3'],
        ["'|O'", '|O'],
        ["'<M8[ns]'", '<M8[ns]'],
        ["'<m8[s]'", '<m8[s]'],
        ["'|V8'", '|V8'],
        ["'<f16'", '<f16'],
        ["'x'", 'x'],
        ["[('a', '<f4'), ('b', '<i8')]", "'a'"],
        ["('<f4', (2,))", '(2)'],
      ]) {
        const err = refused(write(npyBytes(dict(descr))), 'ERR_NPY_DTYPE');
        assert.ok(err.message.includes(name.replace(/'/g, '"')), `${err.message} should name ${name}`);
      }
    });

    it('a missing file or a directory: the errno name, as memmap()', function () {
      throwsCode(() => readNpyHeader(tmp.file('nope.npy')), 'ENOENT');
      throwsCode(() => openNpy(tmp.file('nope.npy')), 'ENOENT');
      throwsCode(() => openNpy(tmp.dir), 'EISDIR');
      throwsCode(() => openNpy(tmp.dir, { mode: 'w+', dtype: 'f4', shape: [1] }), 'EISDIR');
      throwsCode(() => readNpyHeader(42), 'ERR_INVALID_ARG_TYPE');
      throwsCode(() => openNpy(tmp.file('x.npy'), { mode: 'rw' }), 'ERR_INVALID_MODE');
      throwsCode(() => openNpy(tmp.file('x.npy'), { mode: 'w+', dtype: 'f4', shape: [1], fortranOrder: 'yes' }), 'ERR_INVALID_ARG_TYPE');
      assert.ok(!fs.existsSync(tmp.file('x.npy')));
    });
  });

  describe("as lenient as numpy's reader (parity with np.load(mmap_mode='r'))", function () {
    const dict = (body) => `{${body}}`;
    const base = "'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)";
    // [label, header text, version]
    const VARIANTS = [
      ['numpy 2 layout', padded(STD)],
      ['double quotes, no trailing comma, no padding or newline', '{"descr": "<f4", "fortran_order": False, "shape": (2, 3)}'],
      ['other key order, Fortran, big-endian', padded("{'shape': (2, 3), 'fortran_order': True, 'descr': '>i2'}")],
      ['16-byte alignment (numpy < 1.14)', padded(STD, 16)],
      ['odd data offset', STD],
      ['whitespace everywhere', "{ 'descr' : '<f4' ,\n 'fortran_order' : False ,\t'shape' : ( 2 , 3 , ) , }\n"],
      ['comments', "{'descr': '<f4', # float\n 'fortran_order': False, 'shape': (6,)} # done\n"],
      ['Python 2 long ints (1.0)', padded("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }")],
      ['Python 2 long ints (2.0)', padded("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3 L), }", 64, 4), [2, 0]],
      ['Python 2 long ints (3.0: refused)', padded("{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }", 64, 4), [3, 0]],
      ['u-prefixed strings', padded("{u'descr': u'<f4', u'fortran_order': False, u'shape': (3,)}")],
      ['raw and triple-quoted strings', padded("{r'descr': '''<f4''', \"\"\"fortran_order\"\"\": False, 'shape': (3,)}")],
      ['implicit concatenation and escapes', padded("{'de' \"scr\": '\\x3cf' '\\u0034', 'fortran_order': False, 'shape': (3,)}")],
      ['parenthesised dict', padded(`(${dict(base)})`)],
      ['leading spaces and tab', '  \t' + padded(dict(base))],
      ['leading blank and comment lines', '\n# header\n\n' + dict(base) + '\n'],
      ['CRLF and CR newlines', dict("'descr': '<f4',\r\n'fortran_order': False,\r'shape': (2, 3)") + '\r\n'],
      ['form feed', '\f' + dict(base) + '\f\n'],
      ['line continuation', dict("'descr': '<f4', \\\n'fortran_order': False, 'shape': (2, 3)") + '\n'],
      ['duplicate key, last wins', padded("{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}")],
      ['empty shape (0-d)', padded("{'descr': '<f4', 'fortran_order': False, 'shape': ()}")],
      ['int spellings', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2, 0o3, 0b1, 1_0, +1, -0, 00)}")],
      ['nested parentheses', padded("{'descr': '<f4', 'fortran_order': False, 'shape': ((2, (3))),}")],
      ['non-ASCII comment (1.0 latin1)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} # caf\xe9\n"],
      ['non-ASCII comment (3.0 utf8)', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} # caf\u00e9 \u20ac\n", [3, 0]],
      // numpy's retry (tokenize + untokenize) accepts this on Python <= 3.11 only; we accept it everywhere.
      ['trailing whitespace-only last line (1.0: numpy on Python <= 3.11 retries and accepts)', dict(base) + '\n  ', undefined, 'python-dependent'],
      ['trailing whitespace-only last line (3.0: IndentationError)', dict(base) + '\n  ', [3, 0]],
      ['indented first line', '\n  ' + dict(base)],
      ['trailing garbage', dict(base) + ' x\n'],
      ['trailing comma at top level (a tuple)', dict(base) + ',\n'],
      ['semicolon', dict(base) + ';\n'],
      ['double comma', dict(base + ',,')],
      ['missing comma', padded("{'descr': '<f4' 'fortran_order': False, 'shape': (3,)}")],
      ['unterminated string', padded("{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}")],
      ['newline in a string', "{'descr': '<f4\n', 'fortran_order': False, 'shape': (3,)}\n"],
      ['f-string', padded("{'descr': f'<f4', 'fortran_order': False, 'shape': (3,)}")],
      ['leading zero', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (03,)}")],
      ['bad underscore', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (3_,)}")],
      ['double sign', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (--3,)}")],
      ['complex dim', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (1+0j,)}")],
      ['expression', padded("{'descr': '<f4', 'fortran_order': not True, 'shape': (3,)}")],
      ['unpacking', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), **{}}")],
      ['set', padded("{'descr', 'fortran_order', 'shape'}")],
      ['NUL byte', "{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}\0\n"],
      ['300 nested parentheses', `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(300)}3,${')'.repeat(300)}}\n`],
      ['unhashable key', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), [1]: 2}")],
      ['extra float value', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1.5e3}")],
      ['duplicate with bad first value', padded("{'shape': 1.5, 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}")],
      ['duplicate with a name first', padded("{'shape': foo, 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}")],
      ['bool shape', padded("{'descr': '<f4', 'fortran_order': False, 'shape': (True, 2)}")],
    ];
    for (const d of ['f4', 'float32', '=f8', '|f4', 'd', '?', 'b1', '<b1', 'int', 'i', 'complex', 'e', 'u1', 'B', '>c8', 'half', 'longlong']) {
      VARIANTS.push([`descr ${d}`, padded(`{'descr': '${d}', 'fortran_order': False, 'shape': (3,)}`)]);
    }

    let files;
    let numpy;
    before(function () {
      files = VARIANTS.map(([, text, version]) => write(npyBytes(text, { version })));
      numpy = readWithNumpy(files, runPython).map(({ mappable, ...r }) => r); // eslint-disable-line no-unused-vars
    });

    it('has both accepted and refused variants', function () {
      assert.ok(numpy.filter((r) => r.ok).length >= 20);
      assert.ok(numpy.filter((r) => !r.ok).length >= 20);
    });

    VARIANTS.forEach(([label], i) => {
      it(label, function () {
        let expected = numpy[i];
        if (VARIANTS[i][3] === 'python-dependent' && !expected.ok) expected = { ok: true, shape: [2, 3], fortran: false, descr: '<f4', offset: 10 + VARIANTS[i][1].length };
        let ours;
        try {
          const h = readNpyHeader(files[i]);
          const a = openNpy(files[i], { mode: 'r' });
          assert.deepEqual([...a.shape], h.shape);
          a.close();
          ours = { ok: true, shape: h.shape, fortran: h.fortranOrder, descr: h.descr, offset: h.dataOffset };
        } catch (err) {
          assert.ok(err instanceof MemmapError, `not a MemmapError: ${err && err.stack}`);
          ours = { ok: false, code: err.code, message: err.message };
        }
        if (expected.ok) assert.deepEqual(ours, expected, `numpy accepts: ${JSON.stringify(VARIANTS[i][1])}`);
        else {
          assert.equal(ours.ok, false, `numpy refuses (${expected.error}), we accepted: ${JSON.stringify(VARIANTS[i][1])}`);
          assert.match(ours.code, /^ERR_NPY_(HEADER|DTYPE)$/);
        }
      });
    });
  });
});
