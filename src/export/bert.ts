/**
 * BERT as one ONNX graph, traced from the model's own forward (src/models/bert) with the
 * checkpoint's parameter names as initializers:
 *
 *   inputs   input_ids, attention_mask, token_type_ids   int64 (batch_size, sequence_length),
 *            (batch_size, num_choices, sequence_length) for BertForMultipleChoice
 *   outputs  the head's outputs (HF's names: logits, start_logits/end_logits, prediction_logits/
 *            seq_relationship_logits, last_hidden_state/pooler_output), then attention_0 ..
 *            attention_{L-1}, each (batch_size, heads, sequence_length, sequence_length)
 */
import type { BertPreTrainedModel } from '../models/bert/pretrained.js';
import type { BertConfig } from '../models/bert/config.js';
import { noGrad } from '../tensor/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';
import { ExportError, type TraceOutput, type TracedGraph, example, exampleSizes, trace } from './trace.js';

/** Architectures export supports. */
export const BERT_ARCHITECTURES = [
  'BertModel', 'BertForMaskedLM', 'BertForPreTraining', 'BertForSequenceClassification', 'BertForTokenClassification',
  'BertForQuestionAnswering', 'BertForNextSentencePrediction', 'BertForMultipleChoice',
] as const;
export type BertArchitecture = (typeof BERT_ARCHITECTURES)[number];

interface Forward {
  lastHiddenState?: Tensor; poolerOutput?: Tensor | null; logits?: Tensor; startLogits?: Tensor; endLogits?: Tensor;
  predictionLogits?: Tensor; seqRelationshipLogits?: Tensor; attentions?: Tensor[];
}

/** The head's outputs by HF's names, with what they hold. */
function headOutputs(architecture: BertArchitecture, o: Forward): TraceOutput[] {
  const out = (name: string, tensor: Tensor | null | undefined, doc: string): TraceOutput => {
    if (!tensor) throw new ExportError(`export: ${architecture} has no ${name} (a BertModel without its pooler?)`);
    return { name, tensor, doc };
  };
  switch (architecture) {
    case 'BertModel': return [out('last_hidden_state', o.lastHiddenState, 'the last layer\'s states'), ...(o.poolerOutput ? [out('pooler_output', o.poolerOutput, 'tanh(dense(first token\'s state))')] : [])];
    case 'BertForMaskedLM': return [out('logits', o.logits, 'token scores per position')];
    case 'BertForPreTraining': return [out('prediction_logits', o.predictionLogits, 'MLM token scores per position'), out('seq_relationship_logits', o.seqRelationshipLogits, 'NSP scores, index 0 = "B follows A"')];
    case 'BertForNextSentencePrediction': return [out('logits', o.logits, 'index 0 = "B follows A"')];
    case 'BertForSequenceClassification': return [out('logits', o.logits, 'label scores (config.id2label)')];
    case 'BertForTokenClassification': return [out('logits', o.logits, 'label scores per token (config.id2label)')];
    case 'BertForQuestionAnswering': return [out('start_logits', o.startLogits, 'answer start scores'), out('end_logits', o.endLogits, 'answer end scores')];
    case 'BertForMultipleChoice': return [out('logits', o.logits, 'a score per choice')];
  }
}

/** Traces `model.forward` on example inputs; returns the graph and the names of its attention outputs. */
export function traceBert(model: BertPreTrainedModel, config: BertConfig, architecture: BertArchitecture): { graph: TracedGraph; attentions: string[] } {
  const choices = architecture === 'BertForMultipleChoice';
  const sizes = exampleSizes(model, choices ? 3 : 2, config.maxPositionEmbeddings, config);
  const [B, T] = sizes as [number, number];
  const shape = choices ? [B, sizes[2]!, T] : [B, T];
  const axes = choices ? ['batch_size', 'num_choices', 'sequence_length'] : ['batch_size', 'sequence_length'];
  const inputs = [
    example('input_ids', shape, axes, 'token ids: [CLS] A [SEP] (B [SEP]), padded', 'int32', (i) => i % config.vocabSize),
    example('attention_mask', shape, axes, '1 for tokens, 0 for padding', 'int32', 1),
    example('token_type_ids', shape, axes, '0 for segment A, 1 for B', 'int32', 0),
  ] as const;
  const forward = (model as unknown as { forward(x: Tensor, o: object): Forward }).forward.bind(model);
  const o = noGrad(() => forward(inputs[0].tensor, { attentionMask: inputs[1].tensor, tokenTypeIds: inputs[2].tensor, outputAttentions: true }));
  const attentions = o.attentions!.map((tensor, l) => ({ name: `attention_${l}`, tensor, doc: `layer ${l}'s attention probabilities` }));
  const graph = trace(architecture, model, inputs, [...headOutputs(architecture, o), ...attentions]);
  return { graph, attentions: attentions.map((a) => a.name) };
}
