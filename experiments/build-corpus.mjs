#!/usr/bin/env node
// Builds a BERT pretraining corpus (one sentence per line, a blank line between documents) from the
// text in ../shared/data, for the SST-2 and ChnSentiCorp measurements of issue 6.
//   node experiments/build-corpus.mjs en OUT.txt   English: SST-2 train sentences (labels dropped),
//                                                  tinyshakespeare, Multi30k train English, Tatoeba English
//   node experiments/build-corpus.mjs sst2 OUT.txt SST-2 train sentences only (in-domain)
//   node experiments/build-corpus.mjs zh OUT.txt   Chinese: ChnSentiCorp train reviews (labels dropped),
//                                                  Tatoeba Chinese
// Only training splits are used: no dev or test text reaches pretraining.
// The data stays in ../shared/data; this writes a derived file wherever OUT points (not the repo).
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DATA = join(dirname(fileURLToPath(import.meta.url)), '../../shared/data');
const [lang, out] = process.argv.slice(2);
if (!['en', 'sst2', 'zh'].includes(lang) || !out) {
  console.error('usage: node experiments/build-corpus.mjs en|sst2|zh OUT.txt');
  process.exit(2);
}
if (!existsSync(DATA)) {
  console.error(`no shared data at ${DATA}: nothing to build`);
  process.exit(2);
}
const read = (p) => {
  const b = readFileSync(join(DATA, p));
  return (p.endsWith('.gz') ? gunzipSync(b) : b).toString('utf8');
};
const lines = (s) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
/** Groups standalone sentences into documents of n (their order in the file; NSP negatives stay random). */
const groups = (sentences, n) => {
  const docs = [];
  for (let i = 0; i < sentences.length; i += n) docs.push(sentences.slice(i, i + n));
  return docs;
};
/** Column `col` of a TSV with a header row. */
const tsvColumn = (p, name) => {
  const [header, ...rows] = lines(read(p));
  const col = header.split('\t').indexOf(name);
  if (col < 0) throw new Error(`${p}: no column '${name}' in header ${JSON.stringify(header)}`);
  return rows.map((r) => r.split('\t')[col]?.trim() ?? '').filter(Boolean);
};
const tatoeba = (col) => lines(read('cmn-eng-tatoeba/v2022-29155/cmn.txt')).map((l) => l.split('\t')[col]).filter(Boolean);

const docs = [];
if (lang === 'sst2') {
  docs.push(...groups(tsvColumn('sst2-glue/train.tsv', 'sentence'), 8));
} else if (lang === 'en') {
  docs.push(...groups(tsvColumn('sst2-glue/train.tsv', 'sentence'), 8));
  // tinyshakespeare: speeches are separated by blank lines; drop the speaker lines ("First Citizen:").
  for (const block of read('tinyshakespeare/input.txt').split(/\n\s*\n/)) {
    const speech = lines(block).filter((l) => !/^[A-Z][A-Za-z ]*:$/.test(l));
    if (speech.length) docs.push(speech);
  }
  docs.push(...groups(lines(read('multi30k-en-de/tok/train.lc.norm.tok.en')), 8));
  docs.push(...groups([...new Set(tatoeba(0))], 8));
} else {
  // A review is a document; its sentences end at 。！？!? (kept).
  for (const review of tsvColumn('chnsenticorp/train.tsv', 'text_a')) {
    const sentences = review.match(/[^。！？!?]+[。！？!?]*/g)?.map((s) => s.trim()).filter(Boolean) ?? [];
    if (sentences.length) docs.push(sentences);
  }
  docs.push(...groups([...new Set(tatoeba(1))], 8));
}
const w = createWriteStream(out);
let sentences = 0;
for (const d of docs) {
  w.write(`${d.join('\n')}\n\n`);
  sentences += d.length;
}
w.end(() => console.log(`${out}: ${docs.length} documents, ${sentences} sentences`));
