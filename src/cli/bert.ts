/**
 * `zhuyi bert pretrain | finetune`: BERT pretraining (MLM + NSP) and fine-tuning (classification, NER,
 * extractive QA, multiple choice) on the shared trainer; the pipelines and `bert eval` are registered from
 * bert-pipelines.ts.
 */
import { type Command, Option } from 'commander';
import { finetuneMultipleChoice } from '../bert/multiple-choice.js';
import { finetuneNer } from '../bert/ner.js';
import { finetuneQa } from '../bert/qa.js';
import { BERT_SIZES, HF_DIR, type BertRunResult, type BertSize } from '../bert/run.js';
import { pretrainBert } from '../bert/pretrain.js';
import { finetuneBert } from '../bert/classify.js';
import type { BertConfigJSON } from '../models/bert/config.js';
import type { TableFormat } from '../bert/data/classify.js';
import { ArgumentError } from '../tensor/errors.js';
import { registerBertPipelines } from './bert-pipelines.js';
import { addTrainingFlags, compiledNote, trainingOptions, type TrainingFlags } from './translate.js';

type Flags = TrainingFlags & Record<string, string | boolean | undefined>;

function num(name: string, v: string | boolean | undefined): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ArgumentError(`--${name}: expected a number, got '${v}'`);
  return n;
}

function dropoutOptions(o: Flags): BertConfigJSON {
  const d = num('dropout', o.dropout);
  return d === undefined ? {} : { hidden_dropout_prob: d, attention_probs_dropout_prob: d };
}

/** The final lines: steps, time, the best checkpoint's metrics, where the HF folder is. Sets exit code 130 when stopped early. */
function summarize(what: string, r: BertRunResult, out: string, started: number, metrics: (m: Record<string, number>) => string): void {
  const secs = (performance.now() - started) / 1000;
  const { summary } = r;
  if (summary.interrupted) {
    console.log(`stopped at step ${summary.steps} after ${secs.toFixed(1)} s; saved ${out}/last.safetensors — continue with --resume`);
    if (r.hfDir) console.log(`best checkpoint so far as a Hugging Face folder: ${r.hfDir}`);
    process.exitCode = 130;
    return;
  }
  console.log(`${what} ${summary.steps} steps in ${secs.toFixed(1)} s (${compiledNote(summary)})`);
  if (summary.best) {
    const m = r.bestMetrics;
    console.log(`best ${summary.best.name} ${summary.best.value.toFixed(4)} at step ${summary.best.step}${m ? `: ${metrics(m)}` : ''}`);
  }
  console.log(r.hfDir ? `Hugging Face folder (best checkpoint): ${r.hfDir}` : `no validation ran, so no best checkpoint and no ${out}/${HF_DIR}`);
}

/** The two recipes, as `bert finetune --help` shows them (src/bert/recipe.ts holds the values). */
const RECIPE_HELP = `
Defaults depend on where the model comes from (flags you give always win):
  --model DIR (pretrained)   Hugging Face Trainer's: lr 5e-5, 3 epochs, AdamW betas (0.9, 0.999),
                             eps 1e-8, weight decay 0, linear decay, no warmup, clip 1
  --init random (scratch)    zhuyi's tuned from-scratch preset: lr 1e-3, 10 epochs, betas (0.9, 0.98),
                             eps 1e-8, weight decay 0.01, linear decay after 4% warmup, clip 1
Neither decays biases or LayerNorm parameters. --grad-accum k sums k batches' gradients per step.

Example:
  zhuyi bert finetune --model hf --train train.csv --valid dev.csv --batch-size 16 --grad-accum 2 --warmup-ratio 0.1 --out runs/cls`;

const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);

export function registerBert(program: Command): void {
  const bert = program.command('bert').description('pretrain BERT (masked LM + next sentence), fine-tune it (classification, NER, QA), evaluate it on a test file and run its pipelines (fill-mask, classify, ner, answer, embed); models are Hugging Face folders');

  addTrainingFlags(
    bert.command('pretrain')
      .description('pretrain BERT on a corpus (one sentence per line, blank lines between documents); writes DIR/hf with the best checkpoint (lowest validation masked-LM loss)')
      .option('--corpus <file>', 'corpus: one sentence per line, blank lines between documents (gzip accepted)')
      .option('--model <dir>', 'continue pretraining this Hugging Face BERT folder (its weights, config and vocabulary) on the corpus: domain- or task-adaptive pretraining')
      .option('--vocab <path>', 'an existing vocabulary: vocab.txt or a tokenizer folder')
      .option('--vocab-size <n>', 'else train a WordPiece vocabulary of this size on the corpus', '8000')
      .addOption(new Option('--size <preset>', 'model size: tiny L2/H128, mini L4/H256, small L4/H512 (default tiny)').choices([...BERT_SIZES]))
      .option('--max-seq-length <n>', 'tokens per instance, [CLS] and [SEP] included', '128')
      .option('--whole-word-mask', 'mask every WordPiece of a chosen word together')
      .option('--mask-prob <x>', 'share of tokens predicted', '0.15')
      .option('--static-masking', 'the same masks every epoch (default: new masks each epoch)')
      .option('--valid-fraction <x>', 'share of documents held out for validation', '0.05')
      .option('--dropout <x>', 'hidden and attention dropout (default 0.1)')
      .option('--cased', 'keep case when training a vocabulary (default: lowercase)')
      .requiredOption('--out <dir>', 'run folder (checkpoints, log.jsonl, tokenizer, hf/)'),
  ).action(async (o: Flags) => {
    const started = performance.now();
    const r = await pretrainBert({
      ...(trainingOptions(o) as object),
      corpus: o.corpus as string, outDir: o.out as string, ...(o.size ? { size: o.size as BertSize } : {}), ...(o.model ? { model: o.model as string } : {}),
      ...(o.vocab ? { vocab: o.vocab as string } : { vocabSize: num('vocab-size', o.vocabSize) }),
      maxSeqLength: num('max-seq-length', o.maxSeqLength), wholeWordMask: Boolean(o.wholeWordMask), maskProb: num('mask-prob', o.maskProb),
      dynamicMasking: !o.staticMasking, validFraction: num('valid-fraction', o.validFraction), lowercase: !o.cased,
      modelOptions: dropoutOptions(o), log: (s) => console.log(s),
    });
    summarize('pretrained', r, o.out as string, started, (m) => `MLM accuracy ${pct(m.mlm_accuracy)}, NSP accuracy ${pct(m.nsp_accuracy)}, MLM loss ${m.mlm_loss?.toFixed(3)}, NSP loss ${m.nsp_loss?.toFixed(3)}`);
  });

  addTrainingFlags(
    bert.command('finetune')
      .description('fine-tune BERT for text classification, named-entity recognition, extractive question answering or multiple choice from a pretrained Hugging Face folder (--model) or from scratch (--init random); writes DIR/hf with the best checkpoint')
      .addOption(new Option('--task <name>', 'classify (CSV/TSV/JSONL), ner (CoNLL-2003 files, entity F1), qa (SQuAD v1.1 JSON, exact match and F1) or multiple-choice (SWAG CSV or JSONL with context/endings/label, accuracy)').choices(['classify', 'ner', 'qa', 'multiple-choice']).default('classify'))
      .option('--train <file>', 'training examples: CSV, TSV or JSONL (classify), CoNLL (ner), SQuAD JSON (qa), SWAG CSV or JSONL (multiple-choice)')
      .option('--valid <file>', 'validation examples, same form')
      .addOption(new Option('--format <name>', 'file format (default: from the file name)').choices(['csv', 'tsv', 'jsonl']))
      .option('--text-column <name>', 'column (or JSONL field) of the text; default: text, sentence, text_a, sentence1, review or content')
      .option('--text-pair-column <name>', 'column of the second text of sentence-pair tasks')
      .option('--label-column <name>', 'column (or JSONL field) of the label (default: label; 1 without a header); ner: 0-based column index, negative from the end (default -1, the last)')
      .option('--token-column <n>', 'ner: 0-based column of the token (default 0)')
      .option('--doc-stride <n>', 'qa: tokens shared by consecutive windows of a long context (default 128)')
      .option('--max-answer-length <n>', 'qa: longest answer in tokens at validation (default 30)')
      .option('--no-header', 'CSV/TSV without a header row (columns are then 0-based indices)')
      .option('--model <dir>', 'a pretrained Hugging Face BERT folder (config.json, weights, vocab)')
      .addOption(new Option('--init <how>', 'pretrained (from --model) or random (no pretraining: the baseline)').choices(['pretrained', 'random']))
      .addOption(new Option('--size <preset>', 'model size with --init random').choices([...BERT_SIZES]).default('tiny'))
      .option('--vocab <path>', 'with --init random: vocab.txt or a tokenizer folder')
      .option('--vocab-size <n>', 'with --init random and no --vocab: WordPiece vocabulary trained on the training texts', '8000')
      .option('--max-seq-length <n>', 'longest input in tokens (longer texts are truncated; qa: the window length); default 128, qa 384')
      .option('--dropout <x>', 'hidden and attention dropout (default: the model\'s)')
      .option('--cased', 'keep case when training a vocabulary (default: lowercase)')
      .option('--batch-size <n>', 'examples per training batch, whatever their length (default: as many as fit --batch-tokens)')
      .requiredOption('--out <dir>', 'run folder (checkpoints, log.jsonl, tokenizer, hf/)')
      .addHelpText('after', RECIPE_HELP),
    { epochs: '3 with --model, 10 with --init random', lr: '5e-5 with --model, 1e-3 with --init random', weightDecay: '0 with --model, 0.01 with --init random', warmup: 'none with --model, 4% of the run with --init random' },
  ).action(async (o: Flags) => {
    const started = performance.now();
    if (!o.resume && !o.model && o.init !== 'random') throw new ArgumentError('bert finetune: give --model DIR (a pretrained folder) or --init random');
    if (o.task === 'ner' || o.task === 'qa' || o.task === 'multiple-choice') {
      const common = {
        ...(trainingOptions(o) as object),
        train: o.train as string | undefined, valid: o.valid as string | undefined, outDir: o.out as string,
        ...(o.model ? { model: o.model as string } : {}),
        ...(o.init ? { init: o.init as 'pretrained' | 'random' } : {}),
        size: o.size as BertSize, ...(o.vocab ? { vocab: o.vocab as string } : { vocabSize: num('vocab-size', o.vocabSize) }),
        maxSeqLength: num('max-seq-length', o.maxSeqLength), batchSize: num('batch-size', o.batchSize), lowercase: !o.cased, modelOptions: dropoutOptions(o), log: (s: string) => console.log(s),
      };
      for (const [flag, v] of [['format', o.task === 'multiple-choice' ? undefined : o.format], ['text-column', o.textColumn], ['text-pair-column', o.textPairColumn]] as const) {
        if (v !== undefined) throw new ArgumentError(`bert finetune: --${flag} is for --task classify`);
      }
      if (o.task === 'multiple-choice') {
        if (o.tokenColumn !== undefined || o.labelColumn !== undefined || o.docStride !== undefined || o.maxAnswerLength !== undefined) {
          throw new ArgumentError('bert finetune: --token-column and --label-column are not for --task multiple-choice, --doc-stride and --max-answer-length are for --task qa');
        }
        const r = await finetuneMultipleChoice({ ...common, task: 'multiple-choice', ...(o.format ? { format: o.format as TableFormat } : {}) });
        summarize('fine-tuned', r, o.out as string, started, (m) => `validation accuracy ${pct(m.accuracy)}, loss ${m.valid_loss?.toFixed(4)}`);
      } else if (o.task === 'ner') {
        if (o.docStride !== undefined || o.maxAnswerLength !== undefined) throw new ArgumentError('bert finetune: --doc-stride and --max-answer-length are for --task qa');
        const r = await finetuneNer({
          ...common, task: 'ner', tokenColumn: num('token-column', o.tokenColumn), labelColumn: num('label-column', o.labelColumn),
        });
        summarize('fine-tuned', r, o.out as string, started, (m) => `entity F1 ${pct(m.f1)} (precision ${pct(m.precision)}, recall ${pct(m.recall)}), token accuracy ${pct(m.accuracy)}, loss ${m.valid_loss?.toFixed(4)}`);
      } else {
        if (o.tokenColumn !== undefined || o.labelColumn !== undefined) throw new ArgumentError('bert finetune: --token-column and --label-column are not for --task qa');
        const r = await finetuneQa({
          ...common, task: 'qa', docStride: num('doc-stride', o.docStride), maxAnswerLength: num('max-answer-length', o.maxAnswerLength),
        });
        summarize('fine-tuned', r, o.out as string, started, (m) => `exact match ${m.exact_match?.toFixed(2)}, F1 ${m.f1?.toFixed(2)}, loss ${m.valid_loss?.toFixed(4)}`);
      }
      return;
    }
    if (o.tokenColumn !== undefined || o.docStride !== undefined || o.maxAnswerLength !== undefined) {
      throw new ArgumentError('bert finetune: --token-column is for --task ner, --doc-stride and --max-answer-length for --task qa');
    }
    const r = await finetuneBert({
      ...(trainingOptions(o) as object),
      task: 'classify', train: o.train as string | undefined, valid: o.valid as string | undefined, outDir: o.out as string,
      ...(o.format ? { format: o.format as TableFormat } : {}),
      ...(o.textColumn ? { textColumn: o.textColumn as string } : {}),
      ...(o.textPairColumn ? { textPairColumn: o.textPairColumn as string } : {}),
      ...(o.labelColumn ? { labelColumn: o.labelColumn as string } : {}), header: o.header !== false,
      ...(o.model ? { model: o.model as string } : {}),
      ...(o.init ? { init: o.init as 'pretrained' | 'random' } : {}),
      size: o.size as BertSize, ...(o.vocab ? { vocab: o.vocab as string } : { vocabSize: num('vocab-size', o.vocabSize) }),
      maxSeqLength: num('max-seq-length', o.maxSeqLength), batchSize: num('batch-size', o.batchSize), lowercase: !o.cased, modelOptions: dropoutOptions(o), log: (s) => console.log(s),
    });
    summarize('fine-tuned', r, o.out as string, started, (m) => `validation accuracy ${pct(m.accuracy)}, loss ${m.valid_loss?.toFixed(4)}`);
  });

  registerBertPipelines(bert);
}
