/**
 * PyTorch checkpoint reader: fixtures from tests/golden/gen_torch_bin.py (torch 1.13), the three real
 * HF checkpoints in ../shared/data/tiny-bert-checkpoints, and malformed or malicious files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as z from '../../src/index.js';
import { CheckpointError, UnsafePickleError, loadTorchBin, parseTorchBin, readHfCheckpointFolder, readTorchBin, saveSafetensors } from '../../src/index.js';
import { GOLDEN, assertClose, sharedDataOrSkip } from '../helpers.js';

const DIR = join(GOLDEN, 'torch-bin');
interface Summary { shape: number[]; dtype: string; values: (number | boolean)[] }
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as {
  basic: Record<string, Summary>; nested: Record<string, Summary>; evil: Record<string, string>;
};
const fixture = (name: string): string => join(DIR, name);
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));

function assertMatches(tensors: Map<string, z.Tensor>, expected: Record<string, Summary>, what: string): void {
  // OrderedDict order is preserved, so key lists compare as lists.
  assert.deepEqual([...tensors.keys()], Object.keys(expected), `${what}: keys`);
  for (const [key, e] of Object.entries(expected)) {
    const t = tensors.get(key)!;
    assert.deepEqual([...t.shape], e.shape, `${what}: ${key} shape`);
    assert.equal(t.dtype, e.dtype, `${what}: ${key} dtype`);
    const got = Array.from(t.buffer!, (v) => (t.dtype === 'bool' ? v !== 0 : v));
    // float16/bfloat16/float32 values are exact in float32, so equality is the right check.
    assert.deepEqual(got, e.values, `${what}: ${key} values`);
  }
}

for (const [file, format] of [['basic_zip.bin', 'torch-zip'], ['basic_legacy.bin', 'torch-legacy'], ['basic_zip_p4.bin', 'torch-zip'], ['basic_legacy_p4.bin', 'torch-legacy'], ['deflate_prefix.bin', 'torch-zip'], ['zip64.bin', 'torch-zip']] as const) {
  test(`${file}: every dtype, shared storage with offsets and strides, parameters`, () => {
    const r = readTorchBin(fixture(file));
    assert.equal(r.format, format);
    assertMatches(r.tensors, EXPECTED.basic, file);
  });
}

test('nested dicts flatten to dotted keys; non-tensor leaves are skipped', () => {
  for (const file of ['nested_zip.bin', 'nested_legacy.bin']) {
    const tensors = loadTorchBin(fixture(file));
    assertMatches(tensors, EXPECTED.nested, file);
    assert.deepEqual([...tensors.keys()], ['model.w', 'model.b', 'optimizer.state.0.exp_avg']);
  }
});

test('int64 values outside int32 are refused, naming the tensor', () => {
  for (const file of ['int64_overflow.bin', 'int64_overflow_legacy.bin']) {
    assert.throws(() => loadTorchBin(fixture(file)), (e: Error) => e instanceof CheckpointError && /int64_overflow.*tensor 'big': int64 value 1099511627776 .* does not fit int32/.test(e.message));
  }
});

test('malicious pickles: typed error naming the global, nothing executed', () => {
  for (const [name, marker] of Object.entries(EXPECTED.evil)) {
    for (const container of ['zip', 'legacy']) {
      if (existsSync(marker)) unlinkSync(marker);
      const file = fixture(`evil_${name}_${container}.bin`);
      assert.throws(() => loadTorchBin(file), (e: Error) => {
        assert.ok(e instanceof UnsafePickleError, `${name}/${container}: ${e.name}: ${e.message}`);
        assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: refusing to load global '(os|posix|torch\\.storage)\\.(system|_load_from_bytes)' \\(only tensor-rebuilding globals are allowed\\)$`));
        return true;
      });
      // Had the command run, this file would exist.
      assert.equal(existsSync(marker), false, `${name}/${container}: ${marker} was created`);
    }
  }
  const e = (() => { try { loadTorchBin(fixture('evil_reduce_class_zip.bin')); } catch (err) { return err; } return null; })();
  assert.ok(e instanceof UnsafePickleError && e.global === 'posix.system');
});

test('wrong magic, empty, missing and non-checkpoint files give clear errors', () => {
  assert.throws(() => parseTorchBin(new Uint8Array(0), 'empty.bin'), /^CheckpointError: empty\.bin: not a PyTorch checkpoint \(starts with nothing/);
  assert.throws(() => parseTorchBin(new TextEncoder().encode('{"not": "a checkpoint"}'), 'config.bin'), /config\.bin: not a PyTorch checkpoint \(starts with 7b 22 6e 6f/);
  // A pickle that is not the legacy magic number (an int 5, protocol 2).
  assert.throws(() => parseTorchBin(Uint8Array.from([0x80, 2, 0x4b, 5, 0x2e]), 'five.pkl'), /five\.pkl: not a PyTorch checkpoint \(wrong magic number 5\)/);
  assert.throws(() => parseTorchBin(Uint8Array.from([0x80, 2, 0x4b]), 'cut.pkl'), (e: Error) => e instanceof CheckpointError && /cut\.pkl: not a PyTorch checkpoint/.test(e.message));
  assert.throws(() => loadTorchBin(join(DIR, 'no-such-file.bin')), /no-such-file\.bin: cannot read/);
  // A zip without data.pkl (here: an archive holding only "version").
  const zip = bytesOf('basic_zip.bin');
  assert.throws(() => parseTorchBin(zip.subarray(0, 100), 'half.bin'), /half\.bin: zip: no end-of-central-directory record/);
});

test('truncated files fail at every cut with a CheckpointError', () => {
  for (const file of ['basic_zip.bin', 'basic_legacy.bin', 'nested_legacy.bin']) {
    const bytes = bytesOf(file);
    for (let cut = 0; cut < bytes.length; cut += 7) {
      assert.throws(() => parseTorchBin(bytes.subarray(0, cut), `${file}[:${cut}]`), (e: Error) => e instanceof CheckpointError && e.message.startsWith(`${file}[:${cut}]: `), `${file} cut at ${cut}`);
    }
  }
  const legacy = bytesOf('basic_legacy.bin');
  assert.throws(() => parseTorchBin(legacy.subarray(0, legacy.length - 1), 'short.bin'), /short\.bin: truncated: storage '\d+' needs \d+ bytes/);
});

test('a corrupted zip directory or storage is detected', () => {
  const bytes = bytesOf('basic_zip.bin');
  const view = new DataView(bytes.buffer);
  const eocd = bytes.length - 22;
  assert.equal(view.getUint32(eocd, true), 0x06054b50);
  const cdOffset = view.getUint32(eocd + 16, true); // small enough to also be in the 32-bit record
  const badSig = bytes.slice();
  badSig[cdOffset] = 0;
  assert.throws(() => parseTorchBin(badSig, 'cd.bin'), /cd\.bin: zip: central directory entry 0 at byte \d+ has a bad signature/);
  // torch writes zip64 end records even for small files; the zip64 record's directory offset is the one used.
  assert.equal(view.getUint32(eocd - 20, true), 0x07064b50);
  const zip64Record = Number(view.getBigUint64(eocd - 20 + 8, true));
  const badOffset = bytes.slice();
  new DataView(badOffset.buffer).setBigUint64(zip64Record + 48, BigInt(bytes.length), true);
  assert.throws(() => parseTorchBin(badOffset, 'off.bin'), /off\.bin: zip: central directory .* runs past the end/);
  // Flip one byte of the first storage: the CRC catches it.
  const reader = bytes.slice();
  const pos = Buffer.from(reader).indexOf('basic_zip/data/0');
  const local = Buffer.from(reader).lastIndexOf('PK\x03\x04', pos);
  const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  reader[dataAt]! ^= 0xff;
  assert.throws(() => parseTorchBin(reader, 'crc.bin'), /crc\.bin: zip: entry 'basic_zip\/data\/0' fails its CRC-32 check/);
});

// ---- HF folders --------------------------------------------------------------------------------

interface TinySummary {
  format: string; keys: string[]; config_hidden_size: number;
  tensors: Record<string, { shape: number[]; dtype: string; sum: number; abs_sum: number; first: number[] }>;
}
const TINY = JSON.parse(readFileSync(join(GOLDEN, 'tiny-bert-checkpoints.json'), 'utf8')) as Record<string, TinySummary>;

for (const [name, expected] of Object.entries(TINY)) {
  test(`readHfCheckpointFolder: ${name} matches torch.load`, (t) => {
    const root = sharedDataOrSkip('tiny-bert-checkpoints');
    if (!root) { t.skip('../shared/data/tiny-bert-checkpoints is absent'); return; }
    const ckpt = readHfCheckpointFolder(join(root, name));
    assert.equal(ckpt.format, expected.format);
    assert.equal(ckpt.config.hidden_size, expected.config_hidden_size);
    assert.deepEqual([...ckpt.stateDict.keys()].sort(), [...expected.keys].sort());
    for (const [key, e] of Object.entries(expected.tensors)) {
      const tensor = ckpt.stateDict.get(key)!;
      const data = tensor.buffer!;
      assert.deepEqual([...tensor.shape], e.shape, `${key} shape`);
      assert.equal(tensor.dtype, e.dtype, `${key} dtype`);
      let sum = 0;
      let absSum = 0;
      for (const v of data) { sum += v; absSum += Math.abs(v); }
      assertClose([sum, absSum], [e.sum, e.abs_sum], { atol: 1e-9, rtol: 1e-12, what: `${key} sum, abs sum` });
      assert.deepEqual(Array.from(data.subarray(0, 4)), e.first, `${key} first values`);
    }
  });
}

test('readHfCheckpointFolder: shards, preference order and errors naming the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-hf-'));
  try {
    assert.throws(() => readHfCheckpointFolder(dir), /config\.json: cannot read/);
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": 4');
    assert.throws(() => readHfCheckpointFolder(dir), /config\.json: not valid JSON/);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ hidden_size: 4 }));
    assert.throws(() => readHfCheckpointFolder(dir), /no weights found \(looked for model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin, pytorch_model\.bin\.index\.json\)/);

    copyFileSync(fixture('nested_legacy.bin'), join(dir, 'pytorch_model.bin'));
    assert.equal(readHfCheckpointFolder(dir).format, 'torch-legacy');

    await saveSafetensors(join(dir, 'a.safetensors'), { x: z.tensor([1, 2]) });
    await saveSafetensors(join(dir, 'b.safetensors'), { y: z.tensor([[3]]) });
    const index = { metadata: { total_size: 12 }, weight_map: { x: 'a.safetensors', y: 'b.safetensors' } };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    const sharded = readHfCheckpointFolder(dir); // the safetensors index wins over pytorch_model.bin
    assert.equal(sharded.format, 'safetensors');
    assert.deepEqual([...sharded.stateDict.keys()], ['x', 'y']);
    assert.deepEqual(sharded.files, [join(dir, 'a.safetensors'), join(dir, 'b.safetensors')]);
    assert.deepEqual(Array.from(sharded.stateDict.get('y')!.buffer!), [3]);

    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'a.safetensors', y: 'a.safetensors' } }));
    assert.throws(() => readHfCheckpointFolder(dir), /a\.safetensors: tensor 'y' listed in .*model\.safetensors\.index\.json is missing/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'c.safetensors' } }));
    assert.throws(() => readHfCheckpointFolder(dir), /index\.json: shard c\.safetensors is missing/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: '../../etc/passwd' } }));
    assert.throws(() => readHfCheckpointFolder(dir), /weight_map\['x'\] must be a file name in the same folder/);

    writeFileSync(join(dir, 'model.safetensors'), 'garbage!garbage!');
    assert.throws(() => readHfCheckpointFolder(dir), (e: Error) => e instanceof z.SafetensorsError && e.message.includes(join(dir, 'model.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
