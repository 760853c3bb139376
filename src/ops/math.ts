/** Scalar math the kernels need and JavaScript lacks. */

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * Error function to double precision: Maclaurin series below |x| = 3 (terms stay small enough that
 * cancellation costs under 4 digits), Lentz's continued fraction for erfc above.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return TWO_OVER_SQRT_PI * sum;
  }
  if (ax > 6) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = ax + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export const SQRT1_2 = Math.SQRT1_2;
export const INV_SQRT_2PI = 0.3989422804014327;
/** sqrt(2/pi), the tanh-approximation GELU constant. */
export const SQRT_2_OVER_PI = 0.7978845608028654;

export function geluExact(x: number): number {
  return 0.5 * x * (1 + erf(x * SQRT1_2));
}

export function geluTanh(x: number): number {
  // 0.5 (1 + tanh u) written as sigmoid(2u), without the cancellation near u << 0.
  return x / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}
