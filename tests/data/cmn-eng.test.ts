/**
 * cmn-eng: the split rule on a small file in cmn.txt's format (buckets from an independent FNV-1a
 * in Python), both directions through loadSplits, the CLI's prepare/train/eval, a clear error when
 * the data folder is absent, and the real file's counts (skipped when ../shared/data is absent).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CMN_ENG_FILE, cmnEngPath, fnv1a32, readCmnEng } from '../../src/data/cmn-eng.js';
import { loadSplits, Translator } from '../../src/translate/translator.js';
import { WordTokenizer } from '../../src/text/tokenizer.js';
import { SHARED_DATA, zhuyi } from '../helpers.js';

const ATTR = 'CC-BY 2.0 (France) Attribution: tatoeba.org #1 (a) & #2 (b)';
// English (normalized) -> FNV-1a mod 100, from Python: hi. 60, i know. 3, we lost. 5, i fell. 1,
// go away. 79, look out! 5, help me. 74, be nice. 45, tom won. 3, i lied. 4.
const LINES = [
  ['Hi.', '嗨。'], ['Hi.', '你好。'], // one group through the English side: train (60)
  ['I know.', '我知道。'], ['I KNOW.', '我知道。'], ['I know.', '我知道。'], // a case-only duplicate and a byte-exact one
  ['We lost.', '我們輸了。'], // valid (5)
  ['I fell.', '我跌倒了。'], // test (1)
  ['Go away.', '走開！'],
  ['Look out!', '小心！'], ['Help me.', '小心！'], // one group through the Chinese side: hashed on "help me." (74), so train, not valid (5)
  ['Be nice.', '友善點。'],
  ['Tom won.', '湯姆贏了。'], ['I lied.', '我說謊了。'], // test (3, 4)
];

const root = mkdtempSync(join(tmpdir(), 'zhuyi-cmn-'));
after(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'cmn-eng-tatoeba', 'v2020-23610'), { recursive: true });
writeFileSync(join(root, CMN_ENG_FILE), LINES.map(([en, zh]) => `${en}\t${zh}\t${ATTR}\n`).join(''));

describe('cmn-eng split', () => {
  test('FNV-1a 32 matches the published test vectors', () => {
    assert.equal(fnv1a32(''), 0x811c9dc5);
    assert.equal(fnv1a32('a'), 0xe40c292c);
    assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  });

  test('duplicates removed and counted; linked groups stay together; buckets by the smallest English sentence', () => {
    const s = readCmnEng(cmnEngPath(root));
    assert.deepEqual([s.lines, s.duplicates, s.exactDuplicates, s.groups], [13, 2, 1, 9]);
    assert.deepEqual(s.test.map((p) => p.en), ['I know.', 'I fell.', 'Tom won.', 'I lied.']);
    assert.deepEqual(s.valid.map((p) => p.en), ['We lost.']);
    assert.deepEqual(s.train.map((p) => p.en), ['Hi.', 'Hi.', 'Go away.', 'Look out!', 'Help me.', 'Be nice.']);
    assert.deepEqual(s.test.map((p) => p.line), [3, 7, 12, 13]);
  });

  test('loadSplits: zh-en is characters -> words, en-zh the reverse; the test split comes along', () => {
    const zhEn = loadSplits({ corpus: 'cmn-eng', direction: 'zh-en', dataDir: root });
    assert.deepEqual([zhEn.sourceKind, zhEn.targetKind], ['char', 'word']);
    assert.deepEqual(zhEn.test!.pairs[0], { source: '我知道。', target: 'I know.', length: 4 });
    assert.match(zhEn.note!, /13 lines, 2 duplicate pairs removed \(1 byte-exact\), 9 linked groups -> train 6, valid 1, test 4/);
    const enZh = loadSplits({ corpus: 'cmn-eng', direction: 'en-zh', dataDir: root });
    assert.deepEqual([enZh.sourceKind, enZh.targetKind], ['word', 'char']);
    assert.deepEqual(enZh.valid.pairs[0], { source: 'We lost.', target: '我們輸了。', length: 2 });
    assert.throws(() => loadSplits({ corpus: 'cmn-eng', task: 'numbers', dataDir: root }), /give one of --data, --task, or --train\/--valid/);
  });

  test('an absent data folder is a clear error naming the path and the way out', () => {
    const missing = join(root, 'nowhere');
    assert.throws(() => loadSplits({ corpus: 'cmn-eng', dataDir: missing }),
      (e: Error) => e.message.includes(join(missing, CMN_ENG_FILE)) && /not found.*--data-dir.*ZHUYI_DATA/s.test(e.message));
  });

  test('word-level references are compared as the tokenizer splits them; others untouched', () => {
    const words = WordTokenizer.train(['Let\'s go.']);
    const t = new Translator('transformer', null as never, words, words);
    assert.equal(t.referenceText('Let\'s go.'), 'Let \' s go .');
    assert.equal(t.referenceText('twelve thousand'), 'twelve thousand');
  });
});

describe('zhuyi translate --data cmn-eng', () => {
  test('prepare writes the split as TSV; train and eval run in one line; an absent folder fails clearly', () => {
    const out = join(root, 'tsv');
    const prep = zhuyi(['translate', 'prepare', 'cmn-eng', '--data-dir', root, '--out', out]);
    assert.equal(prep.status, 0, prep.stderr);
    assert.match(prep.stdout, /train 6, valid 1, test 4/);
    assert.equal(readFileSync(join(out, 'valid.tsv'), 'utf8'), 'We lost.\t我們輸了。\n');
    const model = join(root, 'model');
    const tr = zhuyi(['translate', 'train', '--data', 'cmn-eng', '--direction', 'en-zh', '--data-dir', root, '--model', 'attention', '--size', 'tiny',
      '--epochs', '1', '--batch-tokens', '64', '--valid-decode', '1', '--out', model]);
    assert.equal(tr.status, 0, tr.stderr);
    assert.match(tr.stdout, /cmn-eng en-zh: 13 lines/);
    assert.match(tr.stdout, /held-out test \(4\)/);
    assert.match(tr.stdout, /BLEU .*tok:zh/, 'Chinese targets use sacreBLEU\'s zh tokenizer');
    const ev = zhuyi(['translate', 'eval', model, '--beam', '2']);
    assert.equal(ev.status, 0, ev.stderr);
    assert.match(ev.stdout, /^4 sentences, beam 2/m);
    const missing = zhuyi(['translate', 'train', '--data', 'cmn-eng', '--data-dir', join(root, 'nowhere'), '--model', 'attention', '--out', join(root, 'm2')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cmn-eng: .*cmn\.txt not found/);
  });
});

test('the real cmn.txt (v2020-23610): counts of the split (skipped when ../shared/data is absent)', (t) => {
  if (!existsSync(join(SHARED_DATA, CMN_ENG_FILE))) return t.skip(`${join(SHARED_DATA, CMN_ENG_FILE)} absent`);
  const s = readCmnEng(cmnEngPath(SHARED_DATA));
  assert.deepEqual([s.lines, s.duplicates, s.exactDuplicates, s.groups], [23610, 4, 0, 21049]);
  assert.deepEqual([s.train.length, s.valid.length, s.test.length], [21262, 1176, 1168]);
  const trainEnglish = new Set(s.train.map((p) => p.en.toLowerCase()));
  const trainChinese = new Set(s.train.map((p) => p.zh));
  assert.ok([...s.valid, ...s.test].every((p) => !trainEnglish.has(p.en.toLowerCase()) && !trainChinese.has(p.zh)), 'no sentence crosses splits');
});
