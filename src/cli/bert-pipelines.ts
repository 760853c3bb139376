/**
 * `zhuyi bert fill-mask | classify | ner | answer | embed DIR ...`: the pipelines of
 * src/bert/pipelines/index.ts on a model folder (src/bert/folder.ts: an HF folder or a run folder of
 * pretrain / finetune; the class from config.architectures), and `zhuyi bert eval DIR --test FILE`,
 * the validation metrics of fine-tuning on a held-out file (src/bert/evaluate.ts).
 *
 * Texts come from the arguments, else from stdin, one per line (blank lines skipped). Output is a
 * table, or with --json one JSON object per input whose result fields are what the API returns.
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { BERT_EVAL_TASKS, HEAD_OF, evaluateBert, evalTaskOf, type BertEvalOptions, type BertEvalResult, type BertEvalTask } from '../bert/evaluate.js';
import { findBertFolder, loadBertModel, loadBertTokenizer } from '../bert/folder.js';
import type { TableFormat } from '../bert/data/classify.js';
import { BertForMaskedLM, BertForPreTraining, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification } from '../models/bert/heads.js';
import { BertModel } from '../models/bert/modeling.js';
import { type AggregationStrategy, type EmbedPooling, type EntityGroup, type TokenEntity, answer, classify, embed, fillMask, tokenClassify } from '../bert/pipelines/index.js';
import type { BertModelClass, BertPreTrainedModel } from '../models/bert/pretrained.js';
import { ArgumentError } from '../tensor/errors.js';
import { setBackend } from '../tensor/realize.js';
import type { BertTokenizer } from '../text/bert/tokenizer.js';

const DIR_HELP = "a Hugging Face BERT folder (config.json, weights, vocab.txt or tokenizer.json), or a run folder of 'zhuyi bert pretrain | finetune' (its hf/ is used)";
const TEXTS_HELP = 'texts; without any, stdin is read, one text per line';

/** The command that suits a model of this architecture (named in wrong-head errors). */
const COMMAND_OF: Record<string, string> = {
  BertForMaskedLM: 'fill-mask', BertForPreTraining: 'fill-mask', BertForSequenceClassification: 'classify', BertForTokenClassification: 'ner',
  BertForQuestionAnswering: 'answer', BertModel: 'embed',
};

function hint(architecture: string): string {
  const cmd = COMMAND_OF[architecture];
  if (cmd === 'embed') return "it has no head; 'zhuyi bert embed' gives sentence vectors from it";
  return cmd ? `for this model use 'zhuyi bert ${cmd}'` : "it has no pipeline here; 'zhuyi bert embed' reads the encoder of any BERT folder";
}

// ---- options and input -----------------------------------------------------------------------------

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`--${flag}: expected a positive integer, got '${v}'`);
  return n;
}

function nonNegativeInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ArgumentError(`--${flag}: expected a non-negative integer, got '${v}'`);
  return n;
}

/** Lines of stdin (blank ones skipped); an error when stdin is a terminal or empty. */
function stdinLines(who: string, what: string): string[] {
  if (process.stdin.isTTY) throw new ArgumentError(`${who}: give ${what}, or pipe them on stdin (one per line)`);
  const lines = readFileSync(0, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new ArgumentError(`${who}: no ${what}: none given as arguments and stdin is empty`);
  return lines;
}

const textsOf = (who: string, args: readonly string[]): string[] => (args.length ? [...args] : stdinLines(who, 'texts'));

async function open<T extends BertPreTrainedModel>(dir: string, who: string, accepts: readonly BertModelClass<T>[], as?: BertModelClass<T>): Promise<{ model: T; tokenizer: BertTokenizer }> {
  const folder = findBertFolder(dir, who);
  const tokenizer = loadBertTokenizer(folder);
  const model = await loadBertModel(folder, who, { accepts, hint, ...(as ? { as } : {}), warn: (m) => console.error(m) });
  return { model, tokenizer };
}

// ---- output --------------------------------------------------------------------------------------

/** Terminal columns of a string: East Asian wide and fullwidth characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    w += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
      (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x20000 && c <= 0x3fffd) ? 2 : 1;
  }
  return w;
}

/** Left-aligned columns two spaces apart, under a header; every line starts with `indent`. */
function table(header: readonly string[], rows: readonly (readonly string[])[], indent = ''): string {
  const widths = header.map((h, k) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[k] ?? ''))));
  const line = (cells: readonly string[]): string => indent + cells.map((c, k) => (k === cells.length - 1 ? c : c + ' '.repeat(widths[k]! - displayWidth(c)))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A text on one line of a table. */
const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
const score = (x: number): string => x.toFixed(4);

function jsonLine(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function outputFlags(cmd: Command, json = 'JSON lines instead of a table: one object per input'): Command {
  return cmd.option('--json', json).option('--backend <name>', 'ort (ONNX Runtime, default) or js (reference)');
}

interface Common { backend?: string; json?: boolean }

function begin(o: Common): void {
  if (o.backend) setBackend(o.backend);
}

// ---- the commands --------------------------------------------------------------------------------

export function registerBertPipelines(bert: Command): void {
  outputFlags(bert.command('fill-mask')
    .description('the most likely tokens for each [MASK] of a text (a masked LM: BertForMaskedLM, or BertForPreTraining as pretrain writes)')
    .argument('<dir>', DIR_HELP)
    .argument('[texts...]', `${TEXTS_HELP}; each needs at least one mask token`)
    .option('--top-k <n>', 'predictions per mask', '5'))
    .action(async (dir: string, args: string[], o: Common & { topK: string }) => {
      begin(o);
      const who = 'bert fill-mask';
      const topK = positiveInt('top-k', o.topK)!;
      const { model, tokenizer } = await open<BertForMaskedLM | BertForPreTraining>(dir, who, [BertForMaskedLM, BertForPreTraining]);
      const texts = textsOf(who, args);
      for (const [i, text] of texts.entries()) {
        const masks = await fillMask(model, tokenizer, text, { topK });
        if (o.json) { jsonLine({ text, predictions: masks }); continue; }
        const rows = masks.flatMap((preds, m) => preds.map((p, r) => [r === 0 ? String(m + 1) : '', String(r + 1), p.token, score(p.score), oneLine(p.sequence)]));
        console.log(`${i ? '\n' : ''}${oneLine(text)}\n${table(['mask', 'rank', 'token', 'score', 'sequence'], rows, '  ')}`);
      }
    });

  outputFlags(bert.command('classify')
    .description('labels of texts with scores (a sequence classifier: BertForSequenceClassification, as finetune --task classify writes)')
    .argument('<dir>', DIR_HELP)
    .argument('[texts...]', TEXTS_HELP)
    .option('--pair <text>', 'second segment of every text (sentence-pair models, e.g. NLI)')
    .option('--top-k <n>', 'labels per text, best first', '1'))
    .action(async (dir: string, args: string[], o: Common & { pair?: string; topK: string }) => {
      begin(o);
      const who = 'bert classify';
      const topK = positiveInt('top-k', o.topK)!;
      const { model, tokenizer } = await open(dir, who, [BertForSequenceClassification]);
      const texts = textsOf(who, args);
      const results = await classify(model, tokenizer, texts, { topK, ...(o.pair !== undefined ? { textPair: texts.map(() => o.pair!) } : {}) });
      if (o.json) {
        texts.forEach((text, i) => jsonLine({ text, ...(o.pair !== undefined ? { pair: o.pair } : {}), labels: results[i] }));
        return;
      }
      const rows = results.flatMap((labels, i) => labels.map((l, r) => [l.label, score(l.score), r === 0 ? oneLine(texts[i]!) : '']));
      if (o.pair !== undefined) console.log(`pair: ${oneLine(o.pair)}`);
      console.log(table(['label', 'score', 'text'], rows));
    });

  outputFlags(bert.command('ner')
    .description('named entities of texts (a token classifier: BertForTokenClassification, as finetune --task ner writes)')
    .argument('<dir>', DIR_HELP)
    .argument('[texts...]', TEXTS_HELP)
    .addOption(new Option('--aggregation <how>', "simple: BIO groups of tokens; first / max / average: words first (label of the first, most confident or averaged token), then groups; none: every token's label").choices(['simple', 'first', 'max', 'average', 'none']).default('simple'))
    .option('--stride <n>', 'long texts: split into windows overlapping by n tokens (default: truncate to the model\'s length)'))
    .action(async (dir: string, args: string[], o: Common & { aggregation: AggregationStrategy; stride?: string }) => {
      begin(o);
      const who = 'bert ner';
      const stride = nonNegativeInt('stride', o.stride);
      const { model, tokenizer } = await open(dir, who, [BertForTokenClassification]);
      const texts = textsOf(who, args);
      for (const [i, text] of texts.entries()) {
        const entities = await tokenClassify(model, tokenizer, text, { aggregation: o.aggregation, ...(stride !== undefined ? { stride } : {}) });
        if (o.json) { jsonLine({ text, entities }); continue; }
        const rows = o.aggregation === 'none'
          ? (entities as TokenEntity[]).map((e) => [e.word, e.entity, score(e.score), String(e.index), String(e.start), String(e.end)])
          : (entities as EntityGroup[]).map((e) => [oneLine(text.slice(e.start, e.end)), e.entityGroup, score(e.score), String(e.start), String(e.end)]);
        const header = o.aggregation === 'none' ? ['token', 'label', 'score', 'index', 'start', 'end'] : ['entity', 'type', 'score', 'start', 'end'];
        console.log(`${i ? '\n' : ''}${oneLine(text)}\n${rows.length ? table(header, rows, '  ') : '  (no entities)'}`);
      }
    });

  outputFlags(bert.command('answer')
    .description('extractive question answering: the span of the context that answers (BertForQuestionAnswering, as finetune --task qa writes); questions or the context may come from stdin')
    .argument('<dir>', DIR_HELP)
    .option('--question <text>', 'the question; without it, questions are read from stdin, one per line')
    .option('--context <text>', 'the passage to answer from; without it, the whole of stdin')
    .option('--top-k <n>', 'answers per question, best first', '1')
    .option('--max-answer-length <n>', 'longest answer in tokens', '15'))
    .action(async (dir: string, o: Common & { question?: string; context?: string; topK: string; maxAnswerLength: string }) => {
      begin(o);
      const who = 'bert answer';
      const topK = positiveInt('top-k', o.topK)!;
      const maxAnswerLength = positiveInt('max-answer-length', o.maxAnswerLength)!;
      if (o.question === undefined && o.context === undefined) throw new ArgumentError(`${who}: give --question and --context (either one may instead come from stdin)`);
      const { model, tokenizer } = await open(dir, who, [BertForQuestionAnswering]);
      let questions: string[];
      let context: string;
      if (o.context === undefined) {
        if (process.stdin.isTTY) throw new ArgumentError(`${who}: give --context, or pipe the context on stdin`);
        context = readFileSync(0, 'utf8');
        if (context.trim() === '') throw new ArgumentError(`${who}: no --context and stdin is empty`);
        questions = [o.question!];
      } else {
        context = o.context;
        questions = o.question === undefined ? stdinLines(who, 'questions (--question)') : [o.question];
      }
      for (const [i, question] of questions.entries()) {
        const answers = await answer(model, tokenizer, question, context, { topK, maxAnswerLength });
        if (o.json) { jsonLine({ question, answers }); continue; }
        const rows = answers.map((a) => [oneLine(a.answer), score(a.score), String(a.start), String(a.end)]);
        console.log(`${i ? '\n' : ''}${oneLine(question)}\n${table(['answer', 'score', 'start', 'end'], rows, '  ')}`);
      }
    });

  outputFlags(bert.command('embed')
    .description('sentence vectors from the encoder of any BERT folder (head weights unused); the table shows the first values and the cosine similarities')
    .argument('<dir>', DIR_HELP)
    .argument('[texts...]', TEXTS_HELP)
    .addOption(new Option('--pooling <how>', "mean of the last hidden states over the tokens, the [CLS] token's, or BERT's pooler output").choices(['mean', 'cls', 'pooler']).default('mean'))
    .option('--no-normalize', 'keep the vectors as pooled (default: unit length)'))
    .action(async (dir: string, args: string[], o: Common & { pooling: EmbedPooling; normalize: boolean }) => {
      begin(o);
      const who = 'bert embed';
      const { model, tokenizer } = await open(dir, who, [BertModel], BertModel);
      const texts = textsOf(who, args);
      const vectors = await embed(model, tokenizer, texts, { pooling: o.pooling, normalize: o.normalize });
      if (o.json) {
        texts.forEach((text, i) => jsonLine({ text, embedding: vectors[i] }));
        return;
      }
      const C = vectors[0]!.length;
      const shown = Math.min(6, C);
      console.log(`${texts.length} text${texts.length === 1 ? '' : 's'}, ${C} dimensions, ${o.pooling} pooling${o.normalize ? ', unit length' : ''}`);
      console.log(table(['#', 'text', `first ${shown} values`], vectors.map((v, i) => [String(i + 1), oneLine(texts[i]!), v.slice(0, shown).map((x) => `${x < 0 ? '' : ' '}${x.toFixed(4)}`).join(' ')])));
      if (texts.length > 1) {
        const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
        const cos = (a: number[], b: number[]): number => a.reduce((s, x, k) => s + x * b[k]!, 0) / (norm(a) * norm(b));
        console.log(`\ncosine similarity\n${table(['#', ...texts.map((_, j) => String(j + 1))], vectors.map((a, i) => [String(i + 1), ...vectors.map((b) => cos(a, b).toFixed(4))]))}`);
      }
    });

  outputFlags(bert.command('eval')
    .description("score a fine-tuned model on a held-out test file with fine-tuning's validation metrics (accuracy; entity F1; SQuAD exact match and F1; multiple-choice accuracy); settings default to the run's")
    .argument('<dir>', "a run folder of 'zhuyi bert finetune' (its hf/ is scored and its zhuyi-bert.json gives the settings), its hf/, or any fine-tuned Hugging Face BERT folder")
    .requiredOption('--test <file>', 'test examples, in the training format: CSV/TSV/JSONL (classify), CoNLL (ner), SQuAD JSON (qa), SWAG CSV or JSONL (multiple-choice)')
    .addOption(new Option('--task <name>', 'classify, ner, qa or multiple-choice (default: from config.json architectures)').choices([...BERT_EVAL_TASKS]))
    .addOption(new Option('--format <name>', 'classify, multiple-choice: file format (default: the run\'s, else from the file name)').choices(['csv', 'tsv', 'jsonl']))
    .option('--text-column <name>', 'classify: column (or JSONL field) of the text (default: the run\'s, else text, sentence, text_a, sentence1, review or content)')
    .option('--text-pair-column <name>', 'classify: column of the second text of sentence-pair tasks')
    .option('--label-column <name>', 'classify: column of the label (default label); ner: 0-based column index, negative from the end (default -1)')
    .option('--token-column <n>', 'ner: 0-based column of the token (default 0)')
    .option('--no-header', "classify: CSV/TSV without a header row (columns are then 0-based indices); default: the run's")
    .option('--max-seq-length <n>', "longest input in tokens (default: the run's; else 128, qa 384)")
    .option('--doc-stride <n>', "qa: tokens shared by consecutive windows (default: the run's, else 128, at most half of --max-seq-length)")
    .option('--max-answer-length <n>', "qa: longest answer in tokens (default: the run's, else 30)")
    .option('--batch-tokens <n>', "tokens per batch (default: the run's, else 4096)"), 'one JSON object: the metrics and the settings')
    .action(async (dir: string, o: Common & Record<string, string | boolean | undefined>) => {
      begin(o);
      const who = 'bert eval';
      let task = o.task as BertEvalTask | undefined;
      if (!task) {
        const folder = findBertFolder(dir, who);
        task = evalTaskOf(folder.architecture) ?? undefined;
        if (!task && folder.architecture === null) throw new ArgumentError(`${who}: give --task ${BERT_EVAL_TASKS.join('|')} (${folder.hfDir}/config.json names no architecture)`);
        if (!task) throw new ArgumentError(`${who}: ${folder.hfDir}/config.json holds a ${folder.architecture}; bert eval scores fine-tuned heads: ${BERT_EVAL_TASKS.map((t) => `${HEAD_OF[t]} (--task ${t})`).join(', ')}`);
      }
      const refuse = (flags: Record<string, unknown>, forTask: string): void => {
        for (const [flag, v] of Object.entries(flags)) if (v !== undefined && v !== false) throw new ArgumentError(`${who}: --${flag} is for --task ${forTask}`);
      };
      if (task !== 'classify' && task !== 'multiple-choice') refuse({ format: o.format }, 'classify or multiple-choice');
      if (task !== 'classify') refuse({ 'text-column': o.textColumn, 'text-pair-column': o.textPairColumn, 'no-header': o.header === false }, 'classify');
      if (task !== 'ner') refuse({ 'token-column': o.tokenColumn }, 'ner');
      if (task !== 'qa') refuse({ 'doc-stride': o.docStride, 'max-answer-length': o.maxAnswerLength }, 'qa');
      if ((task === 'qa' || task === 'multiple-choice') && o.labelColumn !== undefined) throw new ArgumentError(`${who}: --label-column is for --task classify or ner`);
      const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
      const int = (flag: string, v: unknown): number | undefined => {
        if (typeof v !== 'string') return undefined;
        const n = Number(v);
        if (!Number.isInteger(n)) throw new ArgumentError(`--${flag}: expected an integer, got '${v}'`);
        return n;
      };
      const common = {
        model: dir, test: o.test as string, warn: (m: string) => console.error(m),
        ...(o.maxSeqLength !== undefined ? { maxSeqLength: positiveInt('max-seq-length', str(o.maxSeqLength)) } : {}),
        ...(o.batchTokens !== undefined ? { batchTokens: positiveInt('batch-tokens', str(o.batchTokens)) } : {}),
      };
      let options: BertEvalOptions;
      if (task === 'classify') {
        options = {
          ...common, task, ...(o.format ? { format: o.format as TableFormat } : {}), ...(o.header === false ? { header: false } : {}),
          ...Object.fromEntries((['textColumn', 'textPairColumn', 'labelColumn'] as const).flatMap((k) => (str(o[k]) !== undefined ? [[k, str(o[k])]] : []))),
        };
      } else if (task === 'ner') {
        options = {
          ...common, task, ...(o.tokenColumn !== undefined ? { tokenColumn: nonNegativeInt('token-column', str(o.tokenColumn)) } : {}),
          ...(o.labelColumn !== undefined ? { labelColumn: int('label-column', o.labelColumn) } : {}),
        };
      } else if (task === 'multiple-choice') {
        options = { ...common, task, ...(o.format ? { format: o.format as TableFormat } : {}) };
      } else {
        options = {
          ...common, task, ...(o.docStride !== undefined ? { docStride: nonNegativeInt('doc-stride', str(o.docStride)) } : {}),
          ...(o.maxAnswerLength !== undefined ? { maxAnswerLength: positiveInt('max-answer-length', str(o.maxAnswerLength)) } : {}),
        };
      }
      const r = await evaluateBert(options);
      if (o.json) { jsonLine({ task: r.task, model: r.hfDir, test: r.test, examples: r.examples, ...r.metrics, settings: r.settings }); return; }
      console.log(evalReport(r));
    });
}

const pct = (x: number | undefined): string => (x === undefined ? 'n/a' : `${(100 * x).toFixed(2)}%`);

/** The lines `bert eval` prints: what was scored, with which settings, and the metrics worded as finetune words them. */
export function evalReport(r: BertEvalResult): string {
  const m = r.metrics;
  const what = { classify: 'texts', ner: 'sentences', qa: 'questions', 'multiple-choice': 'examples' }[r.task];
  const settings = Object.entries(r.settings).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  const lines = [`model: ${r.hfDir}`, `test: ${r.test}: ${r.examples} ${what} (${settings})`, ...r.notes.map((n) => `note: ${n}`)];
  if (r.task === 'classify' || r.task === 'multiple-choice') {
    lines.push(`test accuracy ${pct(m.accuracy)} (${m.correct}/${r.examples}), loss ${m.loss!.toFixed(4)}`);
  } else if (r.task === 'ner') {
    const types = Object.keys(m).filter((k) => k.startsWith('f1_')).map((k) => `${k.slice(3)} ${(100 * m[k]!).toFixed(1)}`).join(', ');
    lines.push(`test entity F1 ${pct(m.f1)} (precision ${pct(m.precision)}, recall ${pct(m.recall)}${types ? `; ${types}` : ''}), token accuracy ${pct(m.accuracy)}, loss ${m.loss!.toFixed(4)}`);
  } else {
    lines.push(`test exact match ${m.exact_match!.toFixed(2)}, F1 ${m.f1!.toFixed(2)}, loss ${m.loss!.toFixed(4)}`);
  }
  return lines.join('\n');
}
