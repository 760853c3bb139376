/** `zhuyi bert demo`: the built-in BERT demo (generated data, no download), see src/demo/bert.ts. */
import type { Command } from 'commander';
import { BERT_DEMO, bertDemoTable, runBertDemo } from '../demo/bert.js';
import { getBackend } from '../tensor/realize.js';
import { ArgumentError } from '../tensor/errors.js';

/** The `bert` command registerBert created (commander keeps subcommands on program.commands). */
export function bertCommand(program: Command): Command {
  const bert = program.commands.find((c) => c.name() === 'bert');
  if (!bert) throw new Error('registerBertDemo: call registerBert(program) first');
  return bert;
}

export function registerBertDemo(program: Command): void {
  bertCommand(program)
    .command('demo')
    .description('pretrain a tiny BERT on generated text, fine-tune it on a few labelled sentences, compare with random init and bag of words (negation, word order); writes DIR/report.html')
    .option('--out <dir>', 'where the data, models and report.html go', 'zhuyi-bert-demo')
    .option('--seed <n>', 'random seed (data, init, order)', '0')
    .option('--pretrain-steps <n>', `pretraining steps (default ${BERT_DEMO.pretrainSteps})`)
    .option('--finetune-epochs <n>', `fine-tuning epochs (default ${BERT_DEMO.finetuneEpochs})`)
    .option('--train <n>', `labelled training sentences (default ${BERT_DEMO.data?.train})`)
    .action(async (o: { out: string; seed: string; pretrainSteps?: string; finetuneEpochs?: string; train?: string }) => {
      const int = (name: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`--${name}: expected a non-negative integer, got '${v}'`);
        return n;
      };
      console.log(`zhuyi BERT demo — backend: ${getBackend()}`);
      console.log('Sentiment that depends on context (negation, word order): MLM-pretrained BERT vs the same model from random init vs bag of words.');
      const seed = int('seed', o.seed) ?? 0;
      const train = int('train', o.train);
      const pretrainSteps = int('pretrain-steps', o.pretrainSteps);
      const finetuneEpochs = int('finetune-epochs', o.finetuneEpochs);
      const r = await runBertDemo({
        ...BERT_DEMO, outDir: o.out, seed,
        ...(train !== undefined ? { data: { ...BERT_DEMO.data, train } } : {}),
        ...(pretrainSteps !== undefined ? { pretrainSteps } : {}),
        ...(finetuneEpochs !== undefined ? { finetuneEpochs } : {}),
        log: (s) => console.log(s),
      });
      console.log(`\n${bertDemoTable(r)}`);
      console.log(`\nreport: ${r.reportPath}  (${(r.seconds / 60).toFixed(1)} min)`);
    });
}
