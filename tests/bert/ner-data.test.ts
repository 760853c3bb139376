/**
 * NER data: the CoNLL-2003 reader (columns, -DOCSTART-, IOB1 -> BIO, errors naming file, line and
 * column), the label set, WordPiece alignment as HF run_ner (label on the first piece, -100 on the
 * rest and on specials), and seqeval's default-mode entities and scores on hand cases with known values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertTokenizer } from '../../src/index.js';
import {
  NER_IGNORE_INDEX, alignNerWords, getEntities, nerLabelIds, nerLabelSet, readConllFile, seqevalScores, toBio,
} from '../../src/bert/data/ner.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-ner-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

// CoNLL-2003's own layout: token, POS, chunk, NER (IOB1 in the original files).
const CONLL = `-DOCSTART- -X- -X- O

EU NNP B-NP I-ORG
rejects VBZ B-VP O
German JJ B-NP I-MISC
call NN I-NP O
. . O O

Peter NNP B-NP I-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP I-LOC
1996-08-22 CD I-NP O
`;

describe('reading CoNLL files', () => {
  test('CoNLL-2003 layout: sentences, documents, the last column as label, IOB1 read as BIO', () => {
    const d = readConllFile(file('eng.train', CONLL));
    assert.equal(d.documents, 2);
    assert.equal(d.columns, 4);
    assert.equal(d.labelColumn, 3);
    assert.deepEqual(d.sentences.map((s) => s.tokens), [['EU', 'rejects', 'German', 'call', '.'], ['Peter', 'Blackburn'], ['BRUSSELS', '1996-08-22']]);
    assert.deepEqual(d.sentences.map((s) => s.labels), [['B-ORG', 'O', 'B-MISC', 'O', 'O'], ['B-PER', 'I-PER'], ['B-LOC', 'O']]);
    assert.deepEqual(d.sentences[1]!.lines, [9, 10]);
    assert.equal(d.converted, 4);
  });

  test('BIO files are unchanged; IOB1 uses B- only between adjacent entities of one type', () => {
    assert.deepEqual(toBio(['B-PER', 'I-PER', 'O', 'B-LOC']), { labels: ['B-PER', 'I-PER', 'O', 'B-LOC'], converted: 0 });
    // IOB1: "I-PER I-PER B-PER" is two persons; I-LOC after I-PER starts a location.
    assert.deepEqual(toBio(['I-PER', 'I-PER', 'B-PER', 'I-LOC', 'O', 'I-LOC']), { labels: ['B-PER', 'I-PER', 'B-PER', 'B-LOC', 'O', 'B-LOC'], converted: 3 });
  });

  test('columns chosen by index, tabs and CRLF, a label column counted from the end', () => {
    const f = file('cols.tsv', 'x\tJohn\tB-PER\r\nx\tSmith\tI-PER\r\n\r\nx\tParis\tB-LOC\r\n');
    const d = readConllFile(f, { tokenColumn: 1, labelColumn: -1 });
    assert.deepEqual(d.sentences.map((s) => [s.tokens, s.labels]), [[['John', 'Smith'], ['B-PER', 'I-PER']], [['Paris'], ['B-LOC']]]);
    const byIndex = readConllFile(f, { tokenColumn: 1, labelColumn: 2 });
    assert.deepEqual(byIndex.sentences, d.sentences);
    const noLabels = readConllFile(file('tokens.txt', 'John\nSmith\n'), { requireLabels: false });
    assert.deepEqual(noLabels.sentences, [{ tokens: ['John', 'Smith'], labels: ['', ''], lines: [1, 2] }]);
  });

  test('the label set: O, then B- and I- of every type (sorted); validation labels outside it are errors', () => {
    const train = readConllFile(file('t.conll', 'a B-PER\nb O\n\nc I-LOC\nd I-LOC\n'));
    const set = nerLabelSet(train.sentences);
    assert.deepEqual(set.labels, ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']);
    assert.deepEqual(nerLabelIds(train, set), [[3, 0], [1, 2]]);
    const valid = readConllFile(file('v.conll', 'a B-PER\n\nb O\nc B-ORG\n'));
    assert.throws(() => nerLabelIds(valid, set), /v\.conll:4:1: label "B-ORG" does not occur in the training data \(labels: O, B-LOC, I-LOC, B-PER, I-PER\)/);
  });
});

describe('malformed CoNLL files name the file, line and column', () => {
  const cases: Array<[string, string | Buffer, RegExp, object?]> = [
    ['bad-label.conll', 'John NNP B-PER\nruns VBZ X-VERB\n', /bad-label\.conll:2:10: label "X-VERB" is not a BIO or IOB1 tag \(O, B-TYPE or I-TYPE\)/],
    ['columns.conll', 'John NNP B-PER\n\nNew York NNP B-LOC\n', /columns\.conll:3:\d+: 4 columns, but line 1 has 3 \(columns are separated by spaces; a token may not contain one\)/],
    ['one-column.conll', 'John\nSmith\n', /one-column\.conll:1:1: one column only: expected a token and a label per line/],
    ['no-label-col.conll', 'John B-PER\n', /no-label-col\.conll:1:1: label column 5 \(0-based\) does not exist/, { labelColumn: 5 }],
    ['empty.conll', '', /empty\.conll: empty file/],
    ['docstart-only.conll', '-DOCSTART- -X- -X- O\n\n', /docstart-only\.conll: no sentences \(only blank or -DOCSTART- lines\)/],
    ['bad-utf8.conll', Buffer.from([...Buffer.from('John B-PER\nJ'), 0xff, ...Buffer.from(' O\n')]), /bad-utf8\.conll:2:2: invalid UTF-8/],
  ];
  for (const [name, content, message, options] of cases) {
    test(name, () => {
      assert.throws(() => readConllFile(file(name, content), options ?? {}), (e: Error) => {
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

describe('WordPiece alignment (HF run_ner, label_all_tokens false)', () => {
  const tok = new BertTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'mr', 'johan', '##son', 'lives', 'in', 'new', 'york', 'u', '.', 's']);
  const id = (t: string): number => tok.convertTokensToIds(t);

  test('the label on the first piece, -100 on the others and on [CLS] / [SEP]', () => {
    const words = ['Mr', 'Johanson', 'lives', 'in', 'U.S.'];
    const labels = [0, 1, 0, 0, 3];
    const f = alignNerWords(words, labels, tok, 64);
    assert.deepEqual([...f.ids], [id('[CLS]'), id('mr'), id('johan'), id('##son'), id('lives'), id('in'), id('u'), id('.'), id('s'), id('.'), id('[SEP]')]);
    assert.deepEqual([...f.labels], [-100, 0, 1, -100, 0, 0, 3, -100, -100, -100, -100]);
    assert.deepEqual([...f.wordStarts], [1, 2, 4, 5, 6]);
    assert.equal(f.truncatedWords, 0);
    assert.equal(NER_IGNORE_INDEX, -100);
  });

  test('maxSeqLength cuts whole words after the last that starts inside, [SEP] kept; words without tokens get no position', () => {
    const f = alignNerWords(['Johanson', 'lives', 'in', 'York'], [1, 0, 0, 2], tok, 5);
    assert.deepEqual([...f.ids], [id('[CLS]'), id('johan'), id('##son'), id('lives'), id('[SEP]')]);
    assert.deepEqual([...f.labels], [-100, 1, -100, 0, -100]);
    assert.deepEqual([...f.wordStarts], [1, 3, -1, -1]);
    assert.equal(f.truncatedWords, 2);
    const empty = alignNerWords(['in', '\u200b', 'york'], null, tok, 16);
    assert.deepEqual([...empty.wordStarts], [1, -1, 2]);
    assert.deepEqual([...empty.labels], [-100, -100, -100, -100]);
  });
});

describe('seqeval (default mode)', () => {
  test('get_entities: spans, I- starting an entity, type changes, sentences joined with O', () => {
    assert.deepEqual(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC']), [['PER', 0, 1], ['LOC', 3, 3]]); // seqeval's docstring
    assert.deepEqual(getEntities(['I-PER', 'I-PER', 'O']), [['PER', 0, 1]]);
    assert.deepEqual(getEntities(['B-PER', 'I-LOC', 'I-LOC']), [['PER', 0, 0], ['LOC', 1, 2]]);
    assert.deepEqual(getEntities(['B-PER', 'I-PER', 'B-PER', 'O', 'I-MISC']), [['PER', 0, 1], ['PER', 2, 2], ['MISC', 4, 4]]);
    assert.deepEqual(getEntities([['B-PER'], ['I-PER', 'I-PER']]), [['PER', 0, 0], ['PER', 2, 3]]);
    assert.deepEqual(getEntities(['O', 'O']), []);
  });

  test("seqeval's README example: F1 0.50, accuracy 0.80; per type MISC 0, PER 1", () => {
    const gold = [['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const pred = [['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'], ['B-PER', 'I-PER', 'O']];
    const s = seqevalScores(gold, pred);
    assert.equal(s.f1, 0.5);
    assert.equal(s.precision, 0.5);
    assert.equal(s.recall, 0.5);
    assert.equal(s.accuracy, 0.8);
    assert.deepEqual(s.perType, { MISC: { precision: 0, recall: 0, f1: 0, support: 1 }, PER: { precision: 1, recall: 1, f1: 1, support: 1 } });
  });

  test('default (non-strict) mode: an I- start matches a B- start (strict IOB2 would score 0)', () => {
    const s = seqevalScores([['B-NP', 'I-NP', 'O']], [['I-NP', 'I-NP', 'O']]);
    assert.equal(s.f1, 1);
  });

  test('partial spans count as wrong; micro averages over types; nothing predicted gives 0', () => {
    // Gold: PER 0-1, LOC 4, ORG 6-7. Predicted: PER 0-1 (right), LOC 4 (right), PER 6 (wrong type and span), MISC 8 (spurious).
    const gold = [['B-PER', 'I-PER', 'O', 'O', 'B-LOC', 'O', 'B-ORG', 'I-ORG', 'O']];
    const pred = [['B-PER', 'I-PER', 'O', 'O', 'B-LOC', 'O', 'B-PER', 'O', 'B-MISC']];
    const s = seqevalScores(gold, pred);
    assert.equal(s.correct, 2);
    assert.equal(s.precision, 0.5);
    assert.equal(s.recall, 2 / 3);
    assert.ok(Math.abs(s.f1 - 4 / 7) < 1e-12, String(s.f1)); // 2PR/(P+R) = (2/3)/(7/6)
    assert.equal(s.accuracy, 6 / 9);
    assert.deepEqual(Object.keys(s.perType), ['LOC', 'MISC', 'ORG', 'PER']);
    assert.ok(Math.abs(s.perType.PER!.f1 - 2 / 3) < 1e-12);
    const none = seqevalScores(gold, [gold[0]!.map(() => 'O')]);
    assert.deepEqual([none.precision, none.recall, none.f1], [0, 0, 0]);
    assert.throws(() => seqevalScores(gold, [['O']]), /sentence 0 has 9 gold tags but 1 predicted/);
  });
});
