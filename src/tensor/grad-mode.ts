let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` without recording autograd history (PyTorch's `torch.no_grad()`). Works with sync and async functions. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    enabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    // Async bodies keep grad mode off until they settle; do not interleave other autograd work meanwhile.
    return result.finally(() => { enabled = prev; }) as T;
  }
  enabled = prev;
  return result;
}

export function setGradEnabled(flag: boolean): void {
  enabled = flag;
}
