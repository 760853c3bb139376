/** `zhuyi export DIR --onnx OUT` from the command line: help, a BERT and a translation folder, clear errors. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { BertConfig, BertForSequenceClassification, BertTokenizer, Generator } from '../../src/index.js';
import { trainTranslator } from '../../src/translate/translator.js';
import { zhuyi } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-export-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('zhuyi export', () => {
  test('--help names the arguments and the outputs', () => {
    const r = zhuyi(['export', '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: zhuyi export \[options\] <dir>/);
    assert.match(r.stdout, /--onnx <out>/);
    assert.match(r.stdout, /--opset <n>/);
    assert.match(r.stdout, /attention_0 \.\. attention_\{L-1\}/);
  });

  test('a BERT folder: model.onnx, tokenizer/ and manifest.json; the graph runs in onnxruntime-node', async () => {
    const folder = join(dir, 'bert');
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad', 'film'];
    const config = new BertConfig({ vocab_size: vocab.length, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16, max_position_embeddings: 16, num_labels: 2 });
    await new BertForSequenceClassification(config, { generator: new Generator(1) }).savePretrained(folder);
    new BertTokenizer(vocab).savePretrained(folder);
    const out = join(dir, 'bert-onnx');
    const r = zhuyi(['export', folder, '--onnx', out, '--opset', '18']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /exported BertForSequenceClassification to .*bert-onnx \(opset 18/);
    assert.match(r.stdout, /model\.onnx/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.opset, 18);
    assert.ok(existsSync(join(out, 'tokenizer', 'vocab.txt')));
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
    const ids = new ort.Tensor('int64', BigInt64Array.from([2n, 5n, 7n, 3n]), [1, 4]);
    const res = await session.run({ input_ids: ids, attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n, 1n]), [1, 4]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(4), [1, 4]) });
    assert.deepEqual(res.logits!.dims, [1, 2]);
    assert.deepEqual(res.attention_0!.dims, [1, 2, 4, 4]);

    // OUT now holds files: refused without --force, replaced with it.
    const again = zhuyi(['export', folder, '--onnx', out]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /zhuyi: export: .*bert-onnx exists and is not empty \(pass --force to write into it\)/);
    assert.equal(zhuyi(['export', folder, '--onnx', out, '--force']).status, 0);
  });

  test('a translation folder: encoder.onnx, decoder.onnx, both tokenizers', async () => {
    const data = join(dir, 'data.tsv');
    writeFileSync(data, 'a b\tB A\nb c\tC B\nc a b\tB A C\n');
    const folder = join(dir, 'tr');
    await trainTranslator({ model: 'attention', size: 'tiny', train: data, valid: data, outDir: folder, epochs: 1, batchTokens: 64, seed: 1, validDecode: 2, progress: false });
    const out = join(dir, 'tr-onnx');
    const r = zhuyi(['export', folder, '--onnx', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /exported attention translation model/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.files.filter((f: string) => !f.startsWith('tokenizer/')), ['decoder.onnx', 'encoder.onnx']);
    assert.ok(manifest.files.includes('tokenizer/source/zhuyi-tokenizer.json') && manifest.files.includes('tokenizer/target/vocab.txt'));
  });

  test('errors: not a model folder, a missing --onnx, a bad opset', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = zhuyi(['export', empty, '--onnx', join(dir, 'x')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /zhuyi: export: .*empty is not a model folder \(expected zhuyi-translate.json from 'zhuyi translate train', or a Hugging Face BERT folder with config.json\)/);
    const missing = zhuyi(['export', empty]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /required option '--onnx <out>' not specified/);
    const opset = zhuyi(['export', join(dir, 'bert'), '--onnx', join(dir, 'y'), '--opset', '9']);
    assert.equal(opset.status, 1);
    assert.match(opset.stderr, /opset must be an integer from 18 to 21, got 9/);
    assert.ok(!existsSync(join(dir, 'y')), 'nothing written on a bad opset');
  });
});
