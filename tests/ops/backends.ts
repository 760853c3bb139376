/** Backends the op suite runs on: ZHUYI_TEST_BACKENDS (comma list), default every built-in backend. */
export function backendsUnderTest(): string[] {
  return (process.env.ZHUYI_TEST_BACKENDS ?? 'js,ort').split(',').map((s) => s.trim()).filter(Boolean);
}
