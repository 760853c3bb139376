/**
 * A restricted unpickler for PyTorch checkpoints. Python's pickle is a small stack machine whose
 * GLOBAL/REDUCE opcodes can call any importable function; here GLOBAL resolves only an allow-list
 * of pure, tensor-rebuilding callables (and the storage type markers). Any other global is refused
 * with an UnsafePickleError at the moment it is named, before anything could be called with it.
 * Nothing is ever imported or executed: allowed callables are small TypeScript functions below.
 */
import { CheckpointError, UnsafePickleError } from './checkpoint-error.js';

/** A storage type (`torch.FloatStorage` ...) with its element size and the dtype zhuyi reads it as. */
export class StorageType {
  constructor(readonly name: string, readonly itemSize: number) {}
}

/** A global that survived the allow-list: only ever a value, or called through CALLABLES. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string { return `${this.module}.${this.name}`; }
}

/** What a persistent id resolves to: one storage of the checkpoint, possibly a view into a larger one (legacy format). */
export interface StorageRef {
  key: string;
  type: StorageType;
  /** Element offset into the root storage (legacy storage views); 0 otherwise. */
  elementOffset: number;
  /** Elements in this storage (or view). */
  numel: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it, before its storage bytes are read. */
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly size: number[], readonly stride: number[]) {}
}

export type PyValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PyValue[] | Map<PyValue, PyValue> | PyGlobal | StorageType | TensorRef | StorageRef;

const STORAGE_TYPES: Record<string, number> = {
  FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8,
  LongStorage: 8, IntStorage: 4, ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

type Callable = (args: PyValue[], fail: (msg: string) => never) => PyValue;

function int(v: PyValue, what: string, fail: (msg: string) => never): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what} must be an integer, got ${describe(v)}`);
  return v as number;
}

function ints(v: PyValue, what: string, fail: (msg: string) => never): number[] {
  if (!Array.isArray(v)) fail(`${what} must be a tuple of integers, got ${describe(v)}`);
  return (v as PyValue[]).map((d, i) => int(d, `${what}[${i}]`, fail));
}

function rebuildTensor(args: PyValue[], fail: (msg: string) => never): TensorRef {
  const [storage, offset, size, stride] = args;
  if (typeof storage !== 'object' || storage === null || !('key' in storage) || !('type' in storage)) fail(`_rebuild_tensor: first argument must be a storage, got ${describe(storage ?? null)}`);
  return new TensorRef(storage as StorageRef, int(offset ?? null, 'storage_offset', fail), ints(size ?? null, 'size', fail), ints(stride ?? null, 'stride', fail));
}

/** The only callables a checkpoint may invoke, each a pure function of its arguments. */
const CALLABLES: Record<string, Callable> = {
  'collections.OrderedDict': () => new Map(),
  'torch._utils._rebuild_tensor': rebuildTensor,
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]): requires_grad and hooks do not apply here.
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_parameter': (args, fail) => { if (!(args[0] instanceof TensorRef)) fail('_rebuild_parameter: expects a tensor'); return args[0]!; },
  'torch._utils._rebuild_parameter_with_state': (args, fail) => { if (!(args[0] instanceof TensorRef)) fail('_rebuild_parameter_with_state: expects a tensor'); return args[0]!; },
  // torch 2.x wraps tensor subclasses: (func, new_type, args, state); func must itself be allowed.
  'torch._tensor._rebuild_from_type_v2': (args, fail) => {
    const [fn, type, fnArgs] = args;
    if (!(fn instanceof PyGlobal) || !(fn.qualified in CALLABLES)) fail('_rebuild_from_type_v2: expects an allowed rebuild function');
    if (!(type instanceof PyGlobal) || !TENSOR_TYPES.has(type.qualified)) fail(`_rebuild_from_type_v2: unsupported tensor type ${describe(type ?? null)}`);
    if (!Array.isArray(fnArgs)) fail('_rebuild_from_type_v2: arguments must be a tuple');
    return CALLABLES[(fn as PyGlobal).qualified]!(fnArgs as PyValue[], fail);
  },
  // Protocol 2 pickles Python 3 bytes as _codecs.encode(text, 'latin1').
  '_codecs.encode': (args, fail) => {
    const [text, enc] = args;
    if (typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) fail("_codecs.encode: only (str, 'latin1') is supported");
    return Uint8Array.from(text as string, (c) => c.charCodeAt(0) & 0xff);
  },
};
const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

function resolveGlobal(module: string, name: string, source: string): PyValue {
  const q = `${module}.${name}`;
  if (module === 'torch' && name in STORAGE_TYPES) return new StorageType(name, STORAGE_TYPES[name]!);
  if (q in CALLABLES || TENSOR_TYPES.has(q)) return new PyGlobal(module, name);
  throw new UnsafePickleError(`${source}: refusing to load global '${q}' (only tensor-rebuilding globals are allowed)`, q);
}

export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `tuple/list of ${v.length}`;
  if (v instanceof Map) return 'dict';
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof TensorRef) return 'tensor';
  if (typeof v === 'object') return 'object';
  return JSON.stringify(typeof v === 'bigint' ? v.toString() : v) ?? String(v);
}

export interface UnpickleOptions {
  /** Names the file in errors. */
  source: string;
  /** Resolves BINPERSID ids (storages). Without it, persistent ids are an error. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

const MARK = Symbol('mark');

// push(...items) would overflow the call stack for a long list; a loop never does.
function extend(target: PyValue[], items: PyValue[]): void {
  for (const v of items) target.push(v);
}
type StackItem = PyValue | typeof MARK;

/** Unpickles one pickle starting at `start`; returns the value and the offset just past STOP. */
export function unpickle(bytes: Uint8Array, start: number, opts: UnpickleOptions): { value: PyValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = start;
  let opAt = start;
  const fail = (msg: string): never => {
    throw new CheckpointError(`${opts.source}: pickle at byte ${opAt}: ${msg}`);
  };
  const need = (n: number): void => { if (n < 0 || pos + n > bytes.length) fail(`truncated (needs ${n} more bytes, file has ${bytes.length})`); };
  const u8 = (): number => { need(1); return bytes[pos++]!; };
  const u16 = (): number => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the file size`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => { need(n); const b = bytes.subarray(pos, pos + n); pos += n; return b; };
  const utf8 = (n: number): string => {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(take(n)); } catch (e) { if (e instanceof CheckpointError) throw e; return fail('string is not valid UTF-8'); }
  };
  const latin1 = (b: Uint8Array): string => Array.from(b, (c) => String.fromCharCode(c)).join('');
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail('truncated text line');
    const s = latin1(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) fail('stack underflow');
    if (v === MARK) fail('unexpected MARK on the stack');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('stack underflow');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('no MARK on the stack');
    const items = stack.splice(i) as StackItem[];
    return items.slice(1) as PyValue[];
  };
  const list = (v: PyValue, op: string): PyValue[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail(`${op} needs a list, got ${describe(v)}`);
    return v as PyValue[];
  };
  const dict = (v: PyValue, op: string): Map<PyValue, PyValue> => {
    if (!(v instanceof Map)) fail(`${op} needs a dict, got ${describe(v)}`);
    return v as Map<PyValue, PyValue>;
  };
  const tuple = (items: PyValue[]): PyValue[] => Object.freeze(items) as PyValue[];
  const call = (fn: PyValue, args: PyValue, op: string): PyValue => {
    if (!(fn instanceof PyGlobal) || !(fn.qualified in CALLABLES)) fail(`${op}: ${describe(fn)} is not callable here`);
    if (!Array.isArray(args)) fail(`${op}: arguments must be a tuple, got ${describe(args)}`);
    return CALLABLES[(fn as PyGlobal).qualified]!(args as PyValue[], fail);
  };
  const setMemo = (i: number, v: PyValue): void => { memo.set(i, v); };
  const getMemo = (i: number): PyValue => {
    if (!memo.has(i)) fail(`memo key ${i} is not defined`);
    return memo.get(i)!;
  };
  const small = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const long = (b: Uint8Array): number | bigint => {
    // Little-endian two's complement of any length.
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b.length && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return small(v);
  };

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: { const proto = u8(); if (proto > 5) fail(`unsupported pickle protocol ${proto}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(long(take(u8()))); break; // LONG1
      case 0x8b: { need(4); const n = view.getInt32(pos, true); pos += 4; if (n < 0) fail('negative LONG4 length'); stack.push(long(take(n))); break; }
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT is big-endian
      case 0x49: { // INT (text): also encodes True/False as 01/00 in protocol 0
        const s = line().trim();
        if (s === '01' || s === '00') { stack.push(s === '01'); break; }
        if (!/^[-+]?\d+$/.test(s)) fail(`bad INT ${JSON.stringify(s)}`);
        stack.push(small(BigInt(s)));
        break;
      }
      case 0x58: stack.push(utf8(u32())); break; // BINUNICODE
      case 0x8c: stack.push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(u64())); break; // BINUNICODE8
      case 0x54: { need(4); const n = view.getInt32(pos, true); pos += 4; if (n < 0) fail('negative BINSTRING length'); stack.push(latin1(take(n))); break; }
      case 0x55: stack.push(latin1(take(u8()))); break; // SHORT_BINSTRING
      case 0x53: { // STRING (text, quoted): only plain quoted strings without escapes
        const s = line();
        const m = /^(['"])(.*)\1$/.exec(s);
        if (!m || m[2]!.includes('\\')) fail('unsupported STRING literal');
        stack.push(m![2]!);
        break;
      }
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: case 0x96: stack.push(take(u64()).slice()); break; // BINBYTES8, BYTEARRAY8
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x8f: stack.push([]); break; // EMPTY_SET: sets become lists
      case 0x90: { const items = popMark(); extend(list(top(), 'ADDITEMS'), items); break; }
      case 0x91: stack.push(tuple(popMark())); break; // FROZENSET
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push(tuple([a, b])); break; }
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push(tuple([a, b, c])); break; }
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) fail('DICT needs key/value pairs');
        const d = new Map<PyValue, PyValue>();
        for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
        stack.push(d);
        break;
      }
      case 0x61: { const v = pop(); list(top(), 'APPEND').push(v); break; }
      case 0x65: { const items = popMark(); extend(list(top(), 'APPENDS'), items); break; }
      case 0x73: { const v = pop(); const k = pop(); dict(top(), 'SETITEM').set(k, v); break; }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) fail('SETITEMS needs key/value pairs');
        const d = dict(top(), 'SETITEMS');
        for (let i = 0; i < items.length; i += 2) d.set(items[i]!, items[i + 1]!);
        break;
      }
      case 0x71: setMemo(u8(), top()); break; // BINPUT
      case 0x72: setMemo(u32(), top()); break; // LONG_BINPUT
      case 0x94: setMemo(memo.size, top()); break; // MEMOIZE
      case 0x70: { const s = line(); if (!/^\d+$/.test(s)) fail('bad PUT'); setMemo(Number(s), top()); break; }
      case 0x68: stack.push(getMemo(u8())); break; // BINGET
      case 0x6a: stack.push(getMemo(u32())); break; // LONG_BINGET
      case 0x67: { const s = line(); if (!/^\d+$/.test(s)) fail('bad GET'); stack.push(getMemo(Number(s))); break; }
      case 0x63: { const module = line(); const name = line(); stack.push(resolveGlobal(module, name, opts.source)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string, opts.source));
        break;
      }
      case 0x69: { // INST: module and name inline, arguments since MARK
        const module = line();
        const name = line();
        const cls = resolveGlobal(module, name, opts.source);
        stack.push(call(cls, tuple(popMark()), 'INST'));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args, 'REDUCE')); break; }
      case 0x81: { const args = pop(); const cls = pop(); stack.push(call(cls, args, 'NEWOBJ')); break; }
      case 0x92: { pop(); const args = pop(); const cls = pop(); stack.push(call(cls, args, 'NEWOBJ_EX')); break; }
      case 0x62: { // BUILD: the state of an OrderedDict (its _metadata) or a tensor carries nothing we need
        pop();
        const target = top();
        if (!(target instanceof Map) && !(target instanceof TensorRef)) fail(`BUILD on ${describe(target)} is not supported`);
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id outside a checkpoint');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}`);
    }
  }
}
