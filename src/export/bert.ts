/**
 * BERT as one ONNX graph with dynamic batch and sequence axes, written from the module tree of
 * src/models/bert (HF's modeling_bert.py) with the checkpoint's parameter names as initializers.
 *
 *   inputs   input_ids, attention_mask, token_type_ids   int64 (batch, sequence)
 *   outputs  the head's outputs (HF's names: logits, start_logits/end_logits, prediction_logits/
 *            seq_relationship_logits, last_hidden_state/pooler_output), then attention_0 ..
 *            attention_{L-1}, each (batch, heads, sequence, sequence)
 *
 * The mask follows HF's get_extended_attention_mask: (1 - mask) * finfo(float32).min added to the
 * scores, so padded keys get ~0 weight and a fully masked row is uniform, never NaN.
 */
import type { BertConfig } from '../models/bert/config.js';
import type { TensorInfo } from './manifest.js';
import { type GraphBuilder, ONNX_FLOAT } from './onnx-builder.js';
import { ExportError, type Weights } from './weights.js';

const FLOAT32_MIN = -3.4028234663852886e38;

/** Architectures export supports, with their graph outputs (besides the attentions). */
export const BERT_ARCHITECTURES = [
  'BertModel', 'BertForMaskedLM', 'BertForPreTraining', 'BertForSequenceClassification', 'BertForTokenClassification',
  'BertForQuestionAnswering', 'BertForNextSentencePrediction',
] as const;
export type BertArchitecture = (typeof BERT_ARCHITECTURES)[number];

const BATCH = 'batch';
const SEQ = 'sequence';

/** HF's ACT2FN for BERT's hidden_act values. */
function activation(b: GraphBuilder, x: string, name: string): string {
  switch (name) {
    case 'gelu': { // 0.5 x (1 + erf(x / sqrt 2))
      const erf = b.op('Erf', [b.op('Mul', [x, b.scalar(Math.SQRT1_2)])]);
      return b.op('Mul', [b.op('Mul', [x, b.scalar(0.5)]), b.op('Add', [erf, b.scalar(1)])], {}, 'gelu');
    }
    case 'gelu_new':
    case 'gelu_pytorch_tanh': { // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const cube = b.op('Mul', [b.op('Mul', [x, x]), x]);
      const inner = b.op('Mul', [b.op('Add', [x, b.op('Mul', [cube, b.scalar(0.044715)])]), b.scalar(Math.sqrt(2 / Math.PI))]);
      return b.op('Mul', [b.op('Mul', [x, b.scalar(0.5)]), b.op('Add', [b.op('Tanh', [inner]), b.scalar(1)])], {}, 'gelu');
    }
    case 'relu': return b.op('Relu', [x]);
    case 'silu':
    case 'swish': return b.op('Mul', [x, b.op('Sigmoid', [x])], {}, 'silu');
    case 'tanh': return b.op('Tanh', [x]);
    default: throw new ExportError(`export: hidden_act '${name}' has no ONNX lowering`);
  }
}

/**
 * Emits BERT into `b`; `prefix` is 'bert.' for headed checkpoints, '' for BertModel. Returns the
 * output infos (head outputs first, then attentions).
 */
export function emitBert(b: GraphBuilder, w: Weights, config: BertConfig, architecture: BertArchitecture): { outputs: TensorInfo[]; attentions: string[] } {
  const base = architecture === 'BertModel' ? '' : 'bert.';
  const W = (key: string): string => w.init(b, key);
  const [C, H, D, L] = [config.hiddenSize, config.numAttentionHeads, config.attentionHeadSize, config.numHiddenLayers];
  const eps = config.layerNormEps;

  const ids = b.input('input_ids', 7, [BATCH, SEQ]);
  const mask = b.input('attention_mask', 7, [BATCH, SEQ]);
  const types = b.input('token_type_ids', 7, [BATCH, SEQ]);

  // 1. Embeddings: (word + token_type) + position, LayerNorm (HF's order of the sums).
  const e = `${base}embeddings.`;
  const positions = b.range(b.dimScalar(ids, 1)); // (T)
  let x = b.op('Add', [b.op('Gather', [W(`${e}word_embeddings.weight`), ids]), b.op('Gather', [W(`${e}token_type_embeddings.weight`), types])]); // (B, T, C)
  x = b.op('Add', [x, b.op('Gather', [W(`${e}position_embeddings.weight`), positions])], {}, 'embeddings');
  x = b.layerNorm(x, W(`${e}LayerNorm.weight`), W(`${e}LayerNorm.bias`), eps);

  // 2. The extended mask: (B, T) -> (B, 1, 1, T), (1 - mask) * finfo.min.
  const m4 = b.op('Unsqueeze', [b.op('Cast', [mask], { to: ONNX_FLOAT }), b.constant([1, 2])]);
  const additive = b.op('Mul', [b.op('Sub', [b.scalar(1), m4]), b.scalar(FLOAT32_MIN)], {}, 'extended_mask');

  // 3. The encoder layers.
  const probsOf: string[] = [];
  const heads = (t: string, perm: number[]): string => b.op('Transpose', [b.op('Reshape', [t, b.constant([0, 0, H, D])])], { perm }); // (B, T, C) -> (B, T, H, D) -> perm
  for (let l = 0; l < L; l++) {
    const p = `${base}encoder.layer.${l}.`;
    const lin = (x0: string, name: string): string => b.linear(x0, W(`${p}${name}.weight`), W(`${p}${name}.bias`), name.replace(/\./g, '_'));
    const q = heads(lin(x, 'attention.self.query'), [0, 2, 1, 3]); // (B, H, T, D)
    const kT = heads(lin(x, 'attention.self.key'), [0, 2, 3, 1]); // (B, H, D, T)
    const v = heads(lin(x, 'attention.self.value'), [0, 2, 1, 3]); // (B, H, T, D)
    // HF divides the scores after the matmul.
    const scores = b.op('Add', [b.op('Div', [b.op('MatMul', [q, kT]), b.scalar(Math.sqrt(D))]), additive], {}, 'scores'); // (B, H, T, T)
    const probs = b.op('Softmax', [scores], { axis: -1 }, `attention_probs_${l}`);
    probsOf.push(probs);
    const context = b.op('Reshape', [b.op('Transpose', [b.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), b.constant([0, 0, C])]); // (B, H, T, D) -> (B, T, H, D) -> (B, T, C)
    const attended = b.layerNorm(b.op('Add', [lin(context, 'attention.output.dense'), x]), W(`${p}attention.output.LayerNorm.weight`), W(`${p}attention.output.LayerNorm.bias`), eps);
    const inner = activation(b, lin(attended, 'intermediate.dense'), config.hiddenAct);
    x = b.layerNorm(b.op('Add', [lin(inner, 'output.dense'), attended]), W(`${p}output.LayerNorm.weight`), W(`${p}output.LayerNorm.bias`), eps);
  }

  // 4. The head.
  const outputs: TensorInfo[] = [];
  const out = (name: string, value: string, axes: (string | number)[], doc: string): void => {
    b.output(name, value, ONNX_FLOAT, axes);
    outputs.push({ name, dtype: 'float32', axes, doc });
  };
  const pooled = (): string => {
    if (!w.has(`${base}pooler.dense.weight`)) throw new ExportError(`export: ${architecture} needs the pooler, and the checkpoint has none`);
    const first = b.op('Gather', [x, b.constant([0], [])], { axis: 1 }); // (B, T, C) -> (B, C)
    return b.op('Tanh', [b.linear(first, W(`${base}pooler.dense.weight`), W(`${base}pooler.dense.bias`), 'pooler')], {}, 'pooler_output');
  };
  const mlm = (): string => {
    const t = 'cls.predictions.transform.';
    let h = activation(b, b.linear(x, W(`${t}dense.weight`), W(`${t}dense.bias`), 'transform'), config.hiddenAct);
    h = b.layerNorm(h, W(`${t}LayerNorm.weight`), W(`${t}LayerNorm.bias`), eps);
    // The decoder is tied to the word embeddings; its bias is cls.predictions.bias.
    return b.linear(h, W(`${base}embeddings.word_embeddings.weight`), W('cls.predictions.bias'), 'mlm_logits');
  };
  const K = config.numLabels;
  switch (architecture) {
    case 'BertModel':
      out('last_hidden_state', x, [BATCH, SEQ, C], 'the last layer\'s states');
      if (w.has('pooler.dense.weight')) out('pooler_output', pooled(), [BATCH, C], 'tanh(dense(first token\'s state))');
      break;
    case 'BertForMaskedLM':
      out('logits', mlm(), [BATCH, SEQ, config.vocabSize], 'token scores per position');
      break;
    case 'BertForPreTraining':
      out('prediction_logits', mlm(), [BATCH, SEQ, config.vocabSize], 'MLM token scores per position');
      out('seq_relationship_logits', b.linear(pooled(), W('cls.seq_relationship.weight'), W('cls.seq_relationship.bias'), 'nsp'), [BATCH, 2], 'NSP scores, index 0 = "B follows A"');
      break;
    case 'BertForNextSentencePrediction':
      out('logits', b.linear(pooled(), W('cls.seq_relationship.weight'), W('cls.seq_relationship.bias'), 'nsp'), [BATCH, 2], 'index 0 = "B follows A"');
      break;
    case 'BertForSequenceClassification':
      out('logits', b.linear(pooled(), W('classifier.weight'), W('classifier.bias'), 'classifier'), [BATCH, K], 'label scores (config.id2label)');
      break;
    case 'BertForTokenClassification':
      out('logits', b.linear(x, W('classifier.weight'), W('classifier.bias'), 'classifier'), [BATCH, SEQ, K], 'label scores per token (config.id2label)');
      break;
    case 'BertForQuestionAnswering': {
      const logits = b.linear(x, W('qa_outputs.weight'), W('qa_outputs.bias'), 'qa'); // (B, T, 2)
      const pick = (i: number): string => b.op('Squeeze', [b.op('Slice', [logits, b.constant([i]), b.constant([i + 1]), b.constant([2])]), b.constant([2])]); // (B, T, 2) -> (B, T)
      out('start_logits', pick(0), [BATCH, SEQ], 'answer start scores');
      out('end_logits', pick(1), [BATCH, SEQ], 'answer end scores');
      break;
    }
  }
  // 5. The attention probabilities of every layer, after the head's outputs.
  const attentions = probsOf.map((probs, l) => {
    const name = `attention_${l}`;
    b.output(name, probs, ONNX_FLOAT, [BATCH, H, SEQ, SEQ]);
    outputs.push({ name, dtype: 'float32', axes: [BATCH, H, SEQ, SEQ], doc: `layer ${l}'s attention probabilities` });
    return name;
  });
  return { outputs, attentions };
}
