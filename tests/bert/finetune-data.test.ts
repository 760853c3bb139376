/**
 * Classification data: CSV (RFC 4180 quoting), TSV (GLUE style) and JSONL readers, column choice,
 * the label set built from the training data, and errors that name the file, line and field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SHARED_DATA } from '../helpers.js';
import { buildLabelSet, labelIds, readClassificationFile } from '../../src/bert/data/classify.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-ft-data-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const f = join(dir, name);
  writeFileSync(f, content);
  return f;
}

describe('reading classification files', () => {
  test('CSV with quotes, doubled quotes, commas and newlines inside fields', () => {
    const f = file('a.csv', 'id,review,stars\n1,"good, really good",pos\n2,"she said ""bad""\nand left",neg\n\n3,plain text ,pos\n');
    const d = readClassificationFile(f, { labelColumn: 'stars' });
    assert.deepEqual(d.columns, { text: 'review', label: 'stars' });
    assert.deepEqual(d.examples, [
      { text: 'good, really good', label: 'pos', line: 2 },
      { text: 'she said "bad"\nand left', label: 'neg', line: 3 },
      { text: 'plain text', label: 'pos', line: 6 },
    ]);
  });

  test('TSV (GLUE): default columns, pairs found by name, no quoting', () => {
    const f = file('glue.tsv', 'sentence\tlabel\nit \'s a "charming" film \t1\nbleak\t0\n');
    const d = readClassificationFile(f);
    assert.deepEqual(d.examples.map((e) => [e.text, e.label]), [['it \'s a "charming" film', '1'], ['bleak', '0']]);
    const p = readClassificationFile(file('pair.tsv', 'label\ttext_a\ttext_b\nyes\ta cat\ta feline\n'));
    assert.deepEqual(p.columns, { text: 'text_a', textPair: 'text_b', label: 'label' });
    assert.equal(p.examples[0]!.textPair, 'a feline');
    const noHeader = readClassificationFile(file('nohead.tsv', 'x y\tA\n'), { header: false, textColumn: '0', labelColumn: '1' });
    assert.deepEqual(noHeader.examples, [{ text: 'x y', label: 'A', line: 1 }]);
  });

  test('JSONL: string, number and boolean labels; chosen fields', () => {
    const f = file('a.jsonl', '{"q": "is it?", "a": "yes", "y": 1}\n\n{"q": "no way", "a": "sure", "y": 0, "extra": [1]}\n');
    const d = readClassificationFile(f, { textColumn: 'q', textPairColumn: 'a', labelColumn: 'y' });
    assert.deepEqual(d.examples, [{ text: 'is it?', textPair: 'yes', label: '1', line: 1 }, { text: 'no way', textPair: 'sure', label: '0', line: 3 }]);
  });

  test('the label set comes from the training data: sorted, numerically for integers; labels outside it are errors', () => {
    const train = readClassificationFile(file('t.jsonl', ['pos', 'neg', 'neutral', 'pos'].map((l, i) => JSON.stringify({ text: `t${i}`, label: l })).join('\n')));
    const set = buildLabelSet(train.examples);
    assert.deepEqual(set.labels, ['neg', 'neutral', 'pos']);
    assert.deepEqual(set.id2label, { 0: 'neg', 1: 'neutral', 2: 'pos' });
    assert.deepEqual(set.label2id, { neg: 0, neutral: 1, pos: 2 });
    assert.deepEqual(labelIds(train, set), [2, 0, 1, 2]);
    assert.deepEqual(buildLabelSet(['10', '9', '-1', '9'].map((label, line) => ({ text: 'x', label, line }))).labels, ['-1', '9', '10']);
    const valid = readClassificationFile(file('v.jsonl', '{"text": "a", "label": "pos"}\n{"text": "b", "label": "mixed"}\n'));
    assert.throws(() => labelIds(valid, set), /v\.jsonl:2:1: field "label": label "mixed" does not occur in the training data \(labels: neg, neutral, pos\)/);
  });
});

describe('malformed files name the file, line and field', () => {
  const cases: Array<[string, string | Buffer, RegExp, object?]> = [
    ['short-row.tsv', 'sentence\tlabel\ngood\t1\nno label here\n', /short-row\.tsv:3:\d+: field "label" \(label, column 2\) missing: the row has 1 field, the header 2/],
    ['empty-text.csv', 'text,label\n"",1\n', /empty-text\.csv:2:1: field "text" \(text\) is empty/],
    ['empty-label.tsv', 'sentence\tlabel\nfine\t \n', /empty-label\.tsv:2:6: field "label" \(label\) is empty/],
    ['no-column.csv', 'body,label\nx,1\n', /no-column\.csv:1:1: no text column: give one \(columns: body, label\)/],
    ['wrong-name.csv', 'text,label\nx,1\n', /wrong-name\.csv:1:1: no label column "stars" in the header \(columns: text, label\)/, { labelColumn: 'stars' }],
    ['open-quote.csv', 'text,label\n"never closed,1\nx,2\n', /open-quote\.csv:2:1: field 1: quote opened here is never closed/],
    ['after-quote.csv', 'text,label\n"a"b,1\n', /after-quote\.csv:2:4: field 1: unexpected "b" after a closing quote/],
    ['bad-json.jsonl', '{"text": "a", "label": 1}\n{"text": "b", label: 2}\n', /bad-json\.jsonl:2:1: not valid JSON/],
    ['not-object.jsonl', '{"text": "a", "label": 1}\n[1, 2]\n', /not-object\.jsonl:2:1: expected a JSON object, got an array/],
    ['missing-field.jsonl', '{"text": "a", "label": 1}\n{"text": "b"}\n', /missing-field\.jsonl:2:1: missing field "label" \(label\); the object has text/],
    ['bad-type.jsonl', '{"text": "a", "label": 1}\n{"text": 5, "label": 1}\n', /bad-type\.jsonl:2:1: field "text" \(text\) must be a string, got 5/],
    ['bad-utf8.tsv', Buffer.from([...Buffer.from('sentence\tlabel\nok\t1\nbad '), 0xff, ...Buffer.from('\t0\n')]), /bad-utf8\.tsv:3:5: invalid UTF-8/],
    ['header-only.csv', 'text,label\n', /header-only\.csv: no examples/],
    ['empty.jsonl', '\n\n', /empty\.jsonl: empty file/],
  ];
  for (const [name, content, message, options] of cases) {
    test(name, () => {
      assert.throws(() => readClassificationFile(file(name, content), options ?? {}), (e: Error) => {
        assert.match(e.message, message);
        return true;
      });
    });
  }
  test('unknown format', () => {
    assert.throws(() => readClassificationFile(file('data.xml', '<x/>')), /data\.xml: cannot tell the format from the name; give format csv, tsv or jsonl/);
  });
});

test('the real SST-2 and ChnSentiCorp files read (skipped when ../shared/data is absent)', (t) => {
  const sst = join(SHARED_DATA, 'sst2-glue', 'dev.tsv');
  const chn = join(SHARED_DATA, 'chnsenticorp', 'dev.tsv');
  if (!existsSync(sst) || !existsSync(chn)) {
    t.skip(`real data not found at ${SHARED_DATA} (sst2-glue, chnsenticorp); generated data covers the readers`);
    return;
  }
  const s = readClassificationFile(sst);
  assert.equal(s.examples.length, 872);
  assert.deepEqual(buildLabelSet(s.examples).labels, ['0', '1']);
  const c = readClassificationFile(chn);
  assert.equal(c.columns.text, 'text_a');
  assert.equal(c.examples.length, 1200);
});
