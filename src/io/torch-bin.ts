/**
 * PyTorch `torch.save` checkpoints (`pytorch_model.bin`) in both layouts:
 * - zip (PyTorch >= 1.6): `<prefix>/data.pkl` is the pickled object; each storage is the entry
 *   `<prefix>/data/<key>`, named by the persistent id ('storage', StorageType, key, location, numel).
 * - legacy (< 1.6): five pickles back to back (magic number, protocol 1001, sys_info, the object,
 *   the list of storage keys), then each storage as an int64 element count and its raw bytes. Its
 *   persistent ids are ('storage', StorageType, root_key, location, numel, view_metadata).
 * Unpickling is restricted (torch-pickle.ts): only tensor-rebuilding globals, nothing executed.
 * Tensors come out contiguous; half, bfloat16 -> float32, integers -> int32 (range-checked), bool -> bool.
 */
import { readFileSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.js';
import { arrayFor, type DType, type TypedArray } from '../tensor/dtype.js';
import { CheckpointError } from './checkpoint-error.js';
import { type PyValue, type StorageRef, StorageType, TensorRef, describe, unpickle } from './torch-pickle.js';
import { ZipReader, looksLikeZip } from './zip.js';

export type TorchBinFormat = 'torch-zip' | 'torch-legacy';

export interface TorchBinFile {
  /** Tensors by state-dict key; nested dicts and lists are flattened with dots (`optimizer.state.0.exp_avg`). */
  tensors: Map<string, Tensor>;
  format: TorchBinFormat;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** A zero-stride (expanded) tensor could ask for gigabytes from a few stored bytes; it may not exceed this many elements beyond its storage. */
const MAX_EXPANDED = 1 << 24;
/** Nesting deeper than any checkpoint has; deeper structures are refused instead of overflowing the stack. */
const MAX_DEPTH = 64;

/** Storage bytes by key, and how to find the bytes of one key. */
type StorageBytes = (key: string) => Uint8Array;

export function loadTorchBin(path: string): Map<string, Tensor> {
  return readTorchBin(path).tensors;
}

export function readTorchBin(path: string): TorchBinFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseTorchBin(bytes, path);
}

/** Parses the bytes of a torch.save file; `source` names it in errors. Throws only CheckpointError. */
export function parseTorchBin(bytes: Uint8Array, source = '<buffer>'): TorchBinFile {
  if (looksLikeZip(bytes)) return { tensors: parseZip(bytes, source), format: 'torch-zip' };
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! <= 5) return { tensors: parseLegacy(bytes, source), format: 'torch-legacy' };
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CheckpointError(`${source}: not a PyTorch checkpoint (starts with ${head || 'nothing'}; expected a zip archive 'PK' or a pickle 0x80)`);
}

function parseZip(bytes: Uint8Array, source: string): Map<string, Tensor> {
  const zip = new ZipReader(bytes, source);
  // The archive folder is named after the file torch.save wrote to, so any prefix is accepted.
  const pkl = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    const torchscript = [...zip.entries.keys()].some((n) => n.endsWith('/constants.pkl'));
    throw new CheckpointError(`${source}: ${torchscript ? 'a TorchScript archive, not a torch.save checkpoint' : `expected one '<archive>/data.pkl' entry, found ${pkl.length}`}`);
  }
  const prefix = pkl[0]!.slice(0, -'data.pkl'.length);
  const byteorder = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() : 'little';
  if (byteorder !== 'little') throw new CheckpointError(`${source}: storages are ${byteorder}-endian; only little-endian checkpoints are supported`);
  const persistentLoad = (pid: PyValue): StorageRef => {
    const [, type, key, , numel] = persistentId(pid, 5, source);
    const entry = zip.entries.get(`${prefix}data/${key}`);
    if (!entry) throw new CheckpointError(`${source}: storage '${key}' has no entry '${prefix}data/${key}'`);
    if (entry.size < numel * type.itemSize) throw new CheckpointError(`${source}: storage '${key}' holds ${entry.size} bytes, too few for ${numel} ${type.name} elements`);
    return { key, type, elementOffset: 0, numel };
  };
  const { value } = unpickle(zip.read(pkl[0]!), 0, { source, persistentLoad });
  const cache = new Map<string, Uint8Array>();
  const storageBytes: StorageBytes = (key) => {
    if (!cache.has(key)) cache.set(key, zip.read(`${prefix}data/${key}`));
    return cache.get(key)!;
  };
  return materializeAll(value, storageBytes, source);
}

function parseLegacy(bytes: Uint8Array, source: string): Map<string, Tensor> {
  let magic: PyValue;
  let pos: number;
  try {
    ({ value: magic, end: pos } = unpickle(bytes, 0, { source }));
  } catch (e) {
    if (e instanceof CheckpointError && e.constructor === CheckpointError) throw new CheckpointError(`${source}: not a PyTorch checkpoint (no legacy magic number: ${e.message})`);
    throw e;
  }
  if (magic !== LEGACY_MAGIC) throw new CheckpointError(`${source}: not a PyTorch checkpoint (wrong magic number ${describe(magic)})`);
  const protocol = unpickle(bytes, pos, { source });
  if (protocol.value !== LEGACY_PROTOCOL) throw new CheckpointError(`${source}: legacy protocol ${describe(protocol.value)}, expected ${LEGACY_PROTOCOL}`);
  const sysInfo = unpickle(bytes, protocol.end, { source });
  if (!(sysInfo.value instanceof Map) || sysInfo.value.get('little_endian') !== true) throw new CheckpointError(`${source}: sys_info must say little_endian=True`);
  // Storages are declared by the main pickle's persistent ids; their bytes follow the key list.
  const roots = new Map<string, StorageType>();
  const persistentLoad = (pid: PyValue): StorageRef => {
    const [, type, key, , numel, viewMeta] = persistentId(pid, 6, source);
    const known = roots.get(key);
    if (known && known.name !== type.name) throw new CheckpointError(`${source}: storage '${key}' declared as both ${known.name} and ${type.name}`);
    roots.set(key, type);
    if (viewMeta === null) return { key, type, elementOffset: 0, numel };
    const [, offset, viewSize] = Array.isArray(viewMeta) && viewMeta.length === 3 ? viewMeta : [];
    if (!isCount(offset) || !isCount(viewSize)) throw new CheckpointError(`${source}: storage '${key}': bad view metadata ${describe(viewMeta)}`);
    return { key, type, elementOffset: offset, numel: viewSize };
  };
  const main = unpickle(bytes, sysInfo.end, { source, persistentLoad });
  const keys = unpickle(bytes, main.end, { source });
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) throw new CheckpointError(`${source}: storage key list must be a list of strings`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = new Map<string, Uint8Array>();
  let at = keys.end;
  for (const key of keys.value as string[]) {
    const type = roots.get(key);
    if (!type) throw new CheckpointError(`${source}: storage '${key}' is listed but no tensor uses it`);
    if (at + 8 > bytes.length) throw new CheckpointError(`${source}: truncated: storage '${key}' size expected at byte ${at}, file has ${bytes.length}`);
    const count = view.getBigUint64(at, true);
    const nbytes = count * BigInt(type.itemSize);
    if (BigInt(at + 8) + nbytes > BigInt(bytes.length)) throw new CheckpointError(`${source}: truncated: storage '${key}' needs ${nbytes} bytes at byte ${at + 8}, file has ${bytes.length}`);
    blocks.set(key, bytes.subarray(at + 8, at + 8 + Number(nbytes)));
    at += 8 + Number(nbytes);
  }
  const storageBytes: StorageBytes = (key) => {
    const b = blocks.get(key);
    if (!b) throw new CheckpointError(`${source}: storage '${key}' is missing from the storage key list`);
    return b;
  };
  return materializeAll(main.value, storageBytes, source);
}

function isCount(v: PyValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Checks a persistent id ('storage', StorageType, key, location, numel, ...) and returns its fields. */
function persistentId(pid: PyValue, length: number, source: string): [string, StorageType, string, PyValue, number, PyValue] {
  const bad = (): never => { throw new CheckpointError(`${source}: unsupported persistent id ${describe(pid)} (expected ('storage', type, key, location, numel))`); };
  if (!Array.isArray(pid) || pid.length !== length || pid[0] !== 'storage') return bad();
  const [, type, key, location, numel, viewMeta] = pid;
  if (!(type instanceof StorageType) || (typeof key !== 'string' && typeof key !== 'number') || !isCount(numel)) return bad();
  return ['storage', type as StorageType, String(key), location ?? null, numel as number, viewMeta ?? null];
}

/** Walks the unpickled object: every tensor in nested dicts/lists becomes a dotted key. */
function materializeAll(root: PyValue, storageBytes: StorageBytes, source: string): Map<string, Tensor> {
  if (!(root instanceof Map)) throw new CheckpointError(`${source}: expected a dict of tensors at the top level, got ${describe(root)}`);
  const out = new Map<string, Tensor>();
  const seen = new Set<PyValue>();
  const walk = (value: PyValue, prefix: string, depth: number): void => {
    if (value instanceof TensorRef) {
      if (out.has(prefix)) throw new CheckpointError(`${source}: key '${prefix}' appears twice after flattening`);
      out.set(prefix, materialize(value, storageBytes(value.storage.key), source, prefix));
      return;
    }
    if (!(value instanceof Map) && !Array.isArray(value)) return; // numbers, strings, ...: not tensors
    if (depth > MAX_DEPTH) throw new CheckpointError(`${source}: '${prefix}' is nested deeper than ${MAX_DEPTH} levels`);
    if (seen.has(value)) return; // memo references can make cycles
    seen.add(value);
    const entries: [PyValue, PyValue][] = value instanceof Map ? [...value] : value.map((v, i) => [i, v]);
    for (const [k, v] of entries) {
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint' && typeof k !== 'boolean') continue;
      walk(v, prefix ? `${prefix}.${String(k)}` : String(k), depth + 1);
    }
  };
  walk(root, '', 0);
  return out;
}

const OUT_DTYPE: Record<string, DType> = {
  FloatStorage: 'float32', HalfStorage: 'float32', BFloat16Storage: 'float32', DoubleStorage: 'float64',
  LongStorage: 'int32', IntStorage: 'int32', ShortStorage: 'int32', CharStorage: 'int32', ByteStorage: 'int32', BoolStorage: 'bool',
};

/** Copies a (possibly strided) view of a storage into a contiguous tensor. */
function materialize(ref: TensorRef, rootBytes: Uint8Array, source: string, name: string): Tensor {
  const fail = (msg: string): never => { throw new CheckpointError(`${source}: tensor '${name}': ${msg}`); };
  const { storage, size, stride } = ref;
  const type = storage.type;
  if (size.length !== stride.length) fail(`size [${size}] and stride [${stride}] differ in length`);
  if (size.some((d) => d < 0) || stride.some((s) => s < 0) || ref.offset < 0) fail(`negative size, stride or offset (size [${size}], stride [${stride}], offset ${ref.offset})`);
  const n = size.reduce((a, d) => a * d, 1);
  const rootNumel = Math.floor(rootBytes.length / type.itemSize);
  if (storage.elementOffset + storage.numel > rootNumel) fail(`storage '${storage.key}' view [${storage.elementOffset}, +${storage.numel}) exceeds its ${rootNumel} elements`);
  const out = n === 0 ? arrayFor(OUT_DTYPE[type.name]!, 0) : null;
  if (out) return Tensor.fromBuffer(out, size);
  const last = ref.offset + size.reduce((a, d, i) => a + (d - 1) * stride[i]!, 0);
  if (last >= storage.numel) fail(`elements up to ${last} (offset ${ref.offset}, size [${size}], stride [${stride}]) lie outside storage '${storage.key}' of ${storage.numel} ${type.name} elements`);
  if (n > Math.max(storage.numel, MAX_EXPANDED)) fail(`${n} elements from a storage of ${storage.numel} (zero strides beyond the ${MAX_EXPANDED}-element limit)`);
  const base = storage.elementOffset + ref.offset;
  const contiguous = size.every((d, i) => d === 1 || stride[i] === size.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous && type.name === 'FloatStorage') {
    // The common case: one byte copy, which also realigns data that sits at any offset in the file.
    // (Not rootBytes.slice: on a Node Buffer that is a view, not a copy.)
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(rootBytes.subarray(4 * base, 4 * (base + n)));
    return Tensor.fromBuffer(values, size);
  }
  const result = arrayFor(OUT_DTYPE[type.name]!, n);
  const read = reader(type, rootBytes, (i, v) => fail(`int64 value ${v} at element ${i} does not fit int32`));
  const index = new Array<number>(size.length).fill(0);
  let at = base;
  for (let i = 0; i < n; i++) {
    result[i] = read(at);
    // Odometer over the multi-index: step the last dim, carry into earlier ones.
    for (let d = size.length - 1; d >= 0; d--) {
      index[d]!++;
      at += stride[d]!;
      if (index[d]! < size[d]!) break;
      at -= stride[d]! * size[d]!;
      index[d] = 0;
    }
  }
  return Tensor.fromBuffer(result as TypedArray, size);
}

function reader(type: StorageType, bytes: Uint8Array, overflow: (i: number, v: bigint) => never): (i: number) => number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  switch (type.name) {
    case 'FloatStorage': return (i) => dv.getFloat32(4 * i, true);
    case 'DoubleStorage': return (i) => dv.getFloat64(8 * i, true);
    case 'HalfStorage': return (i) => halfToFloat(dv.getUint16(2 * i, true));
    // bfloat16 is the top half of a float32.
    case 'BFloat16Storage': return (i) => { u32[0] = dv.getUint16(2 * i, true) << 16; return f32[0]!; };
    case 'LongStorage': return (i) => {
      const v = dv.getBigInt64(8 * i, true);
      return v > 2147483647n || v < -2147483648n ? overflow(i, v) : Number(v);
    };
    case 'IntStorage': return (i) => dv.getInt32(4 * i, true);
    case 'ShortStorage': return (i) => dv.getInt16(2 * i, true);
    case 'CharStorage': return (i) => dv.getInt8(i);
    case 'ByteStorage': return (i) => dv.getUint8(i);
    case 'BoolStorage': return (i) => (dv.getUint8(i) ? 1 : 0);
  }
  throw new CheckpointError(`unknown storage type ${type.name}`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024); // subnormal
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
