/** `zhuyi export DIR --onnx OUT`: a trained model folder -> ONNX graphs with dynamic axes and a manifest. */
import type { Command } from 'commander';
import { exportOnnx } from '../export/export.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET } from '../export/trace.js';
import { ArgumentError } from '../tensor/errors.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a trained model folder to ONNX inference graphs (dynamic batch and sequence axes) that plain ONNX Runtime runs')
    .argument('<dir>', 'a BERT folder (Hugging Face config.json + weights) or a translation folder (zhuyi-translate.json)')
    .requiredOption('--onnx <out>', 'the folder to write: model.onnx (BERT) or encoder.onnx + decoder.onnx (translation), tokenizer/, manifest.json')
    .option('--opset <n>', `ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}`, String(DEFAULT_OPSET))
    .option('--force', 'write into --onnx even when it holds files (files of the same names are replaced)')
    .option('--no-transformers-js', 'BERT: skip the Hugging Face layout (config.json, tokenizer.json, onnx/model.onnx) that transformers.js loads')
    .option('--transformers-js-attentions', 'BERT: keep the attention outputs in onnx/model.onnx too')
    .option('--quantize', 'BERT: also write onnx/model_quantized.onnx with int8 weights (transformers.js dtype q8)')
    .addHelpText('after', `
BERT folders give model.onnx: inputs input_ids, attention_mask, token_type_ids (int64, [batch, sequence]);
outputs the head's (logits, start_logits/end_logits, last_hidden_state/pooler_output, ...) and
attention_0 .. attention_{L-1} ([batch, heads, sequence, sequence]). The same folder is also a
Hugging Face model folder that @huggingface/transformers runs as it is (BertModel, masked LM,
sequence and token classification, question answering): config.json, tokenizer.json,
tokenizer_config.json, vocab.txt and onnx/model.onnx (without the attention outputs):
  pipeline('fill-mask', OUT, { local_files_only: true })
Translation folders give encoder.onnx and decoder.onnx (one greedy step); manifest.json says how to
feed them. Run an export with zhuyi's runner (src/export/runner.ts) or any ONNX Runtime.

Example:
  zhuyi export runs/transformer --onnx exported/transformer`)
    .action(async (dir: string, opts: { onnx: string; opset: string; force?: boolean; transformersJs: boolean; transformersJsAttentions?: boolean; quantize?: boolean }) => {
      const opset = Number(opts.opset);
      if (!Number.isInteger(opset)) throw new ArgumentError(`--opset: expected an integer from ${MIN_OPSET} to ${MAX_OPSET}, got '${opts.opset}'`);
      const t0 = performance.now();
      const manifest = await exportOnnx(dir, opts.onnx, {
        opset, force: Boolean(opts.force), log: (line) => console.error(line), transformersJs: opts.transformersJs, transformersJsAttentions: Boolean(opts.transformersJsAttentions), quantize: Boolean(opts.quantize),
      });
      const what = manifest.kind === 'bert' ? manifest.architecture : `${manifest.config.modelKind} translation model`;
      console.log(`exported ${what} to ${opts.onnx} (opset ${opset}, ${((performance.now() - t0) / 1000).toFixed(1)} s):`);
      for (const f of [...manifest.files, 'manifest.json']) console.log(`  ${f}`);
      if (manifest.kind === 'bert' && manifest.transformersJs) {
        const task = manifest.transformersJs.task;
        console.log(`transformers.js: ${task === 'multiple-choice' ? 'AutoModel.from_pretrained' : `pipeline('${task}', `}('${opts.onnx}', { local_files_only: true })`);
      }
    });
}
