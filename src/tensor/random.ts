/**
 * One seeded generator drives every random number zhuyi draws: parameter init, dropout masks,
 * data shuffling. xoshiro128** (Blackman & Vigna), seeded through splitmix32; its state is four
 * uint32 words, so it is cheap to save in a checkpoint and restore for an exact resume.
 */
export class Generator {
  private s = new Uint32Array(4);
  /** A second normal from Box-Muller, kept so that randn(n) is the same whether drawn in one call or many. */
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  manualSeed(seed: number): this {
    let x = (Math.trunc(seed) >>> 0) ^ Math.trunc(seed / 2 ** 32);
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
    this.spareNormal = null;
    return this;
  }

  /** Next uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 24 random bits (exactly representable in float32). */
  random(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /**
   * An inverted-dropout mask of n elements: `scale` where `random() >= p`, else 0. Exactly the draws
   * of n calls to random(), with the generator's state in locals and the comparison on the 24-bit
   * integer (the masks of one Transformer step are millions of draws; this is 2-3x faster).
   */
  dropoutMask(n: number, p: number, scale = 1): Float32Array {
    const out = new Float32Array(n);
    // (u >>> 8) / 2^24 >= p  <=>  (u >>> 8) >= ceil(p * 2^24), exactly: the division by 2^24 is exact.
    const threshold = Math.ceil(p * 16777216);
    let s0 = this.s[0]!, s1 = this.s[1]!, s2 = this.s[2]!, s3 = this.s[3]!;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 8;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = r >= threshold ? scale : 0;
    }
    this.s[0] = s0; this.s[1] = s1; this.s[2] = s2; this.s[3] = s3;
    return out;
  }

  /** Uniform integer in [low, high). */
  randint(low: number, high: number): number {
    const span = high - low;
    // Multiply-shift on 32 bits: bias below 2^-32 * span, fine for shuffles and masks.
    return low + Math.floor((this.nextUint32() / 4294967296) * span);
  }

  /** Standard normal (Box-Muller on two uniforms in (0, 1]). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    const u1 = 1 - this.random();
    const u2 = this.random();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.randint(0, i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }

  getState(): number[] {
    return [...this.s, this.spareNormal === null ? NaN : this.spareNormal];
  }

  setState(state: readonly number[]): this {
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
    const spare = state[4];
    this.spareNormal = spare === undefined || Number.isNaN(spare) ? null : spare;
    return this;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The process-wide default generator, reset by `manualSeed`. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator: the same seed gives the same init, dropout masks and data order. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
