/**
 * Options objects are checked everywhere in the public API. The walk below reads src/index.ts with the
 * TypeScript compiler, finds every exported function, constructor and method with an options
 * parameter, calls each with `{ bogusKey: 1 }` in that place and expects the ArgumentError naming the
 * function. PyTorch's names (srcMask, src_key_padding_mask, weight_decay ...) are accepted as aliases.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import * as z from '../../src/index.js';
import { beamSearch, greedySearch } from '../../src/decode/search.js';
import { checkOptions, editDistance } from '../../src/tensor/options.js';
import { train } from '../../src/train/trainer.js';
import { ROOT } from '../helpers.js';

test('checkOptions: unknown keys name the function, a close key and the accepted ones; aliases and snake_case map to the canonical key', () => {
  type Options = Record<string, unknown>;
  const accepted: Record<string, 1> = { keyPaddingMask: 1, attnMask: 1, needWeights: 1 };
  const where = 'MultiheadAttention.forward';
  const check = (o: unknown, aliases: Record<string, string> = {}): Options => checkOptions<Options>(where, o as Options, accepted, aliases);
  assert.throws(() => check({ keyPadingMask: 1 }), {
    name: 'ArgumentError',
    message: "MultiheadAttention.forward: unknown option 'keyPadingMask'; did you mean 'keyPaddingMask'? (accepted: 'keyPaddingMask', 'attnMask', 'needWeights')",
  });
  assert.throws(() => check({ colour: 1 }), { message: "MultiheadAttention.forward: unknown option 'colour' (accepted: 'keyPaddingMask', 'attnMask', 'needWeights')" });
  assert.throws(() => check({ keypaddingmask: 1 }), /did you mean 'keyPaddingMask'\?/); // case only
  assert.throws(() => check(3), /MultiheadAttention\.forward: options must be an object, got number/);
  assert.deepEqual(check(undefined), {});
  const given = { attnMask: 1 };
  assert.equal(check(given), given, 'nothing renamed: the same object');
  assert.deepEqual(check({ key_padding_mask: 2, need_weights: false }), { keyPaddingMask: 2, needWeights: false });
  assert.deepEqual(check({ unknownButUndefined: undefined }), { unknownButUndefined: undefined });
  const aliases = { srcMask: 'attnMask' };
  assert.deepEqual(check({ srcMask: 5 }, aliases), { attnMask: 5 });
  assert.deepEqual(check({ src_mask: 5 }, aliases), { attnMask: 5 });
  assert.throws(() => check({ srcMask: 5, attnMask: 6 }, aliases), /options 'srcMask' and 'attnMask' are the same option; pass one/);
  assert.throws(() => check({ srcMsk: 5 }, aliases), /unknown option 'srcMsk'; did you mean 'srcMask'\? \(accepted: .* \(also PyTorch's 'srcMask'\)\)/);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test("issue 21: TransformerEncoderLayer.forward(x, { srcMask }) is PyTorch's src_mask, not silently ignored", async () => {
  const layer = new z.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, generator: new z.Generator(4) });
  const x = z.randn([3, 2, 8], { generator: new z.Generator(5) }); // (T, B, C)
  const causal = z.causalMask(3);
  const masked = await layer.forward(x, { mask: causal }).data();
  const unmasked = await layer.forward(x).data();
  assert.notDeepEqual(masked, unmasked, 'the mask changes the output (else this test proves nothing)');
  assert.deepEqual(await layer.forward(x, { srcMask: causal } as z.SelfAttentionMasks).data(), masked);
  assert.deepEqual(await layer.forward(x, { src_mask: causal } as z.SelfAttentionMasks).data(), masked);
  assert.throws(() => layer.forward(x, { srcMsk: causal } as z.SelfAttentionMasks), {
    name: 'ArgumentError',
    message: "TransformerEncoderLayer.forward: unknown option 'srcMsk'; did you mean 'srcMask'? (accepted: 'mask', 'keyPaddingMask', 'isCausal' (also PyTorch's 'srcMask', 'srcKeyPaddingMask'))",
  });
  // The encoder stack: PyTorch's TransformerEncoder.forward(src, mask, src_key_padding_mask).
  const encoder = new z.TransformerEncoder(() => layer, 2);
  const padding = z.tensor([[false, false, true], [false, false, false]]); // (B, T)
  const expected = await encoder.forward(x, { mask: causal, keyPaddingMask: padding }).data();
  assert.deepEqual(await encoder.forward(x, { mask: causal, srcKeyPaddingMask: padding } as z.SelfAttentionMasks).data(), expected);
  assert.deepEqual(await encoder.forward(x, { src_mask: causal, src_key_padding_mask: padding } as z.SelfAttentionMasks).data(), expected);
  assert.notDeepEqual(await encoder.forward(x, { mask: causal }).data(), expected);
});

test("PyTorch's snake_case names elsewhere: SGD weight_decay, crossEntropy ignore_index", async () => {
  const w = z.tensor([1, 2], { requiresGrad: true });
  const sgd = new z.optim.SGD([w], { lr: 0.1, weight_decay: 0.5 } as z.optim.SGDOptions);
  assert.equal(sgd.paramGroups[0]!.weightDecay, 0.5);
  assert.throws(() => new z.optim.SGD([w], { lr: 0.1, weightDecy: 0.5 } as z.optim.SGDOptions), /^ArgumentError: SGD: unknown option 'weightDecy'; did you mean 'weightDecay'\?/);
  const logits = z.tensor([[2, 1, 0], [0, 2, 1]]);
  const target = z.tensor([0, 2], { dtype: 'int32' });
  const loss = await z.crossEntropy(logits, target, { ignore_index: 2 } as z.CrossEntropyOptions).item();
  assert.equal(loss, await z.crossEntropy(logits, target, { ignoreIndex: 2 }).item());
  assert.notEqual(loss, await z.crossEntropy(logits, target).item());
});

test('the training loop and the searches (used by the tasks, not exported from the root) check their options too', async () => {
  await assert.rejects(train(null as never, { outDir: '/nonexistent', epocs: 2 } as never), /^ArgumentError: train: unknown option 'epocs'; did you mean 'epochs'\?/);
  await assert.rejects(greedySearch(null as never, null, 1, { bos: 1, eos: 2, maxLength: 3, beamSize: 1 } as never), /^ArgumentError: greedySearch: unknown option 'beamSize'/);
  await assert.rejects(beamSearch(null as never, null, 1, { bos: 1, eos: 2, maxLength: 3, beamSize: 2, nbest: 1 } as never), /^ArgumentError: beamSearch: unknown option 'nbest'; did you mean 'nBest'\?/);
});

// ---- the walk over the exported API -----------------------------------------------------------------

interface Site {
  /** 'grad', 'Linear.constructor', 'BertTokenizer.fromPretrained', 'optim.SGD.constructor' */
  name: string;
  /** The options parameter's position (the TypeScript `this` parameter not counted). */
  index: number;
  isStatic: boolean;
  isRest: boolean;
}

const OPTION_NAMES = new Set(['options', 'opts', 'o', 'masks', 'm', 'next', 'defaults']);

/** Parameters that look like options but are not, with the reason. */
const NOT_OPTIONS: Record<string, string> = {
  'Module.registerModule': 'm is a module',
  'ModuleList.append': 'm is a module',
  'ModuleDict.set': 'm is a module',
  eye: 'm is the number of columns',
  'optim.Optimizer.constructor': "defaults come from the subclass (SGD, Adam), which checks its own options",
  'optim.Adam.constructor#2': "AdamW's defaults ({ weightDecay: 1e-2 }), not a caller's",
};

/** Every exported function, constructor and method with a parameter that looks like options. */
function optionSites(): Site[] {
  const root = join(ROOT, 'src', 'index.ts');
  const program = ts.createProgram([root], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const sites: Site[] = [];
  const visit = (name: string, decl: ts.SignatureDeclaration, isStatic: boolean): void => {
    const params = decl.parameters.filter((p) => p.name.getText() !== 'this');
    params.forEach((p, index) => {
      const looksLikeOptions = ts.isObjectBindingPattern(p.name) || OPTION_NAMES.has(p.name.getText()) || /Options|Masks/.test(p.type?.getText() ?? '');
      if (!looksLikeOptions) return;
      if (NOT_OPTIONS[name] !== undefined || NOT_OPTIONS[`${name}#${index}`] !== undefined) return;
      if (/^(m|o|next|defaults)$/.test(p.name.getText()) && !/Options|Masks|\{/.test(p.type?.getText() ?? '')) {
        throw new Error(`${name}: parameter '${p.name.getText()}' may be options; list it in NOT_OPTIONS or type it`);
      }
      sites.push({ name, index, isStatic, isRest: p.dotDotDotToken !== undefined });
    });
  };
  const walk = (prefix: string, module: ts.Symbol): void => {
    for (let s of checker.getExportsOfModule(module)) {
      const name = prefix + s.getName();
      if (s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
      if (s.flags & ts.SymbolFlags.Module && s.valueDeclaration && ts.isSourceFile(s.valueDeclaration)) { walk(`${name}.`, s); continue; }
      for (const d of s.declarations ?? []) {
        if (ts.isFunctionDeclaration(d) && d.body) visit(name, d, false);
        if (!ts.isClassDeclaration(d)) continue;
        for (const m of d.members) {
          const flags = ts.getCombinedModifierFlags(m as ts.Declaration);
          if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || (m.name && ts.isPrivateIdentifier(m.name))) continue;
          if (ts.isConstructorDeclaration(m) && m.body) visit(`${name}.constructor`, m, false);
          if (ts.isMethodDeclaration(m) && m.body) visit(`${name}.${m.name.getText()}`, m, (flags & ts.ModifierFlags.Static) !== 0);
        }
      }
    }
  };
  walk('', checker.getSymbolAtLocation(program.getSourceFile(root)!)!);
  return sites;
}

/** Calls a site with `{ bogusKey: 1 }` as its options (everything else undefined); returns what it threw. */
async function callWithBogus(site: Site): Promise<unknown> {
  const path = site.name.split('.');
  const isCtor = path[path.length - 1] === 'constructor';
  const member = isCtor ? null : path.length > 1 && /^[A-Z]/.test(path[path.length - 2]!) ? path[path.length - 1]! : null;
  const owner = path.slice(0, member !== null || isCtor ? -1 : path.length).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], z) as (new (...a: unknown[]) => object) & Record<string, unknown>;
  const args: unknown[] = Array.from({ length: site.index }, () => undefined);
  args.push(site.isRest ? 2 : { bogusKey: 1 });
  if (site.isRest) args.push({ bogusKey: 1 });
  try {
    let result: unknown;
    if (isCtor) result = new owner(...args);
    else if (member === null) result = (owner as unknown as (...a: unknown[]) => unknown)(...args);
    else if (site.isStatic) result = (owner[member] as (...a: unknown[]) => unknown).apply(owner, args);
    else result = (owner.prototype as Record<string, (...a: unknown[]) => unknown>)[member]!.apply(Object.create(owner.prototype as object), args);
    if (result instanceof Promise) await result;
  } catch (e) {
    return e;
  }
  return null;
}

test('every exported function, constructor and method taking options rejects an unknown key, naming itself', async () => {
  const sites = optionSites();
  assert.ok(sites.length >= 120, `found only ${sites.length} options parameters: is the walk broken?`);
  const unchecked: string[] = [];
  for (const site of sites) {
    const e = await callWithBogus(site);
    const path = site.name.replace(/^optim\./, '').replace(/\.constructor$/, '');
    if (!(e instanceof z.ArgumentError) || !e.message.startsWith(`${path}: unknown option 'bogusKey' (accepted: '`)) {
      unchecked.push(`${site.name} (parameter ${site.index}): ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 120)}` : 'no error'}`);
    }
  }
  assert.deepEqual(unchecked, [], `options not checked:\n${unchecked.join('\n')}`);
});
