/**
 * Greedy and beam search free of tensors: a decoder seen as plain arrays (RowDecoder: tokens in,
 * log-probabilities out), the loops over it (greedyDecode, beamDecode) and each sentence's
 * bookkeeping (greedyStep, SentenceBeam). zhuyi's greedySearch / beamSearch (search.ts, over a
 * model's tensors) and the runner of exported models (export/runner.ts, over ONNX Runtime, in
 * browsers too) both decode through them, so they keep the same hypotheses, finish them the same
 * way and stop at the same step.
 *
 * Each step, every live hypothesis proposes its 2K best next tokens (enough to fill K live beams
 * even if K of them end); the candidates, best first, either finish (EOS, or the length cap) or
 * fill the K live slots. The sentence closes when its best finished score beats what any live beam
 * could still reach (live log-probabilities only fall as they grow; with a length penalty the bound
 * is the score at the cap), or when nothing is left alive.
 */

/** What the core reads of a hypothesis; callers extend it (attention, per-step log-probabilities). */
export interface Scored {
  /** Output tokens, EOS excluded. */
  tokens: number[];
  /** Sum of token log-probabilities (EOS included when reached). */
  logProb: number;
}

export type Finished<H extends Scored> = H & { score: number };

export interface BeamSettings {
  beamSize: number;
  eos: number;
  /** Output tokens at most (EOS not counted): a hypothesis that reaches it finishes. */
  cap: number;
  /** GNMT length penalty exponent alpha: score = logProb / ((5 + |Y|) / 6)^alpha; 0 = raw log-probability. */
  lengthPenalty: number;
  /** Finished hypotheses wanted before the sentence may close (at most beamSize). */
  nBest: number;
}

/** Output tokens allowed (EOS not counted): maxLength, and ceil(sourceLength * ratio + offset) when both are given; at least 1. */
export function lengthCap(maxLength: number, sourceLength?: number, ratio?: number, offset = 0): number {
  const byRatio = sourceLength !== undefined && ratio !== undefined ? Math.ceil(sourceLength * ratio + offset) : Infinity;
  return Math.max(1, Math.min(maxLength, byRatio));
}

/**
 * One step of greedy search for one hypothesis: the most probable token of its row (the lowest id
 * among ties) ends it if it is EOS, else is appended; reaching `cap` tokens ends it too.
 */
export function greedyStep(h: Scored, logProbs: ArrayLike<number>, offset: number, V: number, eos: number, cap: number): { token: number; done: boolean } {
  let token = 0;
  for (let v = 1; v < V; v++) if (logProbs[offset + v]! > logProbs[offset + token]!) token = v;
  h.logProb += logProbs[offset + token]!;
  if (token !== eos) h.tokens.push(token);
  return { token, done: token === eos || h.tokens.length >= cap };
}

/** GNMT's length penalty ((5 + length) / 6)^alpha (Wu et al. 2016, eq. 14). */
export function lengthPenalty(length: number, alpha: number): number {
  return alpha === 0 ? 1 : ((5 + length) / 6) ** alpha;
}

/** Indices of the k largest values of a[offset .. offset+n), largest first; ties keep the lower index first. */
export function topIndices(a: ArrayLike<number>, offset: number, n: number, k: number): number[] {
  const idx: number[] = [];
  for (let v = 0; v < n; v++) {
    const x = a[offset + v]!;
    if (idx.length < k) {
      idx.push(v);
      idx.sort((p, q) => a[offset + q]! - a[offset + p]!);
    } else if (x > a[offset + idx[k - 1]!]!) {
      idx[k - 1] = v;
      for (let i = k - 1; i > 0 && a[offset + idx[i]!]! > a[offset + idx[i - 1]!]!; i--) [idx[i], idx[i - 1]] = [idx[i - 1]!, idx[i]!];
    }
  }
  return idx;
}

/**
 * Builds a child hypothesis: `base` holds its tokens (EOS dropped) and log-probability; the caller
 * adds what it tracks. `row` is the parent's index in `live`, `token` the token chosen.
 */
export type Extend<H extends Scored> = (parent: H, row: number, token: number, base: Scored) => H;

/** One sentence's beams. */
export class SentenceBeam<H extends Scored> {
  /** The live hypotheses, best first (one before the first step). */
  live: H[];
  readonly finished: Finished<H>[] = [];
  closed = false;

  constructor(readonly settings: BeamSettings, start: H) {
    this.live = [start];
  }

  /**
   * One step: `logProbs[(first + j) * V + v]` is log p(v) after live hypothesis j. Returns, for each
   * new live hypothesis, the index in the previous `live` of the one it continues (a closed
   * sentence returns none).
   */
  advance(logProbs: ArrayLike<number>, first: number, V: number, extend: Extend<H>): number[] {
    if (this.closed) return [];
    const { beamSize: K, eos, cap, lengthPenalty: alpha, nBest } = this.settings;
    const candidates: { row: number; token: number; logProb: number }[] = [];
    this.live.forEach((h, row) => {
      const offset = (first + row) * V;
      for (const v of topIndices(logProbs, offset, V, 2 * K)) candidates.push({ row, token: v, logProb: h.logProb + logProbs[offset + v]! });
    });
    candidates.sort((x, y) => y.logProb - x.logProb);
    const kept: H[] = [];
    const rows: number[] = [];
    for (const c of candidates) {
      const parent = this.live[c.row]!;
      const length = parent.tokens.length + 1;
      if (c.token === eos || length >= cap) {
        const child = extend(parent, c.row, c.token, { tokens: c.token === eos ? parent.tokens : [...parent.tokens, c.token], logProb: c.logProb });
        this.finished.push({ ...child, score: c.logProb / lengthPenalty(length, alpha) });
        continue;
      }
      if (kept.length < K) {
        kept.push(extend(parent, c.row, c.token, { tokens: [...parent.tokens, c.token], logProb: c.logProb }));
        rows.push(c.row);
      }
      if (kept.length === K && this.finished.length >= nBest) break;
    }
    const best = Math.max(-Infinity, ...this.finished.map((h) => h.score));
    const bestLive = kept.length ? kept[0]!.logProb / lengthPenalty(cap, alpha) : -Infinity;
    if (kept.length === 0 || (this.finished.length >= nBest && best >= (alpha > 0 ? bestLive : kept[0]!.logProb))) this.closed = true;
    this.live = kept;
    return rows;
  }

  /** The nBest hypotheses by score: the finished ones, or the live ones if none finished. */
  best(): Finished<H>[] {
    const alpha = this.settings.lengthPenalty;
    const all = this.finished.length ? this.finished : this.live.map((h) => ({ ...h, score: h.logProb / lengthPenalty(h.tokens.length, alpha) }));
    return [...all].sort((x, y) => y.score - x.score).slice(0, this.settings.nBest);
  }
}

// ---- the search loops, over a decoder seen as plain arrays --------------------------------------

/** One decoder step's results: log p of the next token (rows, V) and the step's attention (rows, A), if any. */
export interface RowStep { logProbs: ArrayLike<number>; V: number; attention: ArrayLike<number> | null }

/**
 * A decoder over plain arrays: zhuyi's DecoderStepper on tensors (search.ts) or an export's graphs
 * on ONNX Runtime (export/runner.ts), so both decode through the same loops.
 */
export interface RowDecoder {
  /**
   * One step for every row: `last[r]` is row r's newest token (EOS for a finished row or one that
   * pads a sentence's beams), `prefixes[r]` a live row's tokens so far, BOS first.
   */
  step(last: readonly number[], prefixes: readonly (readonly number[])[], t: number): Promise<RowStep>;
  /** Keeps the state rows `rows` (repeated as listed) for the next step. */
  select(rows: readonly number[]): void;
}

/** A decoded hypothesis, with log p of each chosen token (EOS included) and, per step, its attention row (null without attention). */
export interface Decoded extends Scored { score: number; stepLogProbs: number[]; attention: number[][] | null }

const startDecoded = (): Decoded => ({ tokens: [], logProb: 0, score: 0, stepLogProbs: [], attention: null });
const rowOf = (a: ArrayLike<number>, row: number, A: number): number[] => Array.from({ length: A }, (_, i) => a[row * A + i]!);

/** Greedy search of a batch, one sentence per row, each until EOS or its length cap. */
export async function greedyDecode(decoder: RowDecoder, caps: readonly number[], bos: number, eos: number): Promise<Decoded[]> {
  const hyps = caps.map(startDecoded);
  const done = caps.map(() => false);
  let last = caps.map(() => bos);
  for (let t = 0; t < Math.max(...caps) && done.some((d) => !d); t++) {
    const { logProbs, V, attention } = await decoder.step(last, hyps.map((h) => [bos, ...h.tokens]), t);
    const A = attention ? attention.length / last.length : 0;
    last = hyps.map((h, b) => {
      if (done[b]) return eos;
      const r = greedyStep(h, logProbs, b * V, V, eos, caps[b]!);
      h.stepLogProbs.push(logProbs[b * V + r.token]!);
      if (attention) (h.attention ??= []).push(rowOf(attention, b, A));
      done[b] = r.done;
      return r.token;
    });
  }
  for (const h of hyps) h.score = h.logProb;
  return hyps;
}

/**
 * Beam search of a batch: every sentence keeps `beamSize` live rows (one before the first step),
 * each sentence's bookkeeping a SentenceBeam. Rows of a closed sentence, and the slots its kept
 * beams leave, repeat its row 0 and feed EOS (the shapes stay fixed) until every sentence closes.
 */
export async function beamDecode(decoder: RowDecoder, caps: readonly number[], settings: Omit<BeamSettings, 'cap'>, bos: number): Promise<Finished<Decoded>[][]> {
  const K = settings.beamSize;
  const beams = caps.map((cap) => new SentenceBeam<Decoded>({ ...settings, cap }, startDecoded()));
  let rowsPerSentence = 1;
  let last = caps.map(() => bos);
  let prefixes = caps.map(() => [bos]);
  for (let t = 0; t < Math.max(...caps); t++) {
    const { logProbs, V, attention } = await decoder.step(last, prefixes, t);
    const A = attention ? attention.length / last.length : 0;
    const pick: number[] = [];
    last = [];
    prefixes = [];
    beams.forEach((beam, b) => {
      const first = b * rowsPerSentence;
      const rows = beam.advance(logProbs, first, V, (parent, row, token, base) => ({
        ...base, score: 0, stepLogProbs: [...parent.stepLogProbs, logProbs[(first + row) * V + token]!],
        attention: attention ? [...(parent.attention ?? []), rowOf(attention, first + row, A)] : null,
      }));
      for (let j = 0; j < K; j++) {
        const h = j < rows.length ? beam.live[j]! : null;
        pick.push(first + (rows[j] ?? 0));
        last.push(h ? h.tokens[h.tokens.length - 1]! : settings.eos);
        prefixes.push(h ? [bos, ...h.tokens] : [bos, ...(beam.live[0]?.tokens.slice(0, -1) ?? []), settings.eos]);
      }
    });
    if (beams.every((beam) => beam.closed)) break;
    decoder.select(pick);
    rowsPerSentence = K;
  }
  return beams.map((beam) => beam.best());
}
