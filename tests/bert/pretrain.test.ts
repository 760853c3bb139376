/**
 * BERT pretraining on the shared trainer, on a generated corpus: two epochs lower the MLM loss
 * clearly and write a Hugging Face folder the BERT classes load; the gathered MLM + NSP loss equals
 * BertForPreTraining's own; a run stopped mid-epoch and resumed ends with exactly the weights of an
 * uninterrupted run (dynamic masks, dropout and data order included).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BertConfig, BertForMaskedLM, BertForPreTraining, BertTokenizer, Generator, manualSeed, noGrad } from '../../src/index.js';
import { bertPreset } from '../../src/bert/run.js';
import { pretrainBert, pretrainingBatch, pretrainingLoss } from '../../src/bert/pretrain.js';
import { PretrainingDataset, createNspInstances, readPretrainingCorpus, tokenizeDocuments } from '../../src/bert/data/pretraining.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-bert-pretrain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPICS = [
  { nouns: ['cow', 'horse', 'farmer', 'barn', 'tractor', 'field'], verbs: ['feeds', 'sees', 'pulls', 'finds'], adjs: ['old', 'brown', 'muddy'] },
  { nouns: ['ship', 'sailor', 'whale', 'wave', 'harbor', 'captain'], verbs: ['sails', 'watches', 'follows', 'meets'], adjs: ['blue', 'stormy', 'salty'] },
  { nouns: ['taxi', 'banker', 'tower', 'street', 'subway', 'mayor'], verbs: ['builds', 'drives', 'visits', 'crosses'], adjs: ['busy', 'tall', 'noisy'] },
  { nouns: ['rocket', 'planet', 'astronaut', 'comet', 'moon', 'station'], verbs: ['orbits', 'launches', 'reaches', 'circles'], adjs: ['distant', 'bright', 'frozen'] },
];

function corpusText(docs: number, sentences: number, seed: number): string {
  const g = new Generator(seed);
  const pick = <T,>(a: readonly T[]): T => a[g.randint(0, a.length)]!;
  const out: string[] = [];
  for (let d = 0; d < docs; d++) {
    const t = TOPICS[d % TOPICS.length]!;
    for (let s = 0; s < sentences; s++) out.push(`the ${pick(t.adjs)} ${pick(t.nouns)} ${pick(t.verbs)} the ${pick(t.nouns)} .`);
    out.push('');
  }
  return out.join('\n');
}

const corpus = join(dir, 'corpus.txt');
writeFileSync(corpus, corpusText(60, 20, 1));
const quiet = { warn: () => {} };

/** Mean MLM loss over fixed masks of the corpus (seed 77), by a BertForMaskedLM. */
async function mlmLoss(model: BertForMaskedLM, tokenizer: BertTokenizer): Promise<number> {
  const docs = tokenizeDocuments(readPretrainingCorpus(corpus).documents.slice(-12), tokenizer);
  const ds = new PretrainingDataset(createNspInstances(docs, new Generator(77), { maxSeqLength: 32 }), tokenizer, { seed: 77 });
  let sum = 0; let n = 0;
  for (let k = 0; k + 16 <= ds.length; k += 16) {
    const t = pretrainingBatch(ds, Array.from({ length: 16 }, (_, j) => k + j), 0, 0);
    const out = noGrad(() => model.forward(t.inputIds, { attentionMask: t.attentionMask, tokenTypeIds: t.tokenTypeIds, labels: t.labels }));
    sum += (await out.loss!.item()) * t.targets;
    n += t.targets;
  }
  return sum / n;
}

describe('pretrainBert', () => {
  test('two epochs lower the MLM loss clearly and write a Hugging Face folder', async (t) => {
    const out = join(dir, 'run');
    const lines: string[] = [];
    const r = await pretrainBert({
      corpus, outDir: out, vocabSize: 200, size: 'tiny', maxSeqLength: 32, batchTokens: 256, epochs: 2, lr: 2e-3, validFraction: 0.1, seed: 3,
      log: (s) => lines.push(s),
    });
    assert.ok(r.summary.steps > 80, `${r.summary.steps} steps`);
    assert.equal(r.hfDir, join(out, 'hf'));
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
      assert.ok(existsSync(join(out, 'hf', f)), `hf/${f} written`);
    }
    const config = JSON.parse(readFileSync(join(out, 'hf', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config.architectures, ['BertForPreTraining']);
    assert.equal(config.num_hidden_layers, 2);
    assert.equal(config.hidden_size, 128);
    assert.equal(config.num_attention_heads, 2);
    assert.equal(config.intermediate_size, 512);
    // Validation logged every epoch with the MLM and NSP figures.
    const log = readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    const valid = log.filter((e) => e.mlm_accuracy !== undefined);
    assert.equal(valid.length, 2);
    for (const k of ['valid_loss', 'mlm_loss', 'nsp_loss', 'mlm_accuracy', 'nsp_accuracy']) assert.ok(Number.isFinite(valid[1]![k]), k);
    assert.ok(lines.some((l) => /^validation: loss [\d.]+ \(MLM [\d.]+, NSP [\d.]+\), MLM accuracy [\d.]+%, NSP accuracy [\d.]+%$/.test(l)));
    assert.deepEqual(r.bestMetrics?.step, r.summary.best?.step);
    // The best checkpoint is the lowest validation masked-LM loss (not the MLM + NSP sum).
    const lowest = valid.reduce((a, b) => (b.mlm_loss! < a.mlm_loss! ? b : a));
    assert.deepEqual([r.summary.best?.name, r.summary.best?.step, r.summary.best?.value], ['mlm_loss', lowest.step, lowest.mlm_loss]);

    // The exported folder loads as BertForPreTraining and as BertForMaskedLM; the trained MLM beats the untrained one.
    const tokenizer = BertTokenizer.fromPretrained(join(out, 'hf'));
    assert.equal(tokenizer.vocabSize, config.vocab_size);
    const pre = await BertForPreTraining.fromPretrained(join(out, 'hf'), quiet);
    assert.equal(pre.config.vocabSize, tokenizer.vocabSize);
    const trained = await mlmLoss(await BertForMaskedLM.fromPretrained(join(out, 'hf'), quiet), tokenizer);
    manualSeed(3);
    const fresh = await mlmLoss(new BertForMaskedLM(new BertConfig(config)).eval(), tokenizer);
    t.diagnostic(`MLM loss on fixed masks: untrained ${fresh.toFixed(3)}, after ${r.summary.steps} steps ${trained.toFixed(3)}; validation ${JSON.stringify(valid.map((v) => +v.mlm_loss!.toFixed(3)))}; ${r.summary.seconds.toFixed(1)} s`);
    assert.ok(trained < fresh - 1.0, `MLM loss ${fresh.toFixed(3)} -> ${trained.toFixed(3)}`);
  });

  test('the gathered MLM + NSP loss equals BertForPreTraining.forward\'s', async () => {
    const tokenizer = BertTokenizer.fromPretrained(join(dir, 'run', 'hf'));
    const docs = tokenizeDocuments(readPretrainingCorpus(corpus).documents, tokenizer);
    const ds = new PretrainingDataset(createNspInstances(docs, new Generator(1), { maxSeqLength: 32 }), tokenizer, { wholeWordMask: true });
    const model = new BertForPreTraining(new BertConfig({ ...bertPreset('tiny'), vocab_size: tokenizer.vocabSize, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 })).eval();
    const b = pretrainingBatch(ds, [0, 5, 9, 11], 2, 0, 32);
    const ours = await pretrainingLoss(model, b).loss.item();
    const theirs = await model.forward(b.inputIds, { attentionMask: b.attentionMask, tokenTypeIds: b.tokenTypeIds, labels: b.labels, nextSentenceLabel: b.nextSentenceLabels }).loss!.item();
    assert.ok(Math.abs(ours - theirs) < 1e-5, `${ours} vs ${theirs}`);
  });

  test('continue pretraining a Hugging Face folder (model): its weights, config and vocabulary carry over', async () => {
    const src = join(dir, 'run', 'hf');
    const other = join(dir, 'other.txt');
    writeFileSync(other, corpusText(12, 10, 5));
    const lines: string[] = [];
    // lr 0: the continued run must start from, and keep, exactly the folder's weights.
    const r = await pretrainBert({ corpus: other, model: src, outDir: join(dir, 'continued'), maxSeqLength: 32, batchTokens: 256, epochs: 1, lr: 0, seed: 4, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => l.startsWith(`init: ${src} (0 new`)), lines.join('\n'));
    assert.deepEqual(readFileSync(join(dir, 'continued', 'hf', 'vocab.txt'), 'utf8'), readFileSync(join(src, 'vocab.txt'), 'utf8'));
    const a = await BertForPreTraining.fromPretrained(src, quiet);
    const b = await BertForPreTraining.fromPretrained(r.hfDir!, quiet);
    assert.deepEqual(b.config.toJSON(), a.config.toJSON());
    const [wa, wb] = [a.stateDict(), b.stateDict()];
    for (const k of Object.keys(wa)) assert.deepEqual(await wb[k]!.data(), await wa[k]!.data(), k);
    // With a learning rate it trains on from there.
    const moved = await pretrainBert({ corpus: other, model: src, outDir: join(dir, 'continued2'), maxSeqLength: 32, batchTokens: 256, epochs: 1, lr: 1e-3, seed: 4 });
    const w2 = (await BertForPreTraining.fromPretrained(moved.hfDir!, quiet)).stateDict();
    assert.notDeepEqual(await w2['bert.embeddings.word_embeddings.weight']!.data(), await wa['bert.embeddings.word_embeddings.weight']!.data());
    await assert.rejects(pretrainBert({ corpus: other, model: src, size: 'tiny', outDir: join(dir, 'both') }), /a model folder brings its own vocabulary and size/);
  });

  test('stop mid-epoch, then resume: the same final weights as an uninterrupted run', async () => {
    const small = join(dir, 'small.txt');
    writeFileSync(small, corpusText(24, 10, 2));
    const common = { corpus: small, vocabSize: 150, maxSeqLength: 32, batchTokens: 256, epochs: 2, lr: 1e-3, seed: 11, wholeWordMask: true } as const;
    const full = await pretrainBert({ ...common, outDir: join(dir, 'full') });
    const perEpoch = full.summary.steps / 2;
    // Stop in the second epoch, so the resumed run needs epoch-2 masks, the data position and the RNG.
    const stopped = await pretrainBert({ ...common, outDir: join(dir, 'stopped'), stopAfterSteps: Math.floor(perEpoch * 1.5) });
    assert.ok(stopped.summary.interrupted);
    assert.equal(stopped.summary.steps, Math.floor(perEpoch * 1.5));
    // As with every zhuyi trainer, resume with the same training options; the data settings come back from the folder.
    const resumed = await pretrainBert({ ...common, outDir: join(dir, 'stopped'), resume: true });
    assert.ok(!resumed.summary.interrupted);
    assert.equal(resumed.summary.steps, full.summary.steps);
    const a = loadCheckpoint(join(dir, 'full', 'last.safetensors')).model;
    const b = loadCheckpoint(join(dir, 'stopped', 'last.safetensors')).model;
    assert.deepEqual([...b.keys()], [...a.keys()]);
    for (const [k, v] of a) assert.deepEqual(await b.get(k)!.data(), await v.data(), `weight ${k} differs after resume`);
    // The exported folders agree too.
    assert.deepEqual(readFileSync(join(dir, 'stopped', 'hf', 'model.safetensors')), readFileSync(join(dir, 'full', 'hf', 'model.safetensors')));
  });
});
