/**
 * The Train tab's second panel: fine-tune a BERT sequence classifier from an HF folder (picked files
 * or a URL's) on pasted TSV (text<TAB>label), in the Web Worker, with Hugging Face Trainer's recipe
 * at a small scale: AdamW, linear decay, batches of 16, texts truncated to 128 tokens. Rows are split
 * 80/20 into training and held-out (every row trains when there are fewer than 10); the panel shows
 * the loss and the held-out accuracy after each epoch.
 */
import * as z from '../../src/browser.js';
import type { BertFolderFiles, Tensor } from '../../src/browser.js';

export interface FinetuneConfig { epochs?: number; lr?: number; batchSize?: number; seed?: number }
export interface FinetuneEpoch { epoch: number; epochs: number; loss: number; accuracy: number; heldOut: number; labels: string[] }

/** text<TAB>label lines (a header `text<TAB>label`, blank lines and lines without a tab are skipped). */
export function parseTsv(tsv: string): Array<{ text: string; label: string }> {
  const rows: Array<{ text: string; label: string }> = [];
  for (const [i, line] of tsv.split(/\r?\n/).entries()) {
    const tab = line.lastIndexOf('\t');
    if (tab < 0) continue;
    const text = line.slice(0, tab).trim();
    const label = line.slice(tab + 1).trim();
    if (i === 0 && text.toLowerCase() === 'text' && label.toLowerCase() === 'label') continue;
    if (text && label) rows.push({ text, label });
  }
  if (rows.length < 2) throw new z.ArgumentError('fine-tune: paste at least two lines of text<TAB>label');
  return rows;
}

/** config.json with num_labels and id2label/label2id set for `labels`, as HF's from_pretrained(num_labels=...) would. */
function withLabels(files: BertFolderFiles, labels: readonly string[]): Map<string, Uint8Array> {
  const map = new Map<string, Uint8Array>(files instanceof Map ? files : Object.entries(files));
  const bytes = map.get('config.json');
  if (!bytes) throw new z.BertCheckpointError('fine-tune: the folder has no config.json');
  const config = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  config.num_labels = labels.length;
  config.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  map.set('config.json', new TextEncoder().encode(JSON.stringify(config)));
  return map;
}

export async function finetuneBert(files: BertFolderFiles, tsv: string, o: FinetuneConfig, report: (e: FinetuneEpoch) => void): Promise<{ model: z.BertForSequenceClassification; tokenizer: z.BertTokenizer; accuracy: number }> {
  const rows = parseTsv(tsv);
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  z.manualSeed(o.seed ?? 0);
  const order = new z.Generator(o.seed ?? 0).permutation(rows.length);
  const shuffled = Array.from(order, (i) => rows[i]!);
  const cut = rows.length >= 10 ? Math.round(0.8 * rows.length) : rows.length;
  const train = shuffled.slice(0, cut);
  const heldOut = rows.length >= 10 ? shuffled.slice(cut) : shuffled;
  const tokenizer = await z.BertTokenizer.fromPretrained(files);
  const model = await z.BertForSequenceClassification.fromPretrained(withLabels(files, labels), { warn: () => {} });
  const epochs = o.epochs ?? 3;
  const batchSize = o.batchSize ?? 16;
  const steps = epochs * Math.ceil(train.length / batchSize);
  const optimizer = new z.optim.AdamW(model.parameters(), { lr: o.lr ?? 1e-4, weightDecay: 0.01 });
  const scheduler = z.optim.getSchedule(optimizer, 'linear', 0, steps);
  const padId = tokenizer.convertTokensToIds(tokenizer.padToken);
  const batchOf = (part: typeof rows): { ids: Tensor; mask: Tensor; types: Tensor; labels: Tensor } => {
    const enc = part.map((r) => tokenizer.encode(r.text, { truncation: true, maxLength: 128 }));
    const T = Math.max(...enc.map((e) => e.inputIds.length));
    const pad = (xs: number[], v: number): number[] => [...xs, ...Array<number>(T - xs.length).fill(v)];
    return {
      ids: z.tensor(enc.map((e) => pad(e.inputIds, padId)), { dtype: 'int32' }),
      mask: z.tensor(enc.map((e) => pad(e.attentionMask, 0)), { dtype: 'int32' }),
      types: z.tensor(enc.map((e) => pad(e.tokenTypeIds, 0)), { dtype: 'int32' }),
      labels: z.tensor(part.map((r) => labels.indexOf(r.label)), { dtype: 'int32' }),
    };
  };
  let accuracy = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train();
    let lossSum = 0;
    let batches = 0;
    for (let k = 0; k < train.length; k += batchSize) {
      const b = batchOf(train.slice(k, k + batchSize));
      const out = model.forward(b.ids, { attentionMask: b.mask, tokenTypeIds: b.types, labels: b.labels });
      optimizer.zeroGrad();
      out.loss!.backward();
      await optimizer.step(out.loss!, z.clipGradNorm(model.parameters(), 1));
      scheduler.step();
      lossSum += await out.loss!.item();
      batches++;
    }
    model.eval();
    let correct = 0;
    for (let k = 0; k < heldOut.length; k += 64) {
      const part = heldOut.slice(k, k + 64);
      const b = batchOf(part);
      const predicted = await z.noGrad(() => model.forward(b.ids, { attentionMask: b.mask, tokenTypeIds: b.types }).logits.argmax(-1)).tolist() as number[];
      correct += predicted.filter((p, i) => labels[p] === part[i]!.label).length;
    }
    accuracy = correct / heldOut.length;
    report({ epoch: epoch + 1, epochs, loss: lossSum / batches, accuracy, heldOut: heldOut.length, labels });
  }
  return { model, tokenizer, accuracy };
}
