/** Parallel corpus readers: good files, every malformed-input error named by file and line, skip counts. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataFormatError, readParallelFiles, readParallelTsv } from '../../src/data/index.js';
import { sharedDataOrSkip } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('readParallelTsv', () => {
  test('Anki format: en \\t zh \\t attribution, columns chosen, CRLF and BOM tolerated', () => {
    const p = file('anki.txt', '\ufeffHi.\t嗨。\tCC-BY 2.0 #1\r\nRun.\t你用跑的。\tCC-BY 2.0 #2\n');
    const c = readParallelTsv(p);
    assert.deepEqual(c.pairs, [{ source: 'Hi.', target: '嗨。', line: 1 }, { source: 'Run.', target: '你用跑的。', line: 2 }]);
    assert.equal(c.skippedTotal, 0);
    const zhEn = readParallelTsv(p, { sourceColumn: 1, targetColumn: 0 });
    assert.equal(zhEn.pairs[0]!.source, '嗨。');
  });
  test('gzip is read through zlib', () => {
    const p = file('pairs.tsv.gz', gzipSync(Buffer.from('a\tb\nc\td\n')));
    assert.equal(readParallelTsv(p).pairs.length, 2);
  });
  test('missing tab: error names file, line and column', () => {
    const p = file('notab.tsv', 'a\tb\nno tab here\nc\td\n');
    assert.throws(() => readParallelTsv(p), (e: unknown) => {
      assert.ok(e instanceof DataFormatError);
      assert.equal(e.line, 2);
      assert.match(e.message, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:12: no tab, expected at least 2 tab-separated columns`));
      return true;
    });
    assert.throws(() => readParallelTsv(file('cols.tsv', 'a\tb\n'), { targetColumn: 2 }), /cols.tsv:1:4: 2 columns, expected at least 3/);
  });
  test('empty side: error names the side and column', () => {
    assert.throws(() => readParallelTsv(file('empty-tgt.tsv', 'a\tb\nsource only\t  \n')), /empty-tgt.tsv:2:13: empty target \(column 1\)/);
    assert.throws(() => readParallelTsv(file('empty-src.tsv', '\ttarget\n')), /empty-src.tsv:1:1: empty source \(column 0\)/);
  });
  test('invalid UTF-8: error names the line and byte', () => {
    const bytes = Buffer.concat([Buffer.from('ok\tfine\nab\t'), Buffer.from([0xff, 0x41]), Buffer.from('\n')]);
    assert.throws(() => readParallelTsv(file('bad-utf8.tsv', bytes)), /bad-utf8.tsv:2:4: invalid UTF-8 at byte 4/);
  });
  test('empty file is an error', () => {
    assert.throws(() => readParallelTsv(file('empty.tsv', '')), /empty.tsv: empty file/);
  });
  test("onBadLine: 'skip' keeps going and counts each reason", () => {
    const bytes = Buffer.concat([Buffer.from('a\tb\nno tab\n\tx\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\tz\nc\td\n')]);
    const c = readParallelTsv(file('mixed.tsv', bytes), { onBadLine: 'skip' });
    assert.deepEqual(c.pairs.map((p) => p.line), [1, 5]);
    assert.deepEqual(c.skipped, { 'missing-column': 1, 'empty-side': 1, 'invalid-utf8': 1 });
    assert.equal(c.skippedTotal, 3);
  });

  const tatoeba = sharedDataOrSkip('cmn-eng-tatoeba/v2020-23610/cmn.txt');
  test('Tatoeba cmn.txt reads cleanly', { skip: tatoeba ? false : 'skipped: ../shared/data/cmn-eng-tatoeba absent' }, () => {
    const c = readParallelTsv(tatoeba!);
    assert.ok(c.pairs.length > 20000, `${c.pairs.length} pairs`);
    assert.equal(c.skippedTotal, 0);
    assert.deepEqual(c.pairs[0], { source: 'Hi.', target: '嗨。', line: 1 });
  });
});

describe('readParallelFiles', () => {
  test('two aligned files, one gzipped', () => {
    const c = readParallelFiles(file('t.de', 'Hallo Welt\nZwei\n'), file('t.en.gz', gzipSync(Buffer.from('Hello world\nTwo\n'))));
    assert.deepEqual(c.pairs.map((p) => [p.source, p.target]), [['Hallo Welt', 'Hello world'], ['Zwei', 'Two']]);
  });
  test('line counts differ: error names both files and counts', () => {
    assert.throws(() => readParallelFiles(file('u.de', 'a\nb\nc\n'), file('u.en', 'a\nb\n')), /u.en:3:1: files are not line-aligned: .*u.de has 3 lines, .*u.en has 2/);
  });
  test('empty line on one side, empty file, bad UTF-8', () => {
    assert.throws(() => readParallelFiles(file('v.de', 'a\n\n'), file('v.en', 'a\nb\n')), /v.de:2:1: empty line/);
    assert.throws(() => readParallelFiles(file('w.de', ''), file('w.en', 'a\n')), /w.de: empty file/);
    assert.throws(() => readParallelFiles(file('x.de', 'a\n'), file('x.en', Buffer.from([0x61, 0xe2, 0x82]))), /x.en:1:2: invalid UTF-8/);
    const c = readParallelFiles(file('y.de', 'a\n\nc\n'), file('y.en', 'a\nb\nc\n'), { onBadLine: 'skip' });
    assert.equal(c.pairs.length, 2);
    assert.equal(c.skipped['empty-side'], 1);
  });

  const m30k = sharedDataOrSkip('multi30k-en-de/raw');
  test('Multi30k val.de.gz + val.en.gz', { skip: m30k ? false : 'skipped: ../shared/data/multi30k-en-de absent' }, () => {
    const c = readParallelFiles(join(m30k!, 'val.de.gz'), join(m30k!, 'val.en.gz'));
    assert.equal(c.pairs.length, 1014);
    assert.equal(c.skippedTotal, 0);
  });
});
