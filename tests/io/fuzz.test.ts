/**
 * Fuzzing the checkpoint readers with seeded mutations of valid files.
 * safetensors: every mutant is either refused with a SafetensorsError or loads exactly what an
 * independent reference decoder (below, written from the format description) reads from the bytes;
 * a mutant the reference finds valid must load. torch .bin: every mutant loads or throws a
 * CheckpointError. No other exception, and every parse is bounded in time.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { CheckpointError, SafetensorsError, parseSafetensors, parseTorchBin, type Tensor } from '../../src/index.js';
import { ZipReader } from '../../src/io/zip.js';
import { GOLDEN } from '../helpers.js';

/** mulberry32: a tiny seeded generator, so every failure replays from its case number. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: () => number, n: number): number => Math.floor(r() * n);

// ---- safetensors -------------------------------------------------------------------------------

const ST_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function buildSafetensors(header: unknown, data: Uint8Array, pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

/** A valid file with every readable dtype, metadata, a scalar, an empty tensor, and unaligned offsets. */
function baseSafetensors(seed: number): Uint8Array {
  const r = rng(seed);
  const specs: [string, string, number[]][] = [
    ['w', 'F32', [2, 3]], ['h', 'F16', [3]], ['b', 'BF16', [2, 2]], ['d', 'F64', [2]], ['l', 'I64', [3]], ['i', 'I32', [1, 2]],
    ['s', 'I16', [2]], ['c', 'I8', [3]], ['u', 'U8', [2]], ['m', 'BOOL', [4]], ['scalar', 'F32', []], ['empty', 'F32', [0, 5]],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', seed: String(seed) } };
  const chunks: number[] = [];
  for (const [name, dtype, shape] of specs) {
    const n = shape.reduce((a, d) => a * d, 1) * ST_BYTES[dtype]!;
    const begin = chunks.length;
    for (let k = 0; k < n; k++) {
      // I64 high bytes stay within int32 (sign-extended) so the unmutated file loads.
      const inI64High = dtype === 'I64' && k % 8 >= 4;
      chunks.push(inI64High ? (chunks[chunks.length - 1]! & 0x80 ? 0xff : 0) : int(r, 256));
    }
    header[name] = { dtype, shape, data_offsets: [begin, chunks.length] };
  }
  return buildSafetensors(header, Uint8Array.from(chunks));
}

type Expected = { ok: true; tensors: Map<string, { shape: number[]; dtype: string; values: number[] }> } | { ok: false; why: string };

/** The reference: what a correct reader must produce for these bytes (zhuyi keeps integers as int32). */
function reference(bytes: Uint8Array): Expected {
  const bad = (why: string): Expected => ({ ok: false, why });
  if (bytes.length < 8) return bad('short');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8) || n > 100_000_000n) return bad('header length');
  const start = 8 + Number(n);
  let header: unknown;
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, start))); } catch { return bad('json'); }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return bad('not an object');
  const dataLen = bytes.length - start;
  const tensors = new Map<string, { shape: number[]; dtype: string; values: number[] }>();
  const spans: [number, number][] = [];
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof e !== 'object' || e === null || Array.isArray(e) || !Object.values(e).every((v) => typeof v === 'string')) return bad('metadata');
      continue;
    }
    if (typeof e !== 'object' || e === null) return bad('entry');
    const { dtype, shape, data_offsets: off } = e as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(ST_BYTES, dtype)) return bad('dtype');
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) return bad('shape');
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0)) return bad('offsets');
    const [b, en] = off as [number, number];
    if (b > en || en > dataLen) return bad('offsets range');
    const count = (shape as number[]).reduce((a, d) => a * d, 1);
    if (en - b !== count * ST_BYTES[dtype]!) return bad('size');
    spans.push([b, en]);
    const at = (i: number): number => start + b + i * ST_BYTES[dtype]!;
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      let v: number;
      switch (dtype) {
        case 'F64': v = dv.getFloat64(at(i), true); break;
        case 'F32': v = dv.getFloat32(at(i), true); break;
        case 'F16': { const h = dv.getUint16(at(i), true); const ex = (h >> 10) & 31; const fr = h & 1023; const sg = h & 0x8000 ? -1 : 1;
          v = ex === 0 ? sg * fr * 2 ** -24 : ex === 31 ? (fr ? NaN : sg * Infinity) : sg * (1 + fr / 1024) * 2 ** (ex - 15); break; }
        case 'BF16': { const f = new DataView(new ArrayBuffer(4)); f.setUint16(0, dv.getUint16(at(i), true)); v = f.getFloat32(0); break; }
        case 'I64': { const big = dv.getBigInt64(at(i), true); if (big > 2147483647n || big < -2147483648n) return bad('i64 range'); v = Number(big); break; }
        case 'I32': v = dv.getInt32(at(i), true); break;
        case 'I16': v = dv.getInt16(at(i), true); break;
        case 'I8': v = dv.getInt8(at(i)); break;
        case 'U8': case 'BOOL': v = dv.getUint8(at(i)); break;
        default: return bad('dtype');
      }
      values.push(v);
    }
    tensors.set(name, { shape: shape as number[], dtype, values });
  }
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++) if (spans[i]![0] < spans[i - 1]![1]) return bad('overlap');
  return { ok: true, tensors };
}

function mutateSafetensors(base: Uint8Array, r: () => number): { bytes: Uint8Array; kind: string } {
  const dv = new DataView(base.buffer, base.byteOffset, base.byteLength);
  const headerLen = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(base.subarray(8, 8 + headerLen))) as Record<string, Record<string, unknown>>;
  const data = base.subarray(8 + headerLen);
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  const entry = (): Record<string, unknown> => header[pick(r, names)]!;
  const wild = (): unknown => pick(r, [-1, 0, 1, 3, 7, 2 ** 31, 2 ** 53, 1e300, 1.5, '4', null, [], {}, true, int(r, 100)]);
  const kind = pick(r, ['flip', 'flip-data', 'truncate', 'header-len', 'offsets', 'dtype', 'shape', 'duplicate', 'metadata', 'structure', 'append', 'splice-json']);
  switch (kind) {
    case 'flip': case 'flip-data': {
      const out = base.slice();
      const from = kind === 'flip-data' ? 8 + headerLen : 0;
      for (let k = 1 + int(r, 4); k > 0; k--) out[from + int(r, out.length - from)]! ^= 1 << int(r, 8);
      return { bytes: out, kind };
    }
    case 'truncate': return { bytes: base.slice(0, int(r, base.length)), kind };
    case 'header-len': {
      const out = base.slice();
      const v = pick(r, [0n, 1n, BigInt(headerLen - 1), BigInt(headerLen + 1), BigInt(headerLen + 8), BigInt(out.length), 2n ** 63n, 2n ** 64n - 1n, BigInt(int(r, 1 << 20))]);
      new DataView(out.buffer).setBigUint64(0, v, true);
      return { bytes: out, kind };
    }
    case 'offsets': {
      const e = entry();
      const off = [...(e.data_offsets as number[])];
      const op = int(r, 5);
      if (op === 0) off[int(r, 2)] = wild() as number;
      else if (op === 1) e.data_offsets = [off[1], off[0]];
      else if (op === 2) e.data_offsets = off.map((o) => o + pick(r, [-2, -1, 1, 2]));
      else if (op === 3) e.data_offsets = pick(r, [[0], [0, 1, 2], 'x', null]);
      else { const other = header[pick(r, names)]!; e.data_offsets = other.data_offsets; e.shape = other.shape; e.dtype = other.dtype; } // overlap
      if (op === 0) e.data_offsets = off;
      break;
    }
    case 'dtype': entry().dtype = pick(r, [...Object.keys(ST_BYTES), 'F8_E4M3', 'f32', '', 7, null, 'toString', '__proto__']); break;
    case 'shape': {
      const e = entry();
      const shape = [...(e.shape as number[])];
      const op = int(r, 4);
      if (op === 0) shape.push(pick(r, [1, 0, 2]));
      else if (op === 1 && shape.length) shape[int(r, shape.length)] = wild() as number;
      else if (op === 2) shape.reverse();
      else e.shape = pick(r, [[2 ** 40, 0], [2 ** 26, 2 ** 26, 2 ** 26], [-1], 'x', null]);
      if (op < 3) e.shape = shape;
      break;
    }
    case 'duplicate': {
      // JSON.parse keeps the last of duplicated keys (as serde's map does): the reference sees the same.
      const name = pick(r, names);
      const json = JSON.stringify(header);
      const dup = `${JSON.stringify(name)}:${JSON.stringify(header[pick(r, names)])},`;
      return { bytes: buildSafetensors(`{${dup}${json.slice(1)}`, data), kind };
    }
    case 'metadata': (header as Record<string, unknown>).__metadata__ = pick(r, [{ a: 1 }, ['x'], null, 'str', { a: 'b' }, {}]); break;
    case 'structure': return { bytes: buildSafetensors(pick(r, ['[]', 'null', '1', '"s"', '{', '{}', '\u00ff', '{"a":{}}']), data), kind };
    case 'append': return { bytes: buildSafetensors(header, Uint8Array.from([...data, ...Array.from({ length: 1 + int(r, 9) }, () => int(r, 256))])), kind };
    case 'splice-json': {
      const json = JSON.stringify(header);
      const at = int(r, json.length);
      return { bytes: buildSafetensors(json.slice(0, at) + pick(r, ['', '"', '}', ',', '0', ' ', '\\']) + json.slice(at + int(r, 3)), data, r() < 0.5), kind };
    }
  }
  return { bytes: buildSafetensors(header, data, r() < 0.7), kind };
}

// Speed is the bench's business, not a test's (a loaded CI machine makes any wall-clock bound flaky):
// the slowest parse is reported, and each test's `timeout` guards against a parser that hangs.
let slowest = { ms: 0, what: '' };
function timed<T>(f: () => T, what: string): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const ms = performance.now() - t0;
    if (ms > slowest.ms) slowest = { ms, what };
  }
}

async function checkAgainstReference(tensors: Map<string, Tensor>, expected: Expected & { ok: true }, what: string): Promise<void> {
  assert.deepEqual([...tensors.keys()].sort(), [...expected.tensors.keys()].sort(), `${what}: keys`);
  for (const [name, e] of expected.tensors) {
    const t = tensors.get(name)!;
    assert.deepEqual([...t.shape], e.shape, `${what}: ${name} shape`);
    const wantDtype = e.dtype === 'F64' ? 'float64' : ['F32', 'F16', 'BF16'].includes(e.dtype) ? 'float32' : e.dtype === 'BOOL' ? 'bool' : 'int32';
    assert.equal(t.dtype, wantDtype, `${what}: ${name} dtype`);
    const got = Array.from(await t.data());
    // BOOL keeps its byte; the reference reads the same byte.
    assert.deepEqual(got, e.values, `${what}: ${name} values`);
  }
}

test('safetensors fuzz: 1,000 mutants are each a SafetensorsError or exactly what the bytes say', { timeout: 120_000 }, async (t) => {
  slowest = { ms: 0, what: '' };
  const counts = { ok: 0, refused: 0 };
  const kinds = new Map<string, number>();
  for (let i = 0; i < 1000; i++) {
    const r = rng(1000 + i);
    const { bytes, kind } = mutateSafetensors(baseSafetensors(i % 7), r);
    const what = `case ${i} (${kind})`;
    const expected = reference(bytes);
    let loaded: Map<string, Tensor> | null = null;
    try {
      // Half the cases as a Node Buffer, which is what loadSafetensors passes (readFileSync).
      const input = i % 2 ? Buffer.from(bytes) : bytes;
      loaded = timed(() => parseSafetensors(input, `fuzz-${i}.safetensors`).tensors, what);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.fail(`${what}: threw ${(e as Error).name}: ${(e as Error).message}`);
      assert.ok(e.message.startsWith(`fuzz-${i}.safetensors: `), `${what}: error does not name the file: ${e.message}`);
      if (expected.ok) assert.fail(`${what}: refused a valid file: ${e.message}`);
      counts.refused++;
      continue;
    }
    if (!expected.ok) assert.fail(`${what}: loaded a file the reference refuses (${expected.why})`);
    await checkAgainstReference(loaded, expected, what);
    counts.ok++;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  // Both outcomes must be well represented, or the mutations are too weak (or too strong).
  assert.ok(counts.ok > 100 && counts.refused > 300, JSON.stringify(counts));
  t.diagnostic(`slowest parse: ${slowest.what}, ${slowest.ms.toFixed(1)} ms`);
});

// ---- torch .bin --------------------------------------------------------------------------------

/** Writes a stored zip (what torch writes, minus alignment padding) so mutated pickles get valid CRCs. */
function writeZip(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    const crc = crc32(data) >>> 0;
    lv.setUint32(0, 0x04034b50, true); lv.setUint32(14, crc, true); lv.setUint32(18, data.length, true); lv.setUint32(22, data.length, true); lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    const cd = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true); cv.setUint32(16, crc, true); cv.setUint32(20, data.length, true); cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true); cv.setUint32(42, offset, true);
    cd.set(nameBytes, 46);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true); ev.setUint16(8, entries.length, true); ev.setUint16(10, entries.length, true); ev.setUint32(12, cdSize, true); ev.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, end]);
}

function mutateBytes(base: Uint8Array, r: () => number): Uint8Array {
  const op = int(r, 4);
  if (op === 0) return base.slice(0, int(r, base.length));
  if (op === 1) { const at = int(r, base.length); return Buffer.concat([base.subarray(0, at), Uint8Array.from({ length: 1 + int(r, 4) }, () => int(r, 256)), base.subarray(at)]); }
  if (op === 2) { const at = int(r, base.length); return Buffer.concat([base.subarray(0, at), base.subarray(at + 1 + int(r, 8))]); }
  const out = base.slice();
  for (let k = 1 + int(r, 4); k > 0; k--) out[int(r, out.length)] = pick(r, [0, 1, 0x7f, 0x80, 0xff, int(r, 256), out[int(r, out.length)]!]);
  return out;
}

test('torch .bin fuzz: 300 mutants (legacy bytes, zip bytes, re-zipped pickles) load or throw CheckpointError', { timeout: 120_000 }, (t) => {
  slowest = { ms: 0, what: '' };
  const dir = join(GOLDEN, 'torch-bin');
  const legacy = ['basic_legacy.bin', 'nested_legacy.bin'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const zips = ['basic_zip.bin', 'nested_zip.bin'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const zipEntries = zips.map((z) => { const reader = new ZipReader(z, 'base'); return [...reader.entries.keys()].map((n): [string, Uint8Array] => [n, reader.read(n)]); });
  const counts = { ok: 0, refused: 0 };
  for (let i = 0; i < 300; i++) {
    const r = rng(5000 + i);
    let bytes: Uint8Array;
    const mode = i % 3;
    if (mode === 0) bytes = mutateBytes(pick(r, legacy), r);
    else if (mode === 1) bytes = mutateBytes(pick(r, zips), r);
    else {
      // Mutate the pickle or one storage inside an otherwise valid archive: this reaches the unpickler and the tensor rebuild.
      const entries = pick(r, zipEntries).map(([n, d]): [string, Uint8Array] => [n, d]);
      const k = r() < 0.7 ? entries.findIndex(([n]) => n.endsWith('data.pkl')) : int(r, entries.length);
      entries[k] = [entries[k]![0], mutateBytes(entries[k]![1], r)];
      bytes = writeZip(entries);
    }
    const what = `case ${i} (mode ${mode})`;
    try {
      const tensors = timed(() => parseTorchBin(bytes, `fuzz-${i}.bin`).tensors, what);
      for (const [k, t] of tensors) assert.equal(t.buffer!.length, t.size, `${what}: ${k}`);
      counts.ok++;
    } catch (e) {
      if (!(e instanceof CheckpointError)) assert.fail(`${what}: threw ${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack}`);
      assert.ok(e.message.startsWith(`fuzz-${i}.bin: `), `${what}: error does not name the file: ${e.message}`);
      counts.refused++;
    }
  }
  assert.ok(counts.refused > 100, JSON.stringify(counts));
  t.diagnostic(`slowest parse: ${slowest.what}, ${slowest.ms.toFixed(1)} ms`);
});
