/**
 * Runs one bench row in its own process (so peak RSS and page faults belong to that row alone)
 * and prints one JSON line: median step ms, first-call ms, sessions compiled and their seconds,
 * peak RSS and minor page faults. bench/run.ts starts it the way the `zhuyi` command starts
 * (heap.ts's tuned heap); `ort-file PATH B T` times an .onnx file on plain onnxruntime-node
 * with its default session options instead (the reference for BERT forward passes).
 */
import * as z from '../src/index.js';
import { attentionStep } from './attention.js';
import { BLOCK, applyStep, blockStep, initBlock } from './block.js';
import { decodeSetup } from './decode.js';
import { BERT_BASE, BERT_MINI, bertForward, bertTrainStep, translationStep } from './models.js';

type Setup = () => Promise<() => Promise<unknown>>;

async function blockSetup(): Promise<() => Promise<void>> {
  z.setBackend('ort');
  const state = await initBlock(BLOCK);
  return async () => {
    const { loss, updated } = blockStep(BLOCK, state);
    await z.realize(loss, ...updated);
    applyStep(state, updated);
  };
}

/** An ONNX file on onnxruntime-node as transformers.js users run it: default session options, all cores. */
async function ortFileSetup(path: string, B: number, T: number): Promise<() => Promise<void>> {
  const ort = await import('onnxruntime-node');
  const { cpus } = await import('node:os');
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: cpus().length, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const ids = new BigInt64Array(B * T).map((_, i) => BigInt(1000 + ((i * 7919) % 29000)));
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [B, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * T).fill(1n), [B, T]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * T), [B, T]),
  };
  const wanted = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n as keyof typeof feeds]]));
  return async () => { await session.run(wanted); };
}

const ROWS: Record<string, Setup> = {
  block: blockSetup,
  attention: attentionStep,
  translation: translationStep,
  decode: async () => decodeSetup(),
  'bert-mini-forward': () => bertForward(BERT_MINI),
  'bert-mini-train': () => bertTrainStep(BERT_MINI),
  'bert-base-forward': () => bertForward(BERT_BASE),
  'bert-base-train': () => bertTrainStep(BERT_BASE),
};

async function main(): Promise<void> {
  const [name, runsArg, ...rest] = process.argv.slice(2);
  const runs = Number(runsArg ?? 5);
  const setup = name === 'ort-file' ? () => ortFileSetup(rest[0]!, Number(rest[1]), Number(rest[2])) : ROWS[name ?? ''];
  if (!setup) throw new Error(`bench/row: unknown row '${name}', expected one of ${Object.keys(ROWS).join(', ')}, ort-file`);
  const step = await setup();
  z.resetOrtStats();
  let t0 = performance.now();
  await step();
  const firstMs = performance.now() - t0;
  const compiled = z.ortStats();
  await step();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const usage = process.resourceUsage();
  console.log(JSON.stringify({
    ms: times[Math.floor(times.length / 2)], firstMs, sessions: compiled.misses, compileMs: compiled.compileMs,
    arenaSessions: z.ortStats().arenaSessions, maxRssMB: usage.maxRSS / 1024, minflt: usage.minorPageFault, runs: times.length,
  }));
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
