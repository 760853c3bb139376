/** `zhuyi viz DIR`: one self-contained HTML page of a model's attention and a run's training curves. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../io/safetensors.js';
import { ArgumentError } from '../tensor/errors.js';
import { vizFolder } from '../viz/folder.js';
import { screenshotHtml } from '../viz/png.js';

interface VizFlags { text?: string; pair?: string; out: string; png?: string; layer?: string }

export function registerViz(program: Command): void {
  program
    .command('viz')
    .description('write one self-contained HTML page (inline SVG + script, works offline): a translation model\'s alignment, BERT\'s head and model views, training curves')
    .argument('<dir>', 'a translation model folder, a BERT folder (config.json, or a `zhuyi bert` run folder), or any run folder with log.jsonl')
    .option('--text <sentence>', 'the sentence to translate, or BERT\'s sentence A (needed for model folders)')
    .option('--pair <sentence>', 'BERT only: sentence B of a pair (token_type_ids 1)')
    .option('--out <file>', 'the HTML file to write', 'viz.html')
    .option('--png <file>', 'also a screenshot of the page (needs Chromium and playwright-core)')
    .option('--layer <n>', 'the layer shown first, 1-based (default: translation the last decoder layer, BERT the first)')
    .addHelpText('after', `
Examples:
  zhuyi viz runs/transformer --text "1984" --out align.html
  zhuyi viz bert-base-uncased --text "the cat sat on the mat" --pair "it was happy" --png heads.png
  zhuyi viz runs/bert-finetune                     # curves only, when the run has no checkpoint yet`)
    .action(async (dir: string, f: VizFlags) => {
      let layer: number | undefined;
      if (f.layer !== undefined) {
        const n = Number(f.layer);
        if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`--layer: expected a layer number from 1, got '${f.layer}'`);
        layer = n - 1;
      }
      const r = await vizFolder(dir, { text: f.text, pair: f.pair, layer });
      for (const n of r.notes) console.error(`zhuyi viz: ${n}`);
      mkdirSync(dirname(f.out), { recursive: true });
      writeFileAtomic(f.out, r.html);
      console.log(`${r.kind === 'curves' ? 'training curves' : `${r.kind} attention${r.html.includes('id="curves"') ? ' and training curves' : ''}`}: ${f.out}`);
      if (f.png) {
        mkdirSync(dirname(f.png), { recursive: true });
        await screenshotHtml(f.out, f.png);
        console.log(`screenshot: ${f.png}`);
      }
    });
}
