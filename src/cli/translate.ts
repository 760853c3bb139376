/** `zhuyi translate train | run | eval`: the translation ladder from the command line. */
import { createInterface } from 'node:readline';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Argument, type Command, Option } from 'commander';
import { cmnEngPath, readCmnEng } from '../data/cmn-eng.js';
import {
  CORPORA, MODEL_KINDS, encodeForTraining, evaluate, loadTranslator, readCorpus, savedTestSplit, savedTrainSplit, trainTranslator,
  type CorpusName, type EvalReport, type ModelKind, type ModelSize, type Split, type TokenizerKind,
} from '../translate/translator.js';
import { ArgumentError } from '../tensor/errors.js';
import { writeFileAtomic } from '../io/safetensors.js';
import { withProgress } from '../io/progress.js';
import { setBackend } from '../tensor/realize.js';
import type { TrainSummary } from '../train/trainer.js';

/** "12 ONNX Runtime sessions compiled in 8.3 s": what a run spent compiling graphs (item of every training summary). */
export function compiledNote(s: Pick<TrainSummary, 'sessionsCompiled' | 'compileSeconds'>): string {
  return `${s.sessionsCompiled} ONNX Runtime session${s.sessionsCompiled === 1 ? '' : 's'} compiled in ${s.compileSeconds.toFixed(1)} s`;
}

/**
 * Flags every `train` command of zhuyi shares. `recipe` describes defaults that depend on the run
 * (bert finetune: Hugging Face's for a pretrained model, the tuned preset from scratch); the flags
 * then have no fixed default and the task picks.
 */
export function addTrainingFlags(cmd: Command, recipe?: { epochs: string; lr: string; weightDecay: string; warmup: string }): Command {
  const fixed = (v: string) => (recipe ? undefined : v);
  return cmd
    .option('--epochs <n>', recipe ? `epochs (default ${recipe.epochs})` : 'epochs', fixed('10'))
    .option('--max-steps <n>', 'stop after this many optimizer steps')
    .option('--batch-tokens <n>', 'tokens per batch (rows x padded length)', '4096')
    .option('--lr <x>', recipe ? `peak learning rate (default ${recipe.lr})` : 'peak learning rate', fixed('1e-3'))
    .option('--warmup <n>', `warmup steps (default ${recipe ? recipe.warmup : '4% of the run'})`)
    .option('--warmup-ratio <x>', 'warmup as a share of the optimizer steps, instead of --warmup')
    .option('--weight-decay <x>', `AdamW decoupled weight decay (default ${recipe ? recipe.weightDecay : '0.01'})`)
    .option('--grad-accum <n>', 'batches whose gradients are summed into one optimizer step (default 1)')
    .option('--log-every <n>', 'a training line in log.jsonl every n steps (default 50)')
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['linear', 'noam', 'cosine', 'constant']).default('linear'))
    .option('--clip <x>', 'max gradient norm (0 = off)', '1')
    .option('--seed <n>', 'random seed', '0')
    .option('--resume', 'continue the run in --out from last.safetensors')
    .option('--save-every <n>', 'also checkpoint every n steps', '0')
    .option('--valid-every <n>', 'also validate (keeping the best checkpoint) every n steps', '0')
    .option('--backend <name>', 'ort or js');
}

export interface TrainingFlags {
  epochs?: string; maxSteps?: string; batchTokens: string; lr?: string; warmup?: string; warmupRatio?: string; weightDecay?: string; gradAccum?: string; logEvery?: string;
  schedule: string; clip: string; seed: string;
  resume?: boolean; saveEvery: string; validEvery: string; backend?: string;
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ArgumentError(`--${name}: expected a number, got '${v}'`);
  return n;
}

export function trainingOptions(f: TrainingFlags): Record<string, unknown> {
  if (f.backend) setBackend(f.backend);
  return {
    epochs: int('epochs', f.epochs), maxSteps: int('max-steps', f.maxSteps), batchTokens: int('batch-tokens', f.batchTokens), lr: int('lr', f.lr),
    warmup: int('warmup', f.warmup), warmupRatio: int('warmup-ratio', f.warmupRatio), weightDecay: int('weight-decay', f.weightDecay),
    gradAccum: int('grad-accum', f.gradAccum), logEvery: int('log-every', f.logEvery), schedule: f.schedule, clipNorm: int('clip', f.clip), seed: int('seed', f.seed), resume: Boolean(f.resume),
    saveEvery: int('save-every', f.saveEvery), validEvery: int('valid-every', f.validEvery),
  };
}

/** The first three translations with their test pairs (rep.hypotheses follows the pairs' order; --limit may leave fewer). */
function samplesOf(rep: EvalReport, pairs: readonly { source: string; target: string }[]): { source: string; reference: string; translation: string }[] {
  return rep.hypotheses.slice(0, 3).map((translation, i) => ({ source: pairs[i]!.source, reference: pairs[i]!.target, translation }));
}

function printReport(rep: EvalReport, pairs: readonly { source: string; target: string }[]): void {
  console.log(`BLEU ${rep.bleu.toFixed(2)}  (${rep.bleuSignature})`);
  console.log(`chrF ${rep.chrf.toFixed(2)}`);
  console.log(`exact match ${(100 * rep.exactMatch).toFixed(2)}% of ${rep.count}`);
  console.log('length  count  exact match');
  for (const r of rep.byLength) console.log(`${String(r.length).padStart(6)}  ${String(r.count).padStart(5)}  ${(100 * r.accuracy).toFixed(1).padStart(6)}%`);
  for (const x of samplesOf(rep, pairs)) console.log(`\n  source       ${x.source}\n  reference    ${x.reference}\n  translation  ${x.translation}`);
}

/** `--checkpoint best|last` of `translate run` and `eval` (one Option per command). */
function checkpointOption(): Option {
  return new Option('--checkpoint <which>', 'weights to use: best (best validation BLEU) or last (end of training)').choices(['best', 'last']).default('best');
}

export function registerTranslate(program: Command): void {
  const tr = program.command('translate').description('train, run and evaluate translation models: seq2seq -> attention -> transformer');

  addTrainingFlags(
    tr.command('train')
      .description('train a translation model on a built-in task, a named corpus (--data cmn-eng) or parallel files')
      .addOption(new Option('--model <kind>', 'the ladder rung').choices([...MODEL_KINDS]).makeOptionMandatory())
      .option('--task <name>', 'built-in task: dates, numbers, numbers-zh, reverse')
      .option('--train <file>', 'training pairs: a TSV file, or "src-file,tgt-file" (gzip accepted)')
      .option('--valid <file>', 'validation pairs, same form')
      .addOption(new Option('--data <corpus>', 'a named corpus read from the data folder, split train/valid/test (cmn-eng: Tatoeba English-Chinese)').choices([...CORPORA]))
      .addOption(new Option('--direction <dir>', '--data cmn-eng: zh-en (Chinese characters -> English words) or en-zh').choices(['zh-en', 'en-zh']).default('zh-en'))
      .option('--data-dir <dir>', 'folder holding the shared data (default $ZHUYI_DATA, else ../shared/data)')
      .option('--source-column <n>', 'TSV column of the source (0-based)', '0')
      .option('--target-column <n>', 'TSV column of the target (0-based)', '1')
      .addOption(new Option('--tokenizer <kind>', 'tokenizer of both sides (default: the task\'s; cmn-eng: Chinese char, English word; else word; whitespace for pre-tokenized text)').choices(['char', 'word', 'whitespace', 'bpe']))
      .option('--lowercase', 'lowercase text before tokenizing')
      .option('--min-freq <n>', 'words seen fewer times become <unk>', '1')
      .addOption(new Option('--size <preset>', 'model size preset').choices(['tiny', 'small', 'base']).default('small'))
      .option('--dropout <x>', 'dropout (overrides the preset)')
      .option('--label-smoothing <x>', 'label smoothing', '0.1')
      .option('--max-len <n>', 'drop training pairs longer than this many tokens', '100')
      .option('--task-size <n>', 'training examples of a built-in task')
      .option('--max-digits <n>', 'numbers tasks: longest number')
      .option('--commas', 'numbers tasks: sources with thousands separators (12,345)')
      .option('--valid-size <n>', 'validation examples of a built-in task')
      .option('--valid-decode <n>', 'validation sentences decoded for BLEU each epoch (0: none, the best checkpoint is then the lowest validation loss)', '500')
      .requiredOption('--out <dir>', 'model folder (checkpoints, tokenizers, log.jsonl)'),
  ).action(async (o: TrainingFlags & Record<string, string | boolean | undefined>) => {
    const taskOptions: Record<string, number | boolean> = {};
    if (o.taskSize) taskOptions.train = Number(o.taskSize);
    if (o.maxDigits) taskOptions.maxDigits = Number(o.maxDigits);
    if (o.commas) taskOptions.commas = true;
    if (o.validSize) taskOptions.valid = Number(o.validSize);
    const started = performance.now();
    const { summary, translator, test } = await trainTranslator({
      ...(trainingOptions(o) as object),
      model: o.model as ModelKind, task: o.task as string | undefined, train: o.train as string | undefined, valid: o.valid as string | undefined,
      ...(o.data ? { corpus: o.data as CorpusName, direction: o.direction as 'zh-en' | 'en-zh', ...(o.dataDir ? { dataDir: o.dataDir as string } : {}) } : {}),
      sourceColumn: Number(o.sourceColumn), targetColumn: Number(o.targetColumn),
      ...(o.tokenizer ? { sourceTokenizer: o.tokenizer as TokenizerKind, targetTokenizer: o.tokenizer as TokenizerKind } : {}),
      lowercase: Boolean(o.lowercase), minFrequency: Number(o.minFreq), size: o.size as ModelSize,
      ...(o.dropout ? { modelOptions: { dropout: Number(o.dropout) } } : {}),
      labelSmoothing: Number(o.labelSmoothing), validDecode: Number(o.validDecode), maxTokens: Number(o.maxLen), taskOptions,
      outDir: o.out as string, log: (s) => console.log(s),
    });
    const secs = (performance.now() - started) / 1000;
    if (summary.interrupted) {
      console.log(`stopped at step ${summary.steps}; saved ${o.out}/last.safetensors — continue with --resume`);
      process.exitCode = 130;
      return;
    }
    console.log(`trained ${summary.steps} steps in ${secs.toFixed(0)} s (${compiledNote(summary)}); best ${summary.best ? `${summary.best.name} ${summary.best.value.toFixed(3)} at step ${summary.best.step}` : 'n/a'}`);
    if (test) {
      const rep = await evaluate(translator, test);
      console.log(`held-out test (${test.pairs.length}) with the last weights:`);
      printReport(rep, test.pairs);
    }
  });

  tr.command('prepare')
    .description('write a named corpus\'s train/valid/test split as TSV files (en \\t zh), and print its counts')
    .addArgument(new Argument('<corpus>', 'the corpus').choices([...CORPORA]))
    .requiredOption('--out <dir>', 'folder for train.tsv, valid.tsv, test.tsv')
    .option('--data-dir <dir>', 'folder holding the shared data (default $ZHUYI_DATA, else ../shared/data)')
    .action((_corpus: string, o: { out: string; dataDir?: string }) => {
      const s = readCmnEng(cmnEngPath(o.dataDir));
      mkdirSync(o.out, { recursive: true });
      const splits = ['train', 'valid', 'test'] as const;
      for (const name of withProgress(splits, { label: 'writing pairs', total: splits.reduce((n, k) => n + s[k].length, 0), size: (k) => s[k].length })) {
        writeFileSync(join(o.out, `${name}.tsv`), s[name].map((p) => `${p.en}\t${p.zh}\n`).join(''));
      }
      console.log(`cmn-eng: ${s.lines} lines, ${s.duplicates} duplicate pairs removed (${s.exactDuplicates} byte-exact), ${s.groups} linked groups`);
      console.log(`train ${s.train.length}, valid ${s.valid.length}, test ${s.test.length} -> ${join(o.out, '{train,valid,test}.tsv')}`);
    });

  tr.command('encode')
    .description('token ids of parallel pairs with a model folder\'s tokenizers, as JSON lines {"src": [...], "tgt": [..., EOS]}: training data for PyTorch (docs/pytorch.md)')
    .argument('<dir>', 'model folder written by `translate train`')
    .argument('[pairs]', 'pairs: a TSV file, or "src-file,tgt-file" (gzip accepted); default: the training split the folder was trained on')
    .requiredOption('--out <file>', 'the JSON lines file to write')
    .option('--source-column <n>', 'TSV column of the source (0-based)', '0')
    .option('--target-column <n>', 'TSV column of the target (0-based)', '1')
    .option('--max-len <n>', 'leave out pairs longer than this many tokens', '100')
    .action(async (dir: string, pairs: string | undefined, o: { out: string; sourceColumn: string; targetColumn: string; maxLen: string }) => {
      const t = await loadTranslator(dir);
      const read = pairs ? readCorpus(pairs, { sourceColumn: Number(o.sourceColumn), targetColumn: Number(o.targetColumn) }) : savedTrainSplit(dir).pairs;
      const { examples, dropped } = encodeForTraining(t, read, Number(o.maxLen));
      writeFileAtomic(o.out, examples.map((e) => `${JSON.stringify(e)}\n`).join(''));
      console.log(`${examples.length} pairs -> ${o.out}${dropped ? ` (${dropped} left out: empty, or longer than ${o.maxLen} tokens)` : ''}`);
    });

  tr.command('run')
    .description('translate TEXT (or stdin, one sentence per line) with a trained model folder')
    .argument('<dir>', 'model folder written by `translate train`')
    .argument('[text...]', 'sentences to translate (default: read stdin)')
    .option('--beam <n>', 'beam size (1 = greedy)', '1')
    .option('--length-penalty <x>', 'GNMT length penalty alpha for beam search', '0.6')
    .addOption(checkpointOption())
    .action(async (dir: string, text: string[], o: { beam: string; lengthPenalty: string; checkpoint: 'best' | 'last' }) => {
      const t = await loadTranslator(dir, o.checkpoint);
      let lines = text;
      if (lines.length === 0) {
        lines = [];
        for await (const line of createInterface({ input: process.stdin })) if (line.trim()) lines.push(line);
      }
      const outs = await t.translate(lines, { beamSize: Number(o.beam), lengthPenalty: Number(o.lengthPenalty) });
      for (const s of outs) console.log(s);
    });

  tr.command('eval')
    .description('BLEU, chrF, exact match and a per-length table on a test set')
    .argument('<dir>', 'model folder written by `translate train`')
    .option('--test <file>', 'test pairs (TSV or "src,tgt"); default: the built-in task\'s held-out split')
    .option('--beam <n>', 'beam size (1 = greedy)', '1')
    .option('--limit <n>', 'evaluate the first n pairs only')
    .addOption(new Option('--bleu-tokenize <name>', 'sacreBLEU tokenizer (none for pre-tokenized references); default 13a, zh for Chinese').choices(['13a', 'zh', 'none']))
    .option('--length-penalty <x>', 'GNMT length penalty alpha for beam search', '0.6')
    .addOption(checkpointOption())
    .option('--json', 'one JSON object on stdout: the metrics (bleu, chrf, exactMatch, byLength, ...), three sample translations and the settings')
    .option('--output <file>', 'write every translation to this file, one line per test pair (to score with sacreBLEU or to read)')
    .action(async (dir: string, o: { test?: string; beam: string; limit?: string; bleuTokenize?: '13a' | 'zh' | 'none'; lengthPenalty: string; checkpoint: 'best' | 'last'; json?: boolean; output?: string }) => {
      const t = await loadTranslator(dir, o.checkpoint);
      let split: Split | undefined;
      if (o.test) split = { pairs: readCorpus(o.test, {}).map((p) => ({ ...p, length: p.source.split(/\s+/u).length })) };
      else split = savedTestSplit(dir);
      if (!split) throw new ArgumentError(`${dir} was trained on files: give --test`);
      const started = performance.now();
      const rep = await evaluate(t, split, {
        beamSize: Number(o.beam), lengthPenalty: Number(o.lengthPenalty), ...(o.limit ? { limit: Number(o.limit) } : {}), ...(o.bleuTokenize ? { bleuTokenize: o.bleuTokenize } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      const { hypotheses, ...metrics } = rep;
      if (o.output) writeFileAtomic(o.output, hypotheses.map((h) => `${h}\n`).join(''));
      const samples = samplesOf(rep, split.pairs);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({
          model: dir, test: o.test ?? 'held-out split', checkpoint: o.checkpoint, beam: Number(o.beam), ...(o.beam !== '1' && { lengthPenalty: Number(o.lengthPenalty) }),
          ...metrics, samples, seconds: Number(seconds.toFixed(2)), ...(o.output && { output: o.output }),
        })}\n`);
        return;
      }
      console.log(`${rep.count} sentences, ${o.beam === '1' ? 'greedy' : `beam ${o.beam}`}, ${seconds.toFixed(1)} s`);
      printReport(rep, split.pairs);
      if (o.output) console.log(`\n${rep.count} translations written to ${o.output}`);
    });
}
