/**
 * safetensors, exactly as Hugging Face writes it: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}` padded
 * with spaces to a multiple of 8 bytes, then the raw little-endian tensor bytes.
 * Platform-neutral (no file access: see safetensors.ts for files in Node).
 * Reading accepts F32, F64, F16, BF16, I64, I32, I16, I8, U8 and BOOL; writing writes F32, F64, I32 and BOOL.
 */
import { ZhuyiError } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { TypedArray } from '../tensor/dtype.js';

export class SafetensorsError extends ZhuyiError {}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Headers larger than this are refused before parsing (HF uses 100 MB). */
const MAX_HEADER = 100_000_000;

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** Parses safetensors bytes; `source` names the file in errors. Never throws anything but SafetensorsError. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const fail = (msg: string): never => { throw new SafetensorsError(`${source}: ${msg}`); };
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER) fail(`header length ${headerLen} exceeds the ${MAX_HEADER}-byte limit`);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, Entry][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ key '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = raw as Partial<Entry> | null;
    if (typeof e !== 'object' || e === null) fail(`tensor '${name}': entry must be an object`);
    const { dtype, shape, data_offsets: off } = e as Partial<Entry>;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) fail(`tensor '${name}': unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(BYTES).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}': shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0]! > off[1]!) {
      fail(`tensor '${name}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
    }
    const [b, en] = off as [number, number];
    if (en > dataLen) fail(`tensor '${name}': data_offsets [${b}, ${en}] lie outside the ${dataLen} data bytes`);
    const n = (shape as number[]).reduce((a, d) => a * d, 1);
    if ((en - b) !== n * BYTES[dtype as string]!) fail(`tensor '${name}': ${en - b} bytes do not match ${dtype as string}[${(shape as number[]).join(',')}] (${n * BYTES[dtype as string]!} bytes)`);
    entries.push([name, { dtype: dtype as string, shape: shape as number[], data_offsets: [b, en] }]);
  }
  const sorted = [...entries].sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const [pn, p] = sorted[i - 1]!;
    const [cn, c] = sorted[i]!;
    if (c.data_offsets[0] < p.data_offsets[1]) fail(`tensors '${pn}' and '${cn}' overlap (data_offsets ${JSON.stringify(p.data_offsets)} and ${JSON.stringify(c.data_offsets)})`);
  }
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of entries) {
    const [b, en] = e.data_offsets;
    // Copy into an aligned buffer: data offsets need not be aligned to the element size.
    // (new Uint8Array(view) copies; bytes.slice would not when bytes is a Node Buffer, as from readFileSync.)
    const raw = new Uint8Array(bytes.subarray(dataStart + b, dataStart + en));
    tensors.set(name, Tensor.fromBuffer(decode(raw, e.dtype, (msg) => fail(`tensor '${name}': ${msg}`)), e.shape));
  }
  return { tensors, metadata };
}

function decode(raw: Uint8Array, dtype: string, fail: (msg: string) => never): TypedArray {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = raw.byteLength / BYTES[dtype]!;
  switch (dtype) {
    case 'F32': return new Float32Array(raw.buffer, raw.byteOffset, n);
    case 'F64': return new Float64Array(raw.buffer, raw.byteOffset, n);
    case 'I32': return new Int32Array(raw.buffer, raw.byteOffset, n);
    case 'BOOL': return raw;
    case 'U8': return Int32Array.from(raw);
    case 'I8': return Int32Array.from(new Int8Array(raw.buffer, raw.byteOffset, n));
    case 'I16': return Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true));
    case 'I64': {
      // zhuyi keeps integers as int32; values outside that range cannot be represented.
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) fail(`I64 value ${v} at element ${i} does not fit int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'F16': return Float32Array.from({ length: n }, (_, i) => halfToFloat(dv.getUint16(2 * i, true)));
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
  }
  return fail(`unknown dtype ${dtype}`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const CODE: Record<string, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/** Serialises realized tensors (sorted by name, as the Python library does) with optional string metadata. */
export async function serializeSafetensors(tensors: Record<string, Tensor> | Map<string, Tensor>, metadata?: Record<string, string>): Promise<Uint8Array> {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const names = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = map.get(name)!;
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: CODE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data starts 8-byte aligned, as the Python writer does.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let pos = 8 + head.length;
  for (const c of chunks) { out.set(c, pos); pos += c.byteLength; }
  return out;
}

