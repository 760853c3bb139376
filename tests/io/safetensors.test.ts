/** safetensors read/write against the format's definition, with hand-built files and hand-computed values. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as z from '../../src/index.js';

/** A file from a header object and raw data bytes, padded like the Python writer (spaces to 8 bytes). */
function file(header: Record<string, unknown>, data: number[] | Uint8Array): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}
const le16 = (...xs: number[]): number[] => xs.flatMap((x) => [x & 0xff, x >> 8]);
const le64 = (...xs: bigint[]): number[] => xs.flatMap((x) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, x, true); return [...b]; });

describe('safetensors: reading', () => {
  test('F16, BF16, I64, I32, F32 decode to the values their bits mean', async () => {
    const f32 = new Uint8Array(new Float32Array([1.5, -0.25]).buffer);
    const i32 = new Uint8Array(new Int32Array([-7, 2 ** 31 - 1]).buffer);
    const data = [
      ...le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00), // F16: 1, -2, 65504, 2^-24, +inf
      ...le16(0x3f80, 0x4049, 0xbf00), // BF16: 1, 3.140625, -0.5
      ...le64(-3n, 2147483647n), // I64
      ...i32, ...f32,
    ];
    const bytes = file({
      __metadata__: { format: 'pt' },
      h: { dtype: 'F16', shape: [5], data_offsets: [0, 10] },
      b: { dtype: 'BF16', shape: [3], data_offsets: [10, 16] },
      l: { dtype: 'I64', shape: [2, 1], data_offsets: [16, 32] },
      i: { dtype: 'I32', shape: [2], data_offsets: [32, 40] },
      f: { dtype: 'F32', shape: [1, 2], data_offsets: [40, 48] },
    }, data);
    const { tensors, metadata } = z.parseSafetensors(bytes, 'hand.safetensors');
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual([...(await tensors.get('h')!.data())], [1, -2, 65504, 2 ** -24, Infinity]);
    assert.deepEqual([...(await tensors.get('b')!.data())], [1, 3.140625, -0.5]);
    assert.deepEqual([tensors.get('l')!.dtype, tensors.get('l')!.shape, [...(await tensors.get('l')!.data())]], ['int32', [2, 1], [-3, 2147483647]]);
    assert.deepEqual([...(await tensors.get('i')!.data())], [-7, 2 ** 31 - 1]);
    assert.deepEqual([tensors.get('f')!.shape, [...(await tensors.get('f')!.data())]], [[1, 2], [1.5, -0.25]]);
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['too short', new Uint8Array(5), /bad\.st: file is 5 bytes, too short/],
    ['header length past the end', (() => { const b = file({}, []); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; })(), /header length 1000 runs past the end/],
    ['header not JSON', (() => { const b = file({ a: 1 }, []); b[8] = 0x7b; b[9] = 0x7b; return b; })(), /header is not valid UTF-8 JSON/],
    ['unknown dtype', file({ x: { dtype: 'F8', shape: [1], data_offsets: [0, 1] } }, [0]), /tensor 'x': unknown dtype "F8"/],
    ['offsets outside the file', file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]), /tensor 'x': data_offsets \[0, 8\] lie outside the 4 data bytes/],
    ['shape/byte-size mismatch', file({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'x': 8 bytes do not match F32\[3\] \(12 bytes\)/],
    ['overlap', file({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /tensors 'x' and 'y' overlap/],
    ['negative shape', file({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, []), /shape must be a list of non-negative integers/],
    ['metadata not strings', file({ __metadata__: { a: 1 } }, []), /__metadata__ key 'a' is not a string/],
    ['I64 outside int32', file({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, le64(2n ** 40n)), /I64 value 1099511627776 at element 0 does not fit int32/],
  ];
  for (const [what, bytes, message] of bad) {
    test(`refuses: ${what}`, () => {
      assert.throws(() => z.parseSafetensors(bytes, 'bad.st'), (e: Error) => e instanceof z.SafetensorsError && message.test(e.message));
    });
  }
});

describe('safetensors: writing', () => {
  test('header JSON with __metadata__, sorted names, 8-byte aligned data, little-endian values', async () => {
    const bytes = await z.serializeSafetensors({ w: z.tensor([[1, 2, 3]]), a: z.tensor([4], { dtype: 'int32' }) }, { format: 'pt' });
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0, 'data starts 8-byte aligned');
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
    assert.deepEqual(header, {
      __metadata__: { format: 'pt' },
      a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] },
      w: { dtype: 'F32', shape: [1, 3], data_offsets: [4, 16] },
    });
    assert.deepEqual([...new Float32Array(bytes.slice(8 + n + 4).buffer)], [1, 2, 3]);
    const back = z.parseSafetensors(bytes);
    assert.deepEqual([...(await back.tensors.get('w')!.data())], [1, 2, 3]);
  });

  test('atomic save: a failed write leaves the previous file and no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-st-'));
    try {
      const path = join(dir, 'model.safetensors');
      await z.saveSafetensors(path, { w: z.tensor([1, 2]) });
      const before = readFileSync(path);
      // A tensor whose realisation fails aborts the save before anything is renamed.
      const broken = z.tensor([5, 6]);
      broken.data = (): Promise<never> => Promise.reject(new Error('backend failed'));
      await assert.rejects(z.saveSafetensors(path, { w: broken }), /backend failed/);
      assert.deepEqual(readFileSync(path), before);
      // writeFileAtomic itself: the rename is the commit point; on failure the old file stays.
      assert.throws(() => z.writeFileAtomic(join(dir, 'missing-dir', 'x'), new Uint8Array(3)));
      assert.deepEqual(readdirSync(dir), ['model.safetensors']);
      writeFileSync(join(dir, 'model.safetensors'), before);
      assert.ok(existsSync(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
