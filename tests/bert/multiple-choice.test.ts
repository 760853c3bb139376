/**
 * Multiple-choice fine-tuning: the reader turns hand-written JSONL and SWAG CSV files into the pair
 * encodings computed by hand with a tiny vocabulary, and every malformed line is an error naming the
 * file and line; the loss of a padded (B, N, S) batch equals the cross-entropy over choices computed
 * one unpadded pair at a time; a tiny BERT from random init learns a generated task (the right
 * ending repeats the context's last word) far above chance; the CLI writes an HF folder that
 * BertForMultipleChoice.fromPretrained loads and that scores (directly and through `bert eval`) as
 * the run reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertConfig, BertForMultipleChoice, BertTokenizer, Generator, manualSeed, noGrad } from '../../src/index.js';
import { finetuneMultipleChoice, evaluateMultipleChoice, multipleChoiceBatch, multipleChoiceEvalBatches } from '../../src/bert/multiple-choice.js';
import { bertPreset } from '../../src/bert/run.js';
import { multipleChoiceFeatures, readMultipleChoiceFile } from '../../src/bert/data/multiple-choice.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose, zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-mc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

//              0        1        2        3        4         5      6      7      8     9      10     11     12      13
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'away', '##s'];
const tiny = new BertTokenizer(VOCAB, { doLowerCase: true });
const plain = (f: { ids: Int32Array[]; types: Int32Array[]; label: number }) => ({ ids: f.ids.map((x) => [...x]), types: f.types.map((x) => [...x]), label: f.label });

describe('multiple-choice data', () => {
  test('JSONL (context + endings; question + choices) and SWAG CSV give the hand-computed pair encodings', () => {
    const a = readMultipleChoiceFile(file('a.jsonl', [
      '{"context": "The cat sat", "endings": ["on the mat", "ran away"], "label": 0}',
      '',
      '{"context": "the dog", "endings": ["sat", "ran"], "label": "1"}',
    ].join('\n')));
    assert.equal(a.numChoices, 2);
    assert.deepEqual(a.fields, { context: 'context', choices: 'endings', label: 'label' });
    assert.deepEqual(a.examples.map((e) => e.line), [1, 3]);
    assert.deepEqual(multipleChoiceFeatures(a.examples, tiny, 32).map(plain), [
      { ids: [[2, 5, 6, 7, 3, 8, 5, 9, 3], [2, 5, 6, 7, 3, 11, 12, 3]], types: [[0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1]], label: 0 },
      { ids: [[2, 5, 10, 3, 7, 3], [2, 5, 10, 3, 11, 3]], types: [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1]], label: 1 },
    ]);

    const q = readMultipleChoiceFile(file('q.jsonl', '{"question": "the cat", "choices": ["sat", "ran away", "dogs"], "label": 2}\n'));
    assert.deepEqual(q.fields, { context: 'question', choices: 'choices', label: 'label' });
    assert.deepEqual(multipleChoiceFeatures(q.examples, tiny, 32).map(plain), [
      { ids: [[2, 5, 6, 3, 7, 3], [2, 5, 6, 3, 11, 12, 3], [2, 5, 6, 3, 10, 13, 3]], types: [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1]], label: 2 },
    ]);

    // SWAG's columns; the second segment is sent2 + " " + ending (run_swag); a quoted field holds a comma.
    const swag = readMultipleChoiceFile(file('swag.csv', [
      'video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label',
      'anetv_1,7,The cat sat on the,The cat sat,on the,gold,mat,cat,dog,"cats, the",3',
    ].join('\n')));
    assert.deepEqual(swag.fields, { context: 'sent1', header: 'sent2', choices: 'ending0..ending3', label: 'label' });
    assert.deepEqual(swag.examples[0]!.choices, ['on the mat', 'on the cat', 'on the dog', 'on the cats, the']);
    const [f] = multipleChoiceFeatures(swag.examples, tiny, 32).map(plain);
    assert.deepEqual(f, {
      ids: [[2, 5, 6, 7, 3, 8, 5, 9, 3], [2, 5, 6, 7, 3, 8, 5, 6, 3], [2, 5, 6, 7, 3, 8, 5, 10, 3], [2, 5, 6, 7, 3, 8, 5, 6, 13, 1, 5, 3]],
      types: [[0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]],
      label: 3,
    });
    // Longest-first truncation to 8 tokens: the ending (7 pieces) shrinks to the context's 3, then the tie goes to the second.
    assert.deepEqual([...multipleChoiceFeatures(swag.examples, tiny, 8)[0]!.ids[3]!], [2, 5, 6, 7, 3, 8, 5, 3]);
  });

  test('each malformed line is an error naming the file and line', () => {
    const good = '{"context": "the cat", "endings": ["sat", "ran"], "label": 0}';
    const cases: Array<[string, string, RegExp]> = [
      ['range.jsonl', `${good}\n{"context": "the dog", "endings": ["sat", "ran"], "label": 2}`, /range\.jsonl:2:1: label 2 is out of range: 2 choices, so 0\.\.1/],
      ['negative.jsonl', `${good}\n{"context": "the dog", "endings": ["sat", "ran"], "label": -1}`, /negative\.jsonl:2:1: label -1 is out of range/],
      ['count.jsonl', `${good}\n\n{"context": "the dog", "endings": ["sat", "ran", "on"], "label": 0}`, /count\.jsonl:3:1: 3 choices in "endings", but the example on line 1 has 2; every example of a file needs the same number of choices/],
      ['nochoices.jsonl', `${good}\n{"context": "the dog", "label": 0}`, /nochoices\.jsonl:2:1: missing field "endings" \(choices\)/],
      ['nolabel.jsonl', `${good}\n{"context": "the dog", "endings": ["sat", "ran"]}`, /nolabel\.jsonl:2:1: missing field "label"/],
      ['nocontext.jsonl', `${good}\n{"endings": ["sat", "ran"], "label": 1}`, /nocontext\.jsonl:2:1: missing field "context"/],
      ['fraction.jsonl', `${good}\n{"context": "the dog", "endings": ["sat", "ran"], "label": 0.5}`, /fraction\.jsonl:2:1: field "label" must be an integer choice index, got 0\.5/],
      ['empty.jsonl', `${good}\n{"context": "the dog", "endings": ["sat", " "], "label": 0}`, /empty\.jsonl:2:1: field "endings"\[1\] \(choice 1\) must be a non-empty string/],
      ['one.jsonl', '{"context": "the dog", "endings": ["sat"], "label": 0}', /one\.jsonl:1:1: 1 choice in "endings"; multiple choice needs at least 2/],
      ['json.jsonl', `${good}\n{"context": "the dog",`, /json\.jsonl:2:1: not valid JSON/],
      ['fields.jsonl', '{"text": "the dog", "label": 0}', /fields\.jsonl:1:1: no context field \(looked for context, sent1, article, question; fields: text, label\)/],
      ['short.csv', 'sent1,sent2,ending0,ending1,label\nthe cat,on the,mat,dog,0\nthe dog,on the,mat\n', /short\.csv:3:1: missing field "ending1" \(choice 1\)/],
      ['label.csv', 'sent1,sent2,ending0,ending1,label\nthe cat,on the,mat,dog,0\nthe dog,on the,mat,dog,5\n', /label\.csv:3:24: label 5 is out of range: 2 choices, so 0\.\.1/],
      ['blank.csv', 'sent1,sent2,ending0,ending1,label\nthe cat,on the,mat,,1\n', /blank\.csv:2:20: field "ending1" \(choice 1\) is empty/],
    ];
    for (const [name, text, expected] of cases) assert.throws(() => readMultipleChoiceFile(file(name, text)), expected, name);
  });
});

describe('multiple-choice loss', () => {
  test('the loss of a padded (B, N, S) batch equals the cross-entropy over choices computed one unpadded pair at a time', async () => {
    manualSeed(5);
    const config = new BertConfig({ ...bertPreset('tiny'), hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, vocab_size: VOCAB.length, max_position_embeddings: 64 });
    const model = new BertForMultipleChoice(config).eval();
    const data = readMultipleChoiceFile(file('loss.jsonl', [
      '{"context": "the cat sat on the", "endings": ["ran", "sat on the dog", "away"], "label": 1}',
      '{"context": "the dog sat", "endings": ["ran away", "sat", "the cat sat on"], "label": 2}',
      '{"context": "cats sat", "endings": ["on the mat", "on the dog", "ran"], "label": 0}',
    ].join('\n')));
    const features = multipleChoiceFeatures(data.examples, tiny, 32);
    const [batch, ...rest] = multipleChoiceEvalBatches(features, { batchTokens: 4096, padId: 0, maxSeqLength: 32 });
    assert.equal(rest.length, 0);
    assert.equal(batch!.rows, 3);
    const t = multipleChoiceBatch(batch!, features, 0);
    // Longest pairs of 12, 10 and 9 tokens share the bucket 12; the shortest pair (7) is padded by 5.
    assert.deepEqual([...t.inputIds.shape], [3, 3, 12]);
    assert.equal(t.tokens, features.flatMap((f) => f.ids).reduce((n, x) => n + x.length, 0));
    const loss = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }).loss!);

    // By hand: each pair alone (no padding, no mask), its logit from the pooled [CLS]; then -log softmax at the label.
    let sum = 0;
    for (const i of batch!.indices) {
      const f = features[i]!;
      const logits: number[] = [];
      for (let c = 0; c < f.ids.length; c++) {
        const T = f.ids[c]!.length;
        const out = noGrad(() => model.forward(Tensor.fromBuffer(f.ids[c]!, [1, 1, T]), { tokenTypeIds: Tensor.fromBuffer(f.types[c]!, [1, 1, T]) }).logits);
        logits.push(await out.item());
      }
      const max = Math.max(...logits);
      const logSumExp = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
      sum += logSumExp - logits[f.label]!;
    }
    assertClose([await loss.item()], [sum / batch!.rows], { atol: 1e-5, rtol: 1e-5, what: 'multiple-choice loss' });
  });
});

// ---- a generated task: the right ending repeats the context's last word ---------------------------------------------------

const WORDS = ['red', 'blue', 'green', 'stone', 'river', 'cloud', 'fish', 'tree', 'lamp', 'door', 'bird', 'salt', 'rope', 'milk', 'wolf', 'sand'];

/**
 * {"context": "cloud tree lamp", "endings": [4 words], "label": k}: ending k is "lamp"; the others are
 * other words (which may occur earlier in the context, so it is the last word that counts). Contexts
 * have a fixed length: every batch has one shape, so the ort backend builds one training graph.
 */
function lastWordRows(n: number, seed: number): Array<{ context: string; endings: string[]; label: number }> {
  const g = new Generator(seed);
  const pick = (): string => WORDS[g.randint(0, WORDS.length)]!;
  return Array.from({ length: n }, () => {
    const context = Array.from({ length: 3 }, pick);
    const last = context[context.length - 1]!;
    const others = WORDS.filter((w) => w !== last);
    const endings: string[] = [];
    while (endings.length < 3) {
      const w = others[g.randint(0, others.length)]!;
      if (!endings.includes(w)) endings.push(w);
    }
    const label = g.randint(0, 4);
    endings.splice(label, 0, last);
    return { context: context.join(' '), endings, label };
  });
}
const jsonl = (rows: ReturnType<typeof lastWordRows>): string => rows.map((r) => JSON.stringify(r)).join('\n');
const swagCsv = (rows: ReturnType<typeof lastWordRows>): string =>
  ['video-id,fold-ind,startphrase,sent1,sent2,gold-source,ending0,ending1,ending2,ending3,label', ...rows.map((r, i) => `v${i},${i},${r.context},${r.context},,gold,${r.endings.join(',')},${r.label}`)].join('\n');

const vocabFile = file('vocab.txt', `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...WORDS].join('\n')}\n`);
const trainFile = file('train.jsonl', jsonl(lastWordRows(1000, 1)));
const validFile = file('valid.jsonl', jsonl(lastWordRows(200, 2)));
const SMALL = { hidden_size: 64, num_attention_heads: 2, intermediate_size: 128, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };

describe('finetuneMultipleChoice', () => {
  test('a tiny BERT from random init picks the ending that repeats the last word far above chance (25%)', async (t) => {
    const out = join(dir, 'learn');
    const lines: string[] = [];
    const r = await finetuneMultipleChoice({
      train: trainFile, valid: validFile, init: 'random', vocab: vocabFile, modelOptions: SMALL, maxSeqLength: 16,
      batchTokens: 1024, epochs: 8, lr: 5e-3, warmup: 10, seed: 0, outDir: out, log: (s) => lines.push(s),
    });
    const curve = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
      .filter((e) => e.accuracy !== undefined).map((e) => +e.accuracy!.toFixed(3));
    t.diagnostic(`accuracy by epoch ${JSON.stringify(curve)} after ${r.summary.steps} steps, ${r.summary.seconds.toFixed(1)} s`);
    assert.ok(lines.some((l) => /^data: 1000 training examples \(4 choices; fields context, endings\), 200 validation examples \(4 choices, chance 25\.0%\); max 16 tokens; vocab 21$/.test(l)), lines.join('\n'));
    // Measured: 100% from the sixth epoch (seed 0), about 15 s on an idle 2-core machine.
    assert.ok(r.bestMetrics!.accuracy! >= 0.9, `best accuracy ${r.bestMetrics!.accuracy}`);
    // Speed is measured (the diagnostic above), never asserted: the machines are noisy.
  });
});

describe('zhuyi bert finetune --task multiple-choice', () => {
  test('JSONL training, SWAG CSV validation: the run prints accuracy and writes an HF folder BertForMultipleChoice loads', async () => {
    const out = join(dir, 'cli');
    const valid = file('valid.csv', swagCsv(lastWordRows(60, 3)));
    const r = zhuyi([
      'bert', 'finetune', '--task', 'multiple-choice', '--init', 'random', '--vocab', vocabFile, '--train', file('cli-train.jsonl', jsonl(lastWordRows(120, 4))),
      '--valid', valid, '--out', out, '--epochs', '2', '--batch-tokens', '1024', '--lr', '2e-3', '--max-seq-length', '16', '--dropout', '0',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^data: 120 training examples \(4 choices; fields context, endings\), 60 validation examples \(4 choices, chance 25\.0%\); max 16 tokens; vocab 21$/m);
    assert.match(r.stdout, /^validation: loss [\d.]+, accuracy [\d.]+%$/m);
    const best = /^best accuracy [\d.]+ at step \d+: validation accuracy ([\d.]+)%, loss [\d.]+$/m.exec(r.stdout);
    assert.ok(best, r.stdout);
    assert.match(r.stdout, /^Hugging Face folder \(best checkpoint\): .*cli\/hf$/m);

    const hf = join(out, 'hf');
    const config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as { architectures: string[] };
    assert.deepEqual(config.architectures, ['BertForMultipleChoice']);
    const model = await BertForMultipleChoice.fromPretrained(hf);
    const tokenizer = BertTokenizer.fromPretrained(hf);
    // The loaded folder scores the validation file as the run reported for its best checkpoint.
    const features = multipleChoiceFeatures(readMultipleChoiceFile(valid).examples, tokenizer, 16);
    const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
    const m = await evaluateMultipleChoice(model, multipleChoiceEvalBatches(features, { batchTokens: 1024, padId, maxSeqLength: 16 }), features, padId);
    assert.equal((100 * m.accuracy).toFixed(2), best![1]);
    // bert eval on the run folder (task from config.json architectures) scores the same file the same way.
    const ev = zhuyi(['bert', 'eval', out, '--test', valid, '--json']);
    assert.equal(ev.status, 0, ev.stderr);
    const j = JSON.parse(ev.stdout) as { task: string; examples: number; accuracy: number; settings: Record<string, unknown> };
    assert.equal(j.task, 'multiple-choice');
    assert.equal(j.examples, 60);
    assert.equal(j.accuracy, m.accuracy);
    assert.equal(j.settings.maxSeqLength, 16);
    const text = zhuyi(['bert', 'eval', out, '--test', valid, '--label-column', 'x']);
    assert.match(text.stderr, /--label-column is for --task classify or ner/);

    const other = zhuyi(['bert', 'finetune', '--task', 'qa', '--resume', '--out', out]);
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /this folder holds a 'multiple-choice' run, not question answering/);
    const refused = zhuyi(['bert', 'finetune', '--task', 'multiple-choice', '--init', 'random', '--text-column', 'x', '--train', valid, '--valid', valid, '--out', join(dir, 'o-refused')]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--text-column is for --task classify/);
  });
});
