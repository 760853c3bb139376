#!/usr/bin/env node
/** The `zhuyi` command. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { getBackend, listOps, setBackend } from '../index.js';
import { runSpirals } from '../demo/spirals.js';
import { registerTranslate } from './translate.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('zhuyi')
  .description('注意 zhuyi — build, train, run, inspect and export attention models (Seq2Seq, attention, Transformer, BERT)')
  .version(pkg.version, '-V, --version')
  .option('--backend <name>', 'backend that runs the graphs: ort (ONNX Runtime) or js (reference)')
  .hook('preAction', (cmd) => {
    const b = cmd.opts<{ backend?: string }>().backend;
    if (b) setBackend(b);
  });

program
  .command('demo')
  .description('run the built-in demo (trains a small model on generated data; no download)')
  .option('--steps <n>', 'training steps', '1500')
  .option('--seed <n>', 'random seed', '0')
  .action(async (opts: { steps: string; seed: string }) => {
    console.log(`zhuyi ${pkg.version} demo — backend: ${getBackend()}`);
    console.log('Two-spirals MLP (2 -> 64 tanh -> 2), plain SGD, written with zhuyi tensors and autograd.');
    const t0 = performance.now();
    const r = await runSpirals({ steps: Number(opts.steps), seed: Number(opts.seed), log: (s) => console.log(`  ${s}`) });
    const secs = (performance.now() - t0) / 1000;
    console.log(`accuracy ${(100 * r.accuracy).toFixed(1)}% after ${r.steps} steps (${secs.toFixed(1)} s)`);
  });

program
  .command('info')
  .description('print the version, the active backend and the registered ops')
  .action(() => {
    const ops = listOps();
    console.log(`zhuyi ${pkg.version}\nbackend: ${getBackend()}\nops (${ops.length}): ${ops.map((o) => o.name).join(' ')}`);
  });

registerTranslate(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`zhuyi: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
