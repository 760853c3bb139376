/**
 * zipFiles (the browser's "HF folder as a zip" download): read back by zhuyi's ZipReader and by
 * Python's zipfile (an independent reader that checks every CRC), names in UTF-8, folders kept.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { ZipReader } from '../../src/io/zip.js';
import { crc32, zipFiles } from '../../src/io/zip-write.js';

const files = new Map<string, Uint8Array | string>([
  ['config.json', '{"hidden_size": 32}\n'],
  ['source/vocab.txt', 'a\nb\n注意\n'],
  ['model.safetensors', Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 251)],
  ['empty', new Uint8Array(0)],
]);

test('crc32 equals zlib\'s', () => {
  for (const bytes of [new Uint8Array(0), new TextEncoder().encode('123456789'), files.get('model.safetensors') as Uint8Array]) {
    assert.equal(crc32(bytes), zlibCrc32(bytes));
  }
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the CRC-32 check value
});

test('zipFiles reads back with ZipReader, entry for entry', () => {
  const zip = new ZipReader(zipFiles(files), 'test.zip');
  assert.deepEqual([...zip.entries.keys()], [...files.keys()]);
  for (const [name, content] of files) {
    const expected = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    assert.deepEqual(zip.read(name), expected, name);
  }
});

test('zipFiles passes Python zipfile\'s CRC check', { skip: spawnSync('python3', ['--version']).status !== 0 ? 'python3 missing' : undefined }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-zip-'));
  try {
    const path = join(dir, 'x.zip');
    writeFileSync(path, zipFiles(files));
    const r = spawnSync('python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("|".join(z.namelist()))', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), [...files.keys()].join('|'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
