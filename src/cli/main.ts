#!/usr/bin/env node
/** The `zhuyi` command. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { getBackend, listOps, setBackend } from '../index.js';
import { runSpirals } from '../demo/spirals.js';
import { DEMO, DEMO_ZH, runLadder, summaryTable } from '../demo/ladder.js';
import { join } from 'node:path';
import { registerTranslate } from './translate.js';
import { registerBert } from './bert.js';
import { registerBertDemo } from './bert-demo.js';
import { registerViz } from './viz.js';
import { registerExport } from './export.js';
import { registerServe } from './serve.js';
import { resolveHubIds } from './hub.js';
import { setProgress } from '../io/progress.js';
import { CUDA_INSTALL_HINT, addRuntimeFlagsEverywhere, applyRuntimeFlags, runtimeInfo } from './runtime.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('zhuyi')
  .description('注意 zhuyi — build, train, run, inspect and export attention models (Seq2Seq, attention, Transformer, BERT)')
  .version(pkg.version, '-V, --version')
  .option('--backend <name>', 'backend that runs the graphs: ort (ONNX Runtime) or js (reference)')
  .hook('preAction', async (cmd, actionCommand) => {
    const b = cmd.opts<{ backend?: string }>().backend;
    if (b) setBackend(b);
    // --json: stdout is one JSON result and stderr gets no bar (src/io/progress.ts), even in a terminal.
    if (actionCommand.opts<{ json?: boolean }>().json) setProgress('off');
    await applyRuntimeFlags(actionCommand.opts<{ device?: string; threads?: string }>());
    await resolveHubIds(actionCommand);
  });

program
  .command('demo')
  .description('the built-in demo: trains Seq2Seq, attention and a Transformer on a generated task and writes an HTML report (no download)')
  .argument('[name]', 'ladder (default), zh (the ladder on numbers written in Chinese, labels in Chinese) or spirals (a 2-second MLP smoke test)', 'ladder')
  .option('--out <dir>', 'where the models and report.html go (default zhuyi-demo, zhuyi-demo-zh for zh)')
  .option('--epochs <n>', 'epochs per model')
  .option('--seed <n>', 'random seed', '0')
  .action(async (name: string, opts: { out?: string; epochs?: string; seed: string }) => {
    console.log(`zhuyi ${pkg.version} demo — backend: ${getBackend()}`);
    const t0 = performance.now();
    if (name === 'spirals') {
      console.log('Two-spirals MLP (2 -> 64 tanh -> 2), plain SGD, written with zhuyi tensors and autograd.');
      const r = await runSpirals({ steps: 1500, seed: Number(opts.seed), log: (s) => console.log(`  ${s}`) });
      console.log(`accuracy ${(100 * r.accuracy).toFixed(1)}% after ${r.steps} steps (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      return;
    }
    if (name !== 'ladder' && name !== 'zh') throw new Error(`demo: unknown demo '${name}' (ladder, zh or spirals)`);
    const zh = name === 'zh';
    const out = opts.out ?? (zh ? 'zhuyi-demo-zh' : 'zhuyi-demo');
    if (zh) {
      console.log('教學的階梯，用內建的中文數字任務（12,345 -> 一萬二千三百四十五，萬/億 四位一組）：');
      console.log('純 RNN Seq2Seq、加上注意力機制的 RNN、Transformer，資料與最佳化器相同（Seq2Seq 多訓練幾輪）。');
    } else {
      console.log('The tutorial\'s ladder on the built-in numbers task (12,345 -> twelve thousand three hundred forty five):');
      console.log('a plain RNN Seq2Seq, an RNN with attention and a Transformer, with the same data and optimizer (the Seq2Seq gets more epochs).');
    }
    const results = await runLadder({
      outDir: out, ...(zh ? DEMO_ZH : DEMO), ...(opts.epochs ? { epochs: Number(opts.epochs), perModel: {} } : {}), seed: Number(opts.seed),
      log: (s) => console.log(s),
    });
    console.log(`\n${summaryTable(results, zh ? 'zh' : 'en')}`);
    const minutes = ((performance.now() - t0) / 60000).toFixed(1);
    console.log(zh ? `\n報告：${join(out, 'report.html')}（${minutes} 分鐘）` : `\nreport: ${join(out, 'report.html')}  (${minutes} min)`);
  });

program
  .command('info')
  .description('print the versions (zhuyi, Node, ONNX Runtime), the execution providers, threads, the active backend and the registered ops')
  .option('--json', 'one JSON object instead of lines')
  .action(async (o: { json?: boolean }) => {
    const ops = listOps();
    const info = await runtimeInfo(pkg.version, getBackend());
    if (o.json) {
      console.log(JSON.stringify({ ...info, ops: ops.map((op) => op.name) }));
      return;
    }
    const providers = info.providers.map((p) => `${p.name}${p.available ? '' : ' (not installed)'}`).join(', ');
    console.log([
      `zhuyi ${info.zhuyi}`, `node ${info.node}`, `onnxruntime ${Object.entries(info.onnxruntime).map(([k, v]) => `${k} ${v}`).join(', ')}`,
      `providers: ${providers}`, `using: ${info.executionProviders.join(', ')} (--device), ${info.threads} threads of ${info.cores} cores (--threads)`,
      `backend: ${info.backend}`, `Hugging Face cache: ${info.hub.cache} (endpoint ${info.hub.endpoint}${info.hub.offline ? ', offline' : ''})`, `ops (${ops.length}): ${ops.map((op) => op.name).join(' ')}`,
    ].join('\n'));
    if (info.providers.some((p) => !p.available)) console.log(`not installed providers: ${CUDA_INSTALL_HINT}`);
  });

registerTranslate(program);
registerBert(program);
registerBertDemo(program);
registerViz(program);
registerExport(program);
registerServe(program);
// serve runs models in the browser (onnxruntime-web), info reports on the runtime without running one.
addRuntimeFlagsEverywhere(program, ['serve', 'info']);

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`zhuyi: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
