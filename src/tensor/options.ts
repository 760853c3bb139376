/**
 * Options objects are checked: JavaScript callers get no type error for a misspelt key, so without a
 * check `layer.forward(x, { srcMsk: causal })` would silently run unmasked. Every public function and
 * module method taking an options object passes it through `checkOptions` first.
 */
import { ArgumentError } from './errors.js';

/** Every key of T exactly once (a missing or unknown key is a compile error where it is written). */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: 1 };

/**
 * Returns `options` (or `{}` when it is undefined or null) after checking that every key whose value
 * is not undefined is one of `accepted`'s. `aliases` maps other accepted names (PyTorch's, where they differ) to zhuyi's:
 * the returned object then holds zhuyi's name. A snake_case key (`src_mask`) is read as its camelCase
 * form. An unknown key throws ArgumentError naming `where`, the key, a close accepted key ("did you
 * mean"), and the accepted keys.
 */
export function checkOptions<T extends object>(
  where: string,
  options: T | null | undefined,
  accepted: OptionKeys<NoInfer<T>>,
  aliases: Readonly<Record<string, keyof T & string>> = {},
): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ArgumentError(`${where}: options must be an object, got ${Array.isArray(options) ? 'an array' : typeof options}`);
  }
  let renamed: Record<string, unknown> | null = null;
  for (const key of Object.keys(options)) {
    // An unknown key set to undefined passes: it says "not given", as an absent key does (objects
    // spread from a wider options type carry such keys).
    if (Object.hasOwn(accepted, key) || (options as Record<string, unknown>)[key] === undefined) continue;
    const target = Object.hasOwn(aliases, key) ? aliases[key]! : canonical(key, accepted, aliases);
    if (target === null) throw new ArgumentError(unknownMessage(where, key, Object.keys(accepted), Object.keys(aliases)));
    const out: Record<string, unknown> = (renamed ??= { ...(options as Record<string, unknown>) });
    const value = out[key];
    delete out[key];
    if (out[target] !== undefined && value !== undefined) {
      throw new ArgumentError(`${where}: options '${key}' and '${target}' are the same option; pass one`);
    }
    if (value !== undefined) out[target] = value;
  }
  return (renamed ?? options) as T;
}

/** The accepted key a snake_case key (`key_padding_mask`, `src_mask`) names, or null. */
function canonical(key: string, accepted: object, aliases: Readonly<Record<string, string>>): string | null {
  if (!key.includes('_')) return null;
  const camel = key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  if (Object.hasOwn(accepted, camel)) return camel;
  if (Object.hasOwn(aliases, camel)) return aliases[camel]!;
  return null;
}

function unknownMessage(where: string, key: string, accepted: readonly string[], aliases: readonly string[]): string {
  const close = closest(key, [...accepted, ...aliases]);
  const also = aliases.length > 0 ? ` (also PyTorch's ${aliases.map((a) => `'${a}'`).join(', ')})` : '';
  const list = accepted.length > 0 ? `accepted: ${accepted.map((a) => `'${a}'`).join(', ')}${also}` : 'it takes no options';
  return `${where}: unknown option '${key}'${close ? `; did you mean '${close}'?` : ''} (${list})`;
}

/** The candidate closest to `key` by edit distance (ignoring case and underscores), if close enough to be a typo. */
function closest(key: string, candidates: readonly string[]): string | null {
  const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(norm(key), norm(c));
    if (d < bestDistance) { best = c; bestDistance = d; }
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(Math.min(key.length, best.length) / 3)) ? best : null;
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
