// The windows an array reads elements through: zero-copy byte ranges of its
// storage, made lazily and cached. V8 counts a view over a whole mapping as
// external memory and collects garbage for it, so the first get()/set() calls
// go through small windows, and only spread-out access (or `data`) makes the
// whole-array one. Arrays larger than one ArrayBuffer use 1 GiB windows.
// A window moved away with ArrayBuffer.prototype.transfer() is noticed (it
// reads as detached) and every cached view is made again.
// Where the runtime refuses ArrayBuffers over a mapping (Electron), the first
// refusal switches element access to copies through a scratch buffer
// (Storage.load/store); `data`, `bytes` and segments() throw the refusal.
import { maxBufferLength } from './binding';
import type { Reader, Writer } from './codec';
import { asMemmapError } from './boundary';
import { isNoExternalBuffers, MemmapError } from './errors';
import type { ByteRange, Copying, Storage } from './storage';

/** Window size and count for the first element accesses (a multiple of every itemsize). */
const SMALL_WINDOW = 1 << 16;
const SMALL_WINDOWS_MAX = 8;
/**
 * Element reads done with a read of the file (Storage.readAt) before the first
 * window is made: a pread costs ~2 µs where the first touch of a mapping costs a
 * page fault and a dearer munmap (~80 µs together on a VM), so opening an array
 * to read a few elements stays cheap.
 */
const FILE_READS = 8;

/**
 * Default segments() window and the windows of arrays past the ArrayBuffer
 * limit: 1 GiB keeps element indices far below 2^31, where V8's loops over
 * TypedArrays stay on their fast integer path (they deoptimize past it).
 */
export const SEGMENT_BYTES = 2 ** 30;

export class Windows {
  /** The whole array fits one ArrayBuffer. */
  readonly fits: boolean;
  /** Bytes per window: the whole array when it fits. */
  readonly window: number;
  readonly #byteLength: number;
  /** The storage, or ERR_CLOSED. */
  readonly #live: () => Storage;
  // Maps, not Arrays: an accessor someone defines on Array.prototype[0] must
  // not be able to stand in for a cached window.
  #segments = new Map<number, ByteRange>();
  #views = new Map<number, DataView>();
  #view0: DataView | null = null;
  #small: Map<number, DataView> | null = null;
  /** Offset of the byte asked for inside the view #viewFor() returned (read at once by read()/write()). */
  #at = 0;
  #typed: ArrayLike<unknown> | null = null;
  #bytes: Uint8Array | null = null;
  /** Element reads left to do through Storage.readAt (0 once any window exists). */
  #fileReads: number;
  readonly #itemsize: number;
  #scratch: Uint8Array | null = null;
  #scratchView: DataView | null = null;
  /** The storage refused a window (ERR_NO_EXTERNAL_BUFFERS): elements go through load()/store(). */
  #copies = false;

  /** `fileReads`: the storage may have readAt() (first element reads then go through it). */
  constructor(live: () => Storage, byteLength: number, itemsize: number, fileReads: boolean) {
    this.#live = live;
    this.#byteLength = byteLength;
    this.#itemsize = itemsize;
    this.#fileReads = fileReads ? FILE_READS : 0;
    this.fits = byteLength <= maxBufferLength;
    // No Math method: refresh()/resize() make windows where a patched built-in must not run.
    const cap = maxBufferLength < SEGMENT_BYTES ? maxBufferLength : SEGMENT_BYTES;
    this.window = this.fits ? (byteLength > 1 ? byteLength : 1) : (cap - (cap % itemsize));
    if (byteLength > SMALL_WINDOW) this.#small = new Map();
  }

  /** Window `s` (created on first use, detached by the storage's close()). */
  segment(s: number): ByteRange {
    let win = this.#segments.get(s);
    if (win !== undefined && win.buffer.byteLength === 0 && this.#byteLength > 0) {
      this.drop(); // transfer()red away
      win = undefined;
    }
    if (win === undefined) {
      const start = s * this.window;
      this.#fileReads = 0;
      win = this.#live().bytes(start, Math.min(this.window, this.#byteLength - start));
      this.#segments.set(s, win);
    }
    return win;
  }

  /** Bytes [start, start + length) as a window of their own (not cached). */
  range(start: number, length: number): ByteRange {
    this.#fileReads = 0;
    return this.#live().bytes(start, length);
  }

  #segView(s: number): DataView {
    let view = this.#views.get(s);
    if (view === undefined) {
      view = dataView(this.segment(s));
      this.#views.set(s, view);
    }
    return view;
  }

  /** The view holding byte `b`; sets #at to b's offset in it. */
  #viewFor(b: number): DataView {
    if (this.#view0 !== null) {
      this.#at = b;
      return this.#view0;
    }
    if (this.#small !== null) {
      const w = Math.floor(b / SMALL_WINDOW);
      let view = this.#small.get(w);
      if (view === undefined && this.#small.size < SMALL_WINDOWS_MAX) {
        const start = w * SMALL_WINDOW;
        this.#fileReads = 0;
        view = dataView(this.#live().bytes(start, Math.min(SMALL_WINDOW, this.#byteLength - start)));
        this.#small.set(w, view);
      }
      if (view !== undefined) {
        this.#at = b - w * SMALL_WINDOW;
        return view;
      }
      this.#small = null; // access is spread out: switch to whole-array windows
    }
    if (this.fits) {
      this.#view0 = dataView(this.segment(0));
      this.#at = b;
      return this.#view0;
    }
    const s = Math.floor(b / this.window);
    this.#at = b - s * this.window;
    return this.#segView(s);
  }

  /** read(view, offset) at byte `b`, through fresh views if cached ones were transfer()red away. */
  read(b: number, read: Reader): unknown {
    if (this.#fileReads > 0) {
      let v: unknown;
      try {
        v = this.#readFile(b, read);
      } catch (err) {
        throw asMemmapError(err); // ERR_SIGBUS, or a patched DataView's error as ERR_CALLBACK
      }
      if (v !== NOT_READ) return v;
    }
    if (this.#copies) return this.#readCopy(b, read);
    try {
      return read(this.#viewFor(b), this.#at);
    } catch (err) {
      if (isNoExternalBuffers(err)) {
        this.#copies = true;
        return this.#readCopy(b, read);
      }
      if (err instanceof MemmapError) throw err;
      this.#live(); // closed meanwhile: ERR_CLOSED
      this.drop();
      try {
        return read(this.#viewFor(b), this.#at);
      } catch (again) {
        throw asMemmapError(again); // a patched DataView method, not a moved window
      }
    }
  }

  /** The element at byte `b` read with a read of the file, or NOT_READ (the storage has windows out: use them). */
  #readFile(b: number, read: Reader): unknown {
    const scratch = this.#freshScratch();
    const storage = this.#live();
    // A reader reads at most an element (readByte() reads one byte of one): stop at the end.
    const left = this.#byteLength - b;
    if (left <= 0 || storage.readAt === undefined || !storage.readAt(b, left < this.#itemsize ? left : this.#itemsize, scratch)) {
      this.#fileReads = 0;
      return NOT_READ;
    }
    this.#fileReads--;
    return read(this.#scratchView as DataView, 0);
  }

  /** A scratch buffer of the largest itemsize (complex128), made again if a patched DataView's transfer() moved it away. */
  #freshScratch(): Uint8Array {
    if (this.#scratch === null || typedArrayLength.call(this.#scratch) === 0) {
      this.#scratch = new Uint8Array(16);
      this.#scratchView = new DataView(this.#scratch.buffer);
    }
    return this.#scratch;
  }

  /** The element at byte `b`, copied out of the storage (no window). */
  #readCopy(b: number, read: Reader): unknown {
    const scratch = this.#freshScratch();
    const storage = this.#live() as Copying;
    const left = this.#byteLength - b;
    try {
      storage.load(b, left < this.#itemsize ? left : this.#itemsize, scratch);
      return read(this.#scratchView as DataView, 0);
    } catch (err) {
      throw asMemmapError(err); // ERR_SIGBUS, or a patched DataView's error as ERR_CALLBACK
    }
  }

  /** write() of `width` bytes at `b` through the scratch buffer (no window). */
  #writeCopy(b: number, write: Writer, value: unknown, width: number): void {
    const scratch = this.#freshScratch();
    const storage = this.#live() as Copying;
    try {
      write(this.#scratchView as DataView, 0, value);
      storage.store(b, width, scratch);
    } catch (err) {
      throw asMemmapError(err);
    }
  }

  /** write(view, offset, value) at byte `b`; `width`: the bytes it writes (an element's, or a complex part's). */
  write(b: number, write: Writer, value: unknown, width: number = this.#itemsize): void {
    if (this.#copies) return this.#writeCopy(b, write, value, width);
    try {
      write(this.#viewFor(b), this.#at, value);
    } catch (err) {
      if (isNoExternalBuffers(err)) {
        this.#copies = true;
        return this.#writeCopy(b, write, value, width);
      }
      if (err instanceof MemmapError) throw err;
      this.#live();
      this.drop();
      try {
        write(this.#viewFor(b), this.#at, value);
      } catch (again) {
        throw asMemmapError(again);
      }
    }
  }

  /**
   * A typed view of the whole array made by `make` from window 0, cached
   * (`data`); made again if it was transfer()red away. Element access shares
   * the whole-array window from then on.
   */
  whole<T extends ArrayLike<unknown>>(make: (win: ByteRange) => T, empty: boolean): T {
    if (this.#typed !== null && !empty && typedArrayLength.call(this.#typed) === 0) this.drop(); // transfer()red away
    if (this.#typed === null) this.#retry(() => {
      const win = this.segment(0);
      this.#typed = make(win);
      this.#view0 ??= dataView(win);
      this.#small = null;
    });
    return this.#typed as T;
  }

  /** The whole array's bytes, cached (`bytes`). */
  bytes(): Uint8Array {
    if (this.#bytes !== null && this.#byteLength > 0 && typedArrayLength.call(this.#bytes) === 0) this.drop();
    if (this.#bytes === null) this.#retry(() => {
      const win = this.segment(0);
      this.#bytes = new Uint8Array(win.buffer, win.byteOffset, this.#byteLength);
    });
    return this.#bytes as Uint8Array;
  }

  /**
   * Runs `fn`; if it meets a detached window (a transfer() by JavaScript that
   * ran meanwhile: a patched DataView or iterator), once more over fresh
   * windows. A second failure is ERR_CALLBACK.
   */
  #retry<R>(fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      if (err instanceof MemmapError) throw err;
      this.#live();
      this.drop();
      try {
        return fn();
      } catch (again) {
        throw asMemmapError(again);
      }
    }
  }

  /** Forgets every cached window and view (the storage's close() detaches them all the same). */
  drop(): void {
    this.#segments = new Map();
    this.#views = new Map();
    this.#view0 = null;
    this.#typed = null;
    this.#bytes = null;
    this.#small = this.#byteLength > SMALL_WINDOW ? new Map() : null;
  }
}

const NOT_READ: unique symbol = Symbol('not read');

/** TypedArray.prototype.length, taken at load: a patched getter cannot run here. */
const typedArrayLength = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), 'length')?.get as (this: unknown) => number;

function dataView(win: ByteRange): DataView {
  return new DataView(win.buffer, win.byteOffset, win.byteLength);
}
