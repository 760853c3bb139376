// Special tokens in input text on tokenizer folders whose tokenizer.json does not list them in added_tokens
// (e.g. a tokenizer.json written by hand, or by the tokenizers library directly, not by transformers). HF's
// PreTrainedTokenizerFast adds every special token named in special_tokens_map.json / tokenizer_config.json as a
// special added token (AddedToken(t, special=True): normalized false), so "[MASK]" in text stays one token; the
// expectations below follow that rule, worked out by hand for these vocabularies.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BertTokenizer } from '../../src/index.js';
import { withSpecialAddedTokens } from '../../src/text/bert/tokenizer.js';
import { sharedDataOrSkip } from '../helpers.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'Mat', '.', '..', '!', '##s', 'café', '<x>'];

/** A tokenizer.json as the tokenizers library writes it for a WordPiece model with no added tokens. */
function tokenizerJson(o: { normalizer: unknown; preTokenizer: unknown }): Record<string, unknown> {
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: o.normalizer, pre_tokenizer: o.preTokenizer,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])) },
  };
}

function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'zhuyi-special-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return dir;
}

const SPECIALS_MAP = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };

/** Tokens of `text` on both engines; with offsets, so the engine path checks it agrees with the builtin. */
function both(dir: string, text: string): { auto: string[]; builtin: string[]; ids: number[]; spans: string[] } {
  const auto = BertTokenizer.fromPretrained(dir);
  assert.equal(auto.engine, '@huggingface/tokenizers');
  const builtin = BertTokenizer.fromPretrained(dir, { engine: 'builtin' });
  const a = auto.encode(text, { addSpecialTokens: false, returnOffsetsMapping: true });
  const b = builtin.encode(text, { addSpecialTokens: false, returnOffsetsMapping: true });
  assert.deepEqual(a.inputIds, b.inputIds);
  assert.deepEqual(a.offsets, b.offsets);
  assert.deepEqual(auto.tokenize(text), a.tokens, 'tokenize (no offsets: the engine alone) gives the same tokens');
  return { auto: a.tokens, builtin: b.tokens, ids: a.inputIds, spans: a.offsets!.map(([s, e]) => text.slice(s, e)) };
}

test('Whitespace pre-tokenizer, no normalizer, empty added_tokens: special tokens in text stay whole on both engines', () => {
  const dir = folder({
    'tokenizer.json': tokenizerJson({ normalizer: null, preTokenizer: { type: 'Whitespace' } }),
    'special_tokens_map.json': SPECIALS_MAP,
    'tokenizer_config.json': { do_lower_case: true, tokenizer_class: 'BertTokenizerFast' },
  });
  try {
    const text = 'the cat [MASK] on the[MASK]mat [SEP] !';
    const r = both(dir, text);
    assert.deepEqual(r.auto, ['the', 'cat', '[MASK]', 'on', 'the', '[MASK]', 'mat', '[SEP]', '!']);
    assert.deepEqual(r.builtin, r.auto);
    assert.deepEqual(r.ids, [5, 6, 4, 8, 5, 4, 9, 3, 13]);
    assert.deepEqual(r.spans, ['the', 'cat', '[MASK]', 'on', 'the', '[MASK]', 'mat', '[SEP]', '!']);
    // No normalizer: no lowercasing (do_lower_case in tokenizer_config.json is the slow tokenizer's), and the
    // Whitespace pre-tokenizer keeps punctuation runs together (\w+|[^\w\s]+): "mat.." -> mat, ".." (BERT's would split "." ".").
    assert.deepEqual(both(dir, 'Mat mat.. cats!').auto, ['Mat', 'mat', '..', 'cat', '##s', '!']);
    assert.deepEqual(both(dir, 'Mat mat.. cats!').builtin, ['Mat', 'mat', '..', 'cat', '##s', '!']);
    // Lowercase "[mask]" is not the special token (added specials are matched in the raw text, case included).
    assert.deepEqual(both(dir, 'the [mask]').auto, ['the', '[UNK]', '[UNK]', '[UNK]']); // '[', 'mask', ']'
    // With special tokens: [CLS] ... [SEP] as the post-processor says.
    const tok = BertTokenizer.fromPretrained(dir);
    assert.deepEqual(tok.encode('the [MASK]', 'mat').tokens, ['[CLS]', 'the', '[MASK]', '[SEP]', 'mat', '[SEP]']);
    assert.equal(tok.doLowerCase, false);
    assert.equal(tok.preTokenizer, 'whitespace');
    // save -> load keeps the behaviour; tokenizer.json now lists the specials as added tokens, sorted by id, as HF saves it.
    const saved = join(dir, 'saved');
    tok.savePretrained(saved);
    const json = JSON.parse(readFileSync(join(saved, 'tokenizer.json'), 'utf8')) as { added_tokens: Array<{ id: number; content: string; special: boolean; normalized: boolean }> };
    assert.deepEqual(json.added_tokens.map((t) => [t.id, t.content, t.special, t.normalized]), [
      [0, '[PAD]', true, false], [1, '[UNK]', true, false], [2, '[CLS]', true, false], [3, '[SEP]', true, false], [4, '[MASK]', true, false],
    ]);
    assert.deepEqual(both(saved, text).auto, r.auto);
    // The builtin alone (no tokenizer.json kept) writes a Whitespace tokenizer.json too.
    const savedBuiltin = join(dir, 'saved-builtin');
    BertTokenizer.fromPretrained(dir, { engine: 'builtin' }).savePretrained(savedBuiltin);
    assert.deepEqual(both(savedBuiltin, 'Mat mat.. [MASK]').auto, ['Mat', 'mat', '..', '[MASK]']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('additional_special_tokens from tokenizer_config.json are added too; specials outside the vocabulary are not', () => {
  const dir = folder({
    'tokenizer.json': tokenizerJson({ normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true }, preTokenizer: { type: 'BertPreTokenizer' } }),
    'tokenizer_config.json': { ...SPECIALS_MAP, additional_special_tokens: ['<x>', '<y>'] },
  });
  try {
    const r = both(dir, 'THE <x>cat[MASK] café');
    // BertNormalizer lowercases and strips accents ("café" -> "cafe", not in the vocabulary); specials match before it.
    assert.deepEqual(r.auto, ['the', '<x>', 'cat', '[MASK]', '[UNK]']);
    assert.deepEqual(r.builtin, r.auto);
    // "<y>" is not in the vocabulary: the builtin keeps it whole as [UNK]; HF would append it with a new id, which
    // would change the vocabulary size, so the engine is not given it and splits it (no offsets can be aligned then).
    const auto = BertTokenizer.fromPretrained(dir);
    assert.deepEqual(auto.tokenize('<y>'), ['[UNK]', '[UNK]', '[UNK]']); // '<', 'y', '>'
    assert.deepEqual(BertTokenizer.fromPretrained(dir, { engine: 'builtin' }).tokenize('<y>'), ['<y>']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withSpecialAddedTokens: appends only what is missing and in the vocabulary; unchanged object otherwise', () => {
  const ids = new Map(VOCAB.map((t, i) => [t, i]));
  const json = { added_tokens: [{ id: 4, content: '[MASK]', special: true, normalized: false }] };
  const out = withSpecialAddedTokens(json, ['[UNK]', '[MASK]', '<nope>'], ids);
  assert.deepEqual((out.added_tokens as Array<{ content: string }>).map((t) => t.content), ['[UNK]', '[MASK]']);
  assert.equal(json.added_tokens.length, 1, 'the input is not modified');
  assert.equal(withSpecialAddedTokens(json, ['[MASK]'], ids), json);
});

test('shared checkpoint safetensors-bertmodel-h32-l2 (Whitespace, no normalizer, empty added_tokens): "[MASK]" is one token', (t) => {
  const base = sharedDataOrSkip('tiny-bert-checkpoints');
  const dir = base ? join(base, 'safetensors-bertmodel-h32-l2') : null;
  if (!dir) return t.skip('../shared/data/tiny-bert-checkpoints absent');
  const r = both(dir, 't5 [MASK] t7[SEP]T9 t6..');
  // t5=5, [MASK]=4, t7=7, [SEP]=3; "T9" is not in the (lowercase) vocabulary and is not lowercased; ".." is one word, unknown.
  assert.deepEqual(r.auto, ['t5', '[MASK]', 't7', '[SEP]', '[UNK]', 't6', '[UNK]']);
  assert.deepEqual(r.ids, [5, 4, 7, 3, 1, 6, 1]);
  const tok = BertTokenizer.fromPretrained(dir);
  assert.deepEqual(tok.encode('t5 [MASK]').inputIds, [2, 5, 4, 3]);
});
