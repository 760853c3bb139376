/**
 * `zhuyi viz` from the command line: one HTML file per folder kind (translation models, BERT, a
 * run folder with only log.jsonl), --png, and errors that name the path or the flag.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromiumPath } from '../../src/viz/png.js';
import { bertFolder, pageData, TEXT, translationFolder } from '../viz/fixtures.js';
import { zhuyi } from '../helpers.js';

const root = mkdtempSync(join(tmpdir(), 'zhuyi-cli-viz-'));
after(() => rmSync(root, { recursive: true, force: true }));

const dirs: Record<string, string> = {};
before(async () => {
  dirs.transformer = await translationFolder(root, 'transformer', { numDecoderLayers: 2 });
  dirs.attention = await translationFolder(root, 'attention');
  dirs.seq2seq = await translationFolder(root, 'seq2seq');
  dirs.bert = await bertFolder(root);
  dirs.run = join(root, 'run');
  mkdirSync(dirs.run);
  copyFileSync(join(dirs.transformer, 'log.jsonl'), join(dirs.run, 'log.jsonl'));
});

describe('zhuyi viz', () => {
  test('translation folders: Transformer (layers x heads), RNN with attention, plain Seq2Seq', () => {
    const out = join(root, 'out', 'transformer.html');
    const r = zhuyi(['viz', dirs.transformer!, '--text', TEXT, '--out', out, '--layer', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /translation attention and training curves: .*transformer\.html/);
    const html = readFileSync(out, 'utf8');
    const tr = pageData(html).translation!;
    assert.equal(tr.maps.length, 2);
    assert.equal(tr.maps[0]!.length, 4);
    assert.match(html, /<option value="0" selected>1 of 2<\/option>/, '--layer is 1-based');
    assert.match(html, /id="curves"/);

    const att = join(root, 'out', 'attention.html');
    assert.equal(zhuyi(['viz', dirs.attention!, '--text', TEXT, '--out', att]).status, 0);
    const a = pageData(readFileSync(att, 'utf8')).translation!;
    assert.deepEqual([a.maps.length, a.maps[0]!.length, a.maps[0]![0]!.length, a.maps[0]![0]![0]!.length], [1, 1, a.outputTokens.length, 4]);

    const s2s = join(root, 'out', 'seq2seq.html');
    const s = zhuyi(['viz', dirs.seq2seq!, '--text', TEXT, '--out', s2s]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(readFileSync(s2s, 'utf8'), /has no attention/);
  });

  test('BERT folder with --pair: head view and model view', () => {
    const out = join(root, 'out', 'bert.html');
    const r = zhuyi(['viz', dirs.bert!, '--text', 'the cat sat', '--pair', 'it was happy', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bert attention: /);
    const html = readFileSync(out, 'utf8');
    const b = pageData(html).bert!;
    assert.deepEqual(b.tokenTypeIds, [0, 0, 0, 0, 0, 1, 1, 1, 1]);
    assert.match(html, /id="head-view"/);
    assert.match(html, /id="model-view"/);
    assert.doesNotMatch(html, /id="curves"/, 'a model folder without log.jsonl: no curves');
  });

  test('a run folder with only log.jsonl: curves only; --text is reported as ignored', () => {
    const out = join(root, 'out', 'curves.html');
    const r = zhuyi(['viz', dirs.run!, '--out', out, '--text', 'hello']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^training curves: /);
    assert.match(r.stderr, /--text ignored: .* holds no model, only log\.jsonl/);
    const html = readFileSync(out, 'utf8');
    assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 4);
    assert.doesNotMatch(html, /id="translation"|id="head-view"/);
  });

  test('--png writes a screenshot (or says what it needs)', (t) => {
    const out = join(root, 'out', 'png.html');
    const png = join(root, 'out', 'page.png');
    const r = zhuyi(['viz', dirs.run!, '--out', out, '--png', png]);
    if (!existsSync(chromiumPath())) {
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /--png needs Chromium: no executable at/);
      t.skip(`no Chromium at ${chromiumPath()}: checked the error only`);
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /screenshot: .*page\.png/);
    assert.deepEqual([...readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  test('bad input: errors name the path or the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['viz', join(root, 'missing')], /missing: no such directory/],
      [['viz', join(root, 'out', 'transformer.html')], /transformer\.html is not a directory/],
      [['viz', join(root, 'out')], /out is neither a model folder .* nor a run folder \(log\.jsonl\)/],
      [['viz', dirs.transformer!], /is a translation model: give the sentence to look at with --text/],
      [['viz', dirs.bert!], /is a BERT model: give the sentence to look at with --text/],
      [['viz', dirs.transformer!, '--text', TEXT, '--pair', 'x'], /--pair is for BERT models/],
      [['viz', dirs.transformer!, '--text', TEXT, '--layer', '0'], /--layer: expected a layer number from 1, got '0'/],
      [['viz', dirs.transformer!, '--text', TEXT, '--layer', '3'], /layer 3 is out of range: the decoder has layers 1\.\.2/],
    ];
    for (const [args, message] of cases) {
      const r = zhuyi(args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('--help', () => {
    const r = zhuyi(['viz', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: zhuyi viz \[options\] <dir>/);
    assert.match(r.stdout, /--text.*--pair.*--out.*--png.*--layer/s);
  });
});
