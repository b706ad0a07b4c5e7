// A parser for the Python literals that numpy's ast.literal_eval accepts in
// .npy headers. No eval: it tokenizes like CPython (quotes, escapes, numbers,
// comments, continuations, indentation) and builds only literal values, so a
// header is accepted exactly when numpy's reader would parse it.

import { appendOwn } from './options';

export type PyValue =
  | { type: 'str'; value: string }
  | { type: 'bytes' }
  | { type: 'int'; value: bigint }
  | { type: 'float' }
  | { type: 'complex' }
  | { type: 'bool'; value: boolean }
  | { type: 'None' }
  | { type: 'Ellipsis' }
  | { type: 'tuple'; items: PyValue[] }
  | { type: 'list'; items: PyValue[] }
  | { type: 'set'; items: PyValue[] }
  | { type: 'dict'; keys: PyValue[]; values: PyValue[] };

/** A syntax error or a non-literal expression; `pos` is the character offset. */
export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

export interface PyLiteralOptions {
  /**
   * Be as lenient as numpy's retry for version 1.0/2.0 headers (_filter_header):
   * skip Python 2 long suffixes (`3L`) and a whitespace-only last line.
   */
  numpyRetry?: boolean;
}

type Token =
  | { kind: 'op'; op: string; pos: number }
  | { kind: 'str'; value: string; bytes: boolean; pos: number }
  | { kind: 'num'; value: PyValue; pos: number }
  | { kind: 'name'; name: string; pos: number }
  | { kind: 'newline'; pos: number }
  | { kind: 'eof'; pos: number };

// CPython's parser gives up beyond 200 nested brackets; so do we (and our stack stays small).
const MAX_DEPTH = 200;

const NUMBER = /0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?[jJ]?/y;
const DECIMAL_INT = /^(?:[1-9](?:_?\d)*|0(?:_?0)*)$/;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const STRING_PREFIX = /^(?:r|u|b|br|rb|f|fr|rf)$/i;
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function tokenize(src: string, options: PyLiteralOptions): Token[] {
  const s = src;
  const n = s.length;
  const tokens: Token[] = [];
  let i = 0;
  let depth = 0;
  let lineStart = true;
  let lastWasNumber = false;
  const fail = (msg: string, at = i): never => {
    throw new PyLiteralError(msg, at);
  };
  const push = (t: Token): void => {
    appendOwn(tokens, t);
    lastWasNumber = t.kind === 'num';
  };

  while (i < n) {
    if (lineStart && depth === 0) {
      // Indentation of a logical line: blank and comment lines are skipped; an
      // indented expression (or trailing whitespace-only last line) is an IndentationError.
      let col = 0;
      let j = i;
      for (;;) {
        const c = s[j];
        if (c === ' ' || c === '\t') col++;
        else if (c === '\f') col = 0;
        else if (c === '\\' && s[j + 1] === '\n') j++;
        else break;
        j++;
      }
      if (j >= n) {
        // numpy's 1.0/2.0 retry (tokenize + untokenize) drops a whitespace-only last line.
        if (col > 0 && !options.numpyRetry) fail('unexpected indent', j);
        i = j;
        break;
      }
      if (s[j] === '\n') {
        i = j + 1;
        lastWasNumber = false;
        continue;
      }
      if (s[j] === '#') {
        while (j < n && s[j] !== '\n') j++;
        i = j;
        lastWasNumber = false;
        continue;
      }
      if (col > 0) fail('unexpected indent', j);
      lineStart = false;
      i = j;
      continue;
    }
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
    } else if (c === '\n') {
      if (depth === 0) {
        const last = tokens[tokens.length - 1];
        if (last !== undefined && last.kind !== 'newline') push({ kind: 'newline', pos: i });
        lineStart = true;
      }
      lastWasNumber = false;
      i++;
    } else if (c === '#') {
      while (i < n && s[i] !== '\n') i++;
      lastWasNumber = false;
    } else if (c === '\\') {
      if (s[i + 1] !== '\n') fail('unexpected character after line continuation character');
      i += 2;
      if (i >= n) fail('unexpected EOF while parsing');
    } else if ('([{'.includes(c)) {
      if (++depth > MAX_DEPTH) fail('too many nested parentheses');
      push({ kind: 'op', op: c, pos: i++ });
    } else if (')]}'.includes(c)) {
      if (--depth < 0) fail(`unmatched '${c}'`);
      push({ kind: 'op', op: c, pos: i++ });
    } else if (c === ',' || c === ':' || c === '+' || c === '-') {
      push({ kind: 'op', op: c, pos: i++ });
    } else if (c === '.' && s.startsWith('...', i)) {
      push({ kind: 'op', op: '...', pos: i });
      i += 3;
    } else if ((c >= '0' && c <= '9') || (c === '.' && s[i + 1] >= '0' && s[i + 1] <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(s) as RegExpExecArray; // always matches at a digit or '.digit'
      const text = m[0];
      const start = i;
      i += text.length;
      let value: PyValue;
      if (/[jJ]$/.test(text)) value = { type: 'complex' };
      else if (/^0[xXoObB]/.test(text)) value = { type: 'int', value: BigInt(text.replace(/_/g, '')) };
      else if (/[.eE]/.test(text)) value = { type: 'float' };
      else if (DECIMAL_INT.test(text)) value = { type: 'int', value: BigInt(text.replace(/_/g, '')) };
      else fail('leading zeros in decimal integer literals are not permitted', start);
      push({ kind: 'num', value: value!, pos: start });
      if (isIdentChar(s[i])) {
        if (options.numpyRetry && s[i] === 'L' && !isIdentChar(s[i + 1])) {
          i++;
          lastWasNumber = false;
        } else {
          fail('invalid decimal literal', i);
        }
      }
    } else if (c === "'" || c === '"' || /[A-Za-z_]/.test(c)) {
      let prefix = '';
      if (c !== "'" && c !== '"') {
        IDENT.lastIndex = i;
        const id = (IDENT.exec(s) as RegExpExecArray)[0];
        const q = s[i + id.length];
        if (!((q === "'" || q === '"') && STRING_PREFIX.test(id))) {
          const wasNumber = lastWasNumber;
          const at = i;
          i += id.length;
          if (options.numpyRetry && wasNumber && id === 'L') {
            lastWasNumber = false;
            continue;
          }
          push({ kind: 'name', name: id, pos: at });
          continue;
        }
        prefix = id.toLowerCase();
        i += id.length;
      }
      if (prefix.includes('f')) fail('f-strings are not literals');
      push(lexString(s, i, prefix, fail, (end) => (i = end)));
    } else {
      fail(`invalid character ${JSON.stringify(c)}`);
    }
  }
  if (depth > 0) fail('unexpected EOF while parsing', n);
  const last = tokens[tokens.length - 1];
  if (last !== undefined && last.kind !== 'newline') appendOwn(tokens, { kind: 'newline', pos: n });
  appendOwn(tokens, { kind: 'eof', pos: n });
  return tokens;
}

function lexString(s: string, start: number, prefix: string, fail: (msg: string, at?: number) => never, done: (end: number) => void): Token {
  const raw = prefix.includes('r');
  const bytes = prefix.includes('b');
  const q = s[start];
  const triple = s.startsWith(q + q + q, start);
  let j = start + (triple ? 3 : 1);
  let out = '';
  for (;;) {
    if (j >= s.length) fail('unterminated string literal', start);
    const ch = s[j];
    if (ch === '\\') {
      const e = s[j + 1];
      if (e === undefined) fail('unterminated string literal', start);
      if (raw) {
        out += ch + e;
        j += 2;
        continue;
      }
      j += 2;
      if (e === '\n') continue;
      if (Object.hasOwn(SIMPLE_ESCAPES, e)) {
        out += SIMPLE_ESCAPES[e];
      } else if (e >= '0' && e <= '7') {
        let k = j - 1;
        let digits = '';
        while (digits.length < 3 && s[k] >= '0' && s[k] <= '7') digits += s[k++];
        j = k;
        const code = parseInt(digits, 8);
        if (bytes && code > 0xff) fail('invalid octal escape in bytes', j);
        out += String.fromCharCode(code);
      } else if (e === 'x' || (!bytes && (e === 'u' || e === 'U'))) {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = s.slice(j, j + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`truncated \\${e} escape`, j);
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) fail('illegal Unicode character', j);
        out += String.fromCodePoint(code);
        j += len;
      } else if (e === 'N' && !bytes) {
        // Unicode names would need the whole name table; no numpy header uses them.
        fail('\\N{...} escapes are not supported', j);
      } else {
        out += '\\' + e;
      }
      continue;
    }
    if (triple ? s.startsWith(q + q + q, j) : ch === q) {
      done(j + (triple ? 3 : 1));
      break;
    }
    if (ch === '\n' && !triple) fail('unterminated string literal', start);
    if (bytes && ch.charCodeAt(0) > 0x7f) fail('bytes can only contain ASCII literal characters', j);
    out += ch;
    j++;
  }
  return { kind: 'str', value: out, bytes, pos: start };
}

class Parser {
  #t: Token[];
  #k = 0;
  #depth = 0;

  constructor(tokens: Token[]) {
    this.#t = tokens;
  }

  #peek(): Token {
    return this.#t[this.#k];
  }

  #isOp(op: string): boolean {
    const t = this.#peek();
    return t.kind === 'op' && t.op === op;
  }

  #fail(msg: string, t: Token = this.#peek()): never {
    throw new PyLiteralError(msg, t.pos);
  }

  #expect(op: string): void {
    if (!this.#isOp(op)) this.#fail(`expected '${op}'`);
    this.#k++;
  }

  #startsExpr(): boolean {
    const t = this.#peek();
    return t.kind === 'str' || t.kind === 'num' || t.kind === 'name' || (t.kind === 'op' && '([{+-...'.includes(t.op) && t.op !== '.');
  }

  top(): PyValue {
    if (!this.#startsExpr()) this.#fail('invalid syntax');
    const v = this.#sequence('', 'tuple');
    if (this.#peek().kind === 'newline') this.#k++;
    if (this.#peek().kind !== 'eof') this.#fail('invalid syntax');
    return v;
  }

  /** expr (',' expr)* [','] up to `close`: a tuple/list/set if there was a comma (or always, for list/set). */
  #sequence(close: string, type: 'tuple' | 'list' | 'set', first?: PyValue): PyValue {
    const items: PyValue[] = [first ?? this.#expr()];
    let comma = false;
    while (this.#isOp(',')) {
      this.#k++;
      comma = true;
      if (close === '' ? !this.#startsExpr() : this.#isOp(close)) break;
      appendOwn(items, this.#expr());
    }
    if (close !== '') this.#expect(close);
    if (type === 'tuple' && !comma) return items[0];
    if (type === 'set') for (let i = 0; i < items.length; i++) this.#hashable(items[i]);
    return { type, items };
  }

  #hashable(v: PyValue): void {
    if (v.type === 'list' || v.type === 'dict' || v.type === 'set') this.#fail(`unhashable type: '${v.type}'`);
    if (v.type === 'tuple') for (let i = 0; i < v.items.length; i++) this.#hashable(v.items[i]);
  }

  // literal_eval allows exactly: [sign] number, or [sign] real (+|-) imaginary.
  #expr(): PyValue {
    const start = this.#peek();
    const left = this.#unary();
    if (!this.#isOp('+') && !this.#isOp('-')) return left.value;
    this.#k++;
    const right = this.#unary();
    const realLeft = left.value.type === 'int' || left.value.type === 'float';
    if (!realLeft || right.signed || right.value.type !== 'complex' || this.#isOp('+') || this.#isOp('-')) {
      this.#fail('malformed node or string: only complex literals may use + or -', start);
    }
    return { type: 'complex' };
  }

  #unary(): { value: PyValue; signed: boolean } {
    const start = this.#peek();
    let negative = false;
    let signs = 0;
    while (this.#isOp('+') || this.#isOp('-')) {
      negative = this.#isOp('-') !== negative;
      signs++;
      this.#k++;
    }
    const value = this.#atom();
    if (signs === 0) return { value, signed: false };
    if (signs > 1 || !(value.type === 'int' || value.type === 'float' || value.type === 'complex')) {
      this.#fail('malformed node or string: a sign applies only to a number', start);
    }
    return { value: value.type === 'int' && negative ? { type: 'int', value: -value.value } : value, signed: true };
  }

  #atom(): PyValue {
    const t = this.#peek();
    if (++this.#depth > MAX_DEPTH) this.#fail('too many nested parentheses');
    try {
      switch (t.kind) {
        case 'num':
          this.#k++;
          return t.value;
        case 'str': {
          let value = '';
          const bytes = t.bytes;
          while (this.#peek().kind === 'str') {
            const s = this.#peek() as Extract<Token, { kind: 'str' }>;
            if (s.bytes !== bytes) this.#fail('cannot mix bytes and nonbytes literals');
            value += s.value;
            this.#k++;
          }
          return bytes ? { type: 'bytes' } : { type: 'str', value };
        }
        case 'name':
          this.#k++;
          if (t.name === 'True' || t.name === 'False') return { type: 'bool', value: t.name === 'True' };
          if (t.name === 'None') return { type: 'None' };
          if (t.name === 'set' && this.#isOp('(')) {
            this.#k++;
            this.#expect(')');
            return { type: 'set', items: [] };
          }
          return this.#fail(`malformed node or string: name '${t.name}' is not a literal`, t);
        case 'op':
          this.#k++;
          if (t.op === '...') return { type: 'Ellipsis' };
          if (t.op === '(') {
            if (this.#isOp(')')) {
              this.#k++;
              return { type: 'tuple', items: [] };
            }
            return this.#sequence(')', 'tuple');
          }
          if (t.op === '[') {
            if (this.#isOp(']')) {
              this.#k++;
              return { type: 'list', items: [] };
            }
            return this.#sequence(']', 'list');
          }
          if (t.op === '{') return this.#braces();
          return this.#fail('invalid syntax', t);
        default:
          return this.#fail('invalid syntax', t);
      }
    } finally {
      this.#depth--;
    }
  }

  #braces(): PyValue {
    if (this.#isOp('}')) {
      this.#k++;
      return { type: 'dict', keys: [], values: [] };
    }
    const first = this.#expr();
    if (!this.#isOp(':')) return this.#sequence('}', 'set', first);
    const keys: PyValue[] = [];
    const values: PyValue[] = [];
    let key = first;
    for (;;) {
      this.#expect(':');
      this.#hashable(key);
      appendOwn(keys, key);
      appendOwn(values, this.#expr());
      if (this.#isOp('}')) break;
      this.#expect(',');
      if (this.#isOp('}')) break;
      key = this.#expr();
    }
    this.#k++;
    return { type: 'dict', keys, values };
  }
}

/**
 * Parses `src` the way Python's ast.literal_eval(src) does (literal_eval
 * strips leading spaces and tabs first). Throws PyLiteralError otherwise.
 */
export function parsePyLiteral(src: string, options: PyLiteralOptions = {}): PyValue {
  if (src.includes('\0')) throw new PyLiteralError('source code string cannot contain null bytes', src.indexOf('\0'));
  // Python reads source with universal newlines.
  const text = src.replace(/^[ \t]+/, '').replace(/\r\n?/g, '\n');
  return new Parser(tokenize(text, options)).top();
}
