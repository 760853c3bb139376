/**
 * The RNN encoder-decoder: Sutskever, Vinyals & Le 2014, "Sequence to Sequence Learning with Neural
 * Networks" (stacked LSTMs) and Cho et al. 2014, "Learning Phrase Representations using RNN
 * Encoder-Decoder for Statistical Machine Translation" (the GRU).
 *
 * The encoder reads the source x_1..x_S into its final state; the decoder starts from that state
 * and models p(y_1..y_T | x) = Π_t p(y_t | v, y_1..y_{t-1}) (Sutskever eq. 1), where v is the
 * encoder's final state. v is the ONLY bridge between the two: the whole sentence has to pass
 * through one fixed-size vector per layer, the bottleneck that attention (attention-seq2seq.ts)
 * removes.
 *
 * Parameters (L layers, E embDim, H hidden, G = 4H for the LSTM, 3H for the GRU; names as in the
 * widely read PyTorch seq2seq tutorials, e.g. bentrevett/pytorch-seq2seq):
 *   encoder.embedding.weight                       (V_src, E)
 *   encoder.rnn.weight_ih_l{k}  (G, E | H)   encoder.rnn.weight_hh_l{k} (G, H)   bias_ih_l{k}, bias_hh_l{k} (G)
 *   decoder.embedding.weight                       (V_tgt, E)
 *   decoder.rnn.*                                  as encoder.rnn
 *   decoder.fc_out.weight (V_tgt, H)   decoder.fc_out.bias (V_tgt)
 * With feedContext (Cho et al.), decoder.rnn.weight_ih_l0 is (G, E + H) and fc_out reads
 * [h_t; c; E y_{t-1}] (V_tgt, 2H + E); with maxout l, decoder.readout (2l, ·) comes first and
 * fc_out is (V_tgt, l).
 *
 * Sutskever et al. §3.3 read the source backwards ("we reversed the order of the words in all source
 * sentences, but not the target sentences"): `reverseSource` does that inside the encoder, for each
 * sentence's own tokens (padding stays at the end), so the first target words start close to the
 * words they translate. It is off by default; the `base` preset turns it on.
 *
 * Deviations, written down here once:
 * - Cho et al. also feed the summary c to every decoder step and to the output layer, through a
 *   maxout deep output. By default this model keeps Sutskever's form (the initial state only);
 *   `feedContext` and `maxout` give Cho's. Either way c is one fixed vector, the encoder's final
 *   (top-layer) state: the bottleneck stays, which is the point of the lesson.
 * - Dropout (Zaremba et al. 2014) on the embeddings, between layers and before the output layer;
 *   the papers used none.
 */
import { type DecoderStepper } from '../../decode/search.js';
import * as init from '../../nn/init.js';
import { Dropout, Embedding, Linear } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import { GRU, LSTM } from '../../nn/rnn.js';
import * as F from '../../ops/functional.js';
import { ArgumentError } from '../../tensor/errors.js';
import { type Generator, defaultGenerator } from '../../tensor/random.js';
import { Tensor } from '../../tensor/tensor.js';
import { type TranslateOptions, type TranslationConfig, checkMaxout, checkSource, checkTarget, checkTranslationConfig, deepOutput, sourcePositions, translateWith } from './common.js';
import { checkOptions } from '../../tensor/options.js';

export interface Seq2SeqConfig extends TranslationConfig {
  /** 'lstm' (Sutskever et al.; default) or 'gru' (Cho et al.). */
  cell?: 'gru' | 'lstm';
  /** Embedding width E (default 256; Sutskever: 1000). */
  embDim?: number;
  /** Hidden size H of every layer of both RNNs (default 512; Sutskever: 1000). */
  hidden?: number;
  /** Stacked layers L, the same in encoder and decoder so the states line up (default 2; Sutskever: 4). */
  numLayers?: number;
  /** Dropout in training mode (default 0.2). */
  dropout?: number;
  /** Cho et al.: the summary c (the encoder's top-layer final state) also enters every decoder step and the output layer (default false). */
  feedContext?: boolean;
  /** Maxout units l of Cho et al.'s deep output before the vocabulary projection (the paper: 500); 0 (default) = one linear layer. */
  maxout?: number;
  /** Sutskever et al.: the encoder reads each source sentence backwards (default false). */
  reverseSource?: boolean;
}

/**
 * Gather indices (B, S) that reverse each row's first length tokens and leave its padding in place
 * (ONNX ReverseSequence): a constant from numbers, ops from an int32 tensor (an exported graph's).
 */
export function reversedSourceIndex(srcLengths: readonly number[] | Tensor, S: number): Tensor {
  if (srcLengths instanceof Tensor) {
    const [s, n] = [F.unsqueeze(sourcePositions(S), 0), F.unsqueeze(srcLengths, 1)]; // (1, S), (B, 1)
    return F.where(F.lt(s, n), F.sub(F.sub(n, 1), s), s); // (B, S): n-1-s inside the row, s after it
  }
  const idx = new Int32Array(srcLengths.length * S);
  srcLengths.forEach((n, b) => {
    for (let s = 0; s < S; s++) idx[b * S + s] = s < n ? n - 1 - s : s;
  });
  return Tensor.fromBuffer(idx, [srcLengths.length, S]);
}

/** The decoder state: h (L, B, H), c (L, B, H) for the LSTM, and the summary `context` (B, H) with feedContext. */
export interface RnnState {
  h: Tensor;
  c: Tensor | null;
  context?: Tensor | null;
}

type Rnn = GRU | LSTM;

/** Runs a GRU or LSTM over x (B, T, E) from state s (zeros when null); returns outputs (B, T, H) and the final state. */
function runRnn(rnn: Rnn, x: Tensor, s: RnnState | null, lengths?: readonly number[] | Tensor): [Tensor, RnnState] {
  const options = lengths ? { lengths } : {};
  if (rnn instanceof LSTM) {
    const [out, [h, c]] = rnn.forward(x, s ? [s.h, s.c!] : null, options);
    return [out, { h, c }];
  }
  const [out, h] = rnn.forward(x, s?.h ?? null, options);
  return [out, { h, c: null }];
}

function makeRnn(cell: 'gru' | 'lstm', embDim: number, hidden: number, numLayers: number, dropout: number, generator: Generator): Rnn {
  const o = { numLayers, dropout, batchFirst: true, generator };
  if (cell === 'lstm') return new LSTM(embDim, hidden, o);
  if (cell === 'gru') return new GRU(embDim, hidden, o);
  throw new ArgumentError(`Seq2Seq: cell must be 'gru' or 'lstm', got '${String(cell)}'`);
}

/** Reads the source into the final state v = (h_S, c_S) of every layer. Padded steps are skipped (rnn.ts `lengths`). */
export class Seq2SeqEncoder extends Module {
  embedding: Embedding;
  rnn: Rnn;
  dropout: Dropout;
  private readonly reverseSource: boolean;
  constructor(c: Required<Seq2SeqConfig>, generator: Generator) {
    super();
    this.embedding = new Embedding(c.srcVocabSize, c.embDim, { paddingIdx: c.padId, generator });
    this.rnn = makeRnn(c.cell, c.embDim, c.hidden, c.numLayers, c.dropout, generator);
    this.dropout = new Dropout(c.dropout, generator);
    this.reverseSource = c.reverseSource;
  }
  forward(src: Tensor, srcLengths: readonly number[] | Tensor): RnnState {
    if (this.reverseSource) src = F.gather(src, 1, reversedSourceIndex(srcLengths, src.shape[1]!)); // x_S..x_1, then the padding
    const x = this.dropout.forward(this.embedding.forward(src)); // (B, S) -> (B, S, E)
    return runRnn(this.rnn, x, null, srcLengths)[1]; // each (L, B, H): the state at each sentence's own last token
  }
}

/** Predicts y_t from y_{t-1} and the running state, which starts as the encoder's v. */
export class Seq2SeqDecoder extends Module {
  embedding: Embedding;
  rnn: Rnn;
  dropout: Dropout;
  readout: Linear | null = null;
  fc_out: Linear;
  constructor(c: Required<Seq2SeqConfig>, generator: Generator) {
    super();
    this.embedding = new Embedding(c.tgtVocabSize, c.embDim, { paddingIdx: c.padId, generator });
    this.rnn = makeRnn(c.cell, c.embDim + (c.feedContext ? c.hidden : 0), c.hidden, c.numLayers, c.dropout, generator);
    this.dropout = new Dropout(c.dropout, generator);
    const featureDim = c.feedContext ? 2 * c.hidden + c.embDim : c.hidden;
    if (c.maxout > 0) this.readout = new Linear(featureDim, 2 * c.maxout, { generator });
    this.fc_out = new Linear(c.maxout > 0 ? c.maxout : featureDim, c.tgtVocabSize, { generator });
  }
  /** tgtIn (B, T) from state s -> logits (B, T, V) and the state after the last step. */
  forward(tgtIn: Tensor, s: RnnState): [Tensor, RnnState] {
    const y = this.dropout.forward(this.embedding.forward(tgtIn)); // (B, T) -> (B, T, E)
    const context = s.context ?? null;
    if (!context) {
      const [out, next] = runRnn(this.rnn, y, s); // (B, T, H)
      return [deepOutput(this.readout, this.fc_out, this.dropout.forward(out)), next]; // (B, T, H) -> (B, T, V)
    }
    // Cho et al.: c enters every step, h_t = f(h_{t-1}, y_{t-1}, c), and the output g(h_t, y_{t-1}, c).
    const [B, T] = [y.shape[0]!, y.shape[1]!];
    const c = F.expand(F.unsqueeze(context, 1), [B, T, context.shape[1]!]); // (B, H) -> (B, T, H)
    const [out, next] = runRnn(this.rnn, F.cat([y, c], 2), s); // (B, T, E + H) -> (B, T, H)
    const features = F.cat([this.dropout.forward(out), c, y], 2); // (B, T, 2H + E)
    return [deepOutput(this.readout, this.fc_out, features), { ...next, context }];
  }
}

/** Sutskever et al. 2014 §3.4: "We initialized all of the LSTM's parameters with the uniform distribution between -0.08 and 0.08". */
function initSeq2Seq(model: Seq2Seq, padId: number, generator: Generator): void {
  for (const p of model.parameters()) p.buffer = init.uniform(p.shape, -0.08, 0.08, generator).buffer;
  for (const emb of [model.encoder.embedding, model.decoder.embedding]) {
    const E = emb.embeddingDim;
    emb.weight.buffer!.fill(0, padId * E, (padId + 1) * E); // the padding row stays zero, as nn.Embedding's padding_idx
  }
}

/** The encoder-decoder; see the file comment. */
export class Seq2Seq extends Module {
  encoder: Seq2SeqEncoder;
  decoder: Seq2SeqDecoder;
  readonly config: Required<Seq2SeqConfig>;

  constructor(config: Seq2SeqConfig, options: { generator?: Generator } = {}) {
    const { generator = defaultGenerator } = checkOptions('Seq2Seq', options, { generator: 1 });
    super();
    checkTranslationConfig('Seq2Seq', config);
    this.config = { cell: 'lstm', embDim: 256, hidden: 512, numLayers: 2, dropout: 0.2, feedContext: false, maxout: 0, reverseSource: false, ...config };
    checkMaxout('Seq2Seq', this.config.maxout);
    this.encoder = new Seq2SeqEncoder(this.config, generator);
    this.decoder = new Seq2SeqDecoder(this.config, generator);
    initSeq2Seq(this, this.config.padId, generator);
  }

  /** Teacher forcing: src (B, S), srcLengths, tgtIn (B, T) = [BOS, y_1, ...] -> logits (B, T, V). */
  forward(src: Tensor, srcLengths: readonly number[], tgtIn: Tensor): Tensor {
    const [B] = checkSource('Seq2Seq', src, srcLengths);
    checkTarget('Seq2Seq', tgtIn, B);
    const v = this.encode(src, srcLengths); // 1. encode: v = final state, (L, B, H)
    return this.decoder.forward(tgtIn, v)[0]; // 2. decode from v, one step per target position
  }

  /** The encoder's final state v, with the summary c = v's top layer (B, H) when feedContext. */
  encode(src: Tensor, srcLengths: readonly number[] | Tensor): RnnState {
    const v = this.encoder.forward(src, srcLengths);
    if (!this.config.feedContext) return v;
    const L = v.h.shape[0]!;
    return { ...v, context: F.squeeze(F.slice(v.h, 0, L - 1, L), 0) }; // (1, B, H) -> (B, H)
  }

  /** For greedySearch / beamSearch: the state is the decoder's (h, c); it starts as the encoder's v. */
  stepper(src: Tensor, srcLengths: readonly number[]): { stepper: DecoderStepper<RnnState>; initial: RnnState } {
    checkSource('Seq2Seq', src, srcLengths);
    const initial = this.encode(src, srcLengths);
    const stepper: DecoderStepper<RnnState> = {
      step: (last, state) => {
        const [logits, next] = this.decoder.forward(F.unsqueeze(last, 1), state); // (rows) -> (rows, 1) -> (rows, 1, V)
        const logProbs = F.logSoftmax(F.squeeze(logits, 1), -1); // (rows, V)
        return { logProbs, state: next, stateTensors: [next.h, next.c, next.context] };
      },
      select: (s, rows) => ({ // rows of (L, rows, H), and of the context (rows, H)
        h: F.indexSelect(s.h, 1, rows), c: s.c && F.indexSelect(s.c, 1, rows), context: s.context ? F.indexSelect(s.context, 0, rows) : null,
      }),
    };
    return { stepper, initial };
  }

  /** Greedy (beamSize 1, default) or beam search, in eval mode; the best token ids per sentence, without BOS/EOS. */
  async translate(src: Tensor, srcLengths: readonly number[], options: TranslateOptions): Promise<number[][]> {
    options = checkOptions('Seq2Seq.translate', options, { beamSize: 1, maxLength: 1, maxLengthRatio: 1, maxLengthOffset: 1, lengthPenalty: 1 });
    return (await translateWith(this, src, srcLengths, options)).map((h) => h.tokens);
  }
}
