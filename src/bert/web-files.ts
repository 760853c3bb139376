/**
 * File access for the browser entry: bytes in (ArrayBuffer, typed arrays, File/Blob, URLs through
 * fetch) and bytes out (a download). HF folders come from a URL (config.json, model.safetensors and
 * the tokenizer files fetched beside it) or from picked files, and go out as a zip.
 */
import { ZhuyiError } from '../tensor/errors.js';
import { BertCheckpointError, type BertFolderFiles, bertFolderFromFiles, setBertFolderIo } from '../models/bert/pretrained-core.js';
import { BERT_TOKENIZER_FILES, BertTokenizerCore, type BertTokenizerFiles, type FromPretrainedOptions } from '../text/bert/tokenizer-core.js';
import { zipFiles } from '../io/zip-write.js';
import { checkOptions } from '../tensor/options.js';

export { zipFiles } from '../io/zip-write.js';

/** Anything bytes can come from in a page: a URL (fetched), a File or Blob, a buffer, a fetch Response. */
export type BytesSource = string | URL | ArrayBuffer | ArrayBufferView | Blob | Response;

/** Fetches `url` as bytes; an HTTP error names the URL and status. */
export async function fetchBytes(url: string | URL): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new ZhuyiError(`${String(url)}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The bytes of any BytesSource (buffers are viewed, not copied). */
export async function readBytes(source: BytesSource): Promise<Uint8Array> {
  if (typeof source === 'string' || source instanceof URL) return fetchBytes(source);
  if (source instanceof Uint8Array) return source;
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new ZhuyiError(`${source.url}: HTTP ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  throw new ZhuyiError(`readBytes: expected a URL, ArrayBuffer, typed array, File, Blob or Response, got ${Object.prototype.toString.call(source)}`);
}

/** Offers `bytes` to the user as a download named `filename` (a page only). */
export function downloadBytes(bytes: Uint8Array | string, filename: string, type = 'application/octet-stream'): void {
  if (typeof document === 'undefined') throw new ZhuyiError('downloadBytes: needs a page (document); in a worker, post the bytes to the page');
  const blob = new Blob([typeof bytes === 'string' ? bytes : bytes.slice().buffer], { type });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}

/** A folder's URL with one trailing slash, resolved against the page (so 'models/bert' works). */
function folderUrl(source: string): URL {
  const base = typeof document !== 'undefined' ? document.baseURI : (globalThis as { location?: { href: string } }).location?.href;
  return new URL(source.endsWith('/') ? source : `${source}/`, base);
}

/** Picked files (`<input type=file webkitdirectory>` or several files) as name -> bytes; folders are dropped from names. */
export async function filesByName(files: Iterable<File> | ArrayLike<File>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const f of Array.from(files as ArrayLike<File>)) out.set(f.name.split('/').pop()!, new Uint8Array(await f.arrayBuffer()));
  return out;
}

/**
 * BertTokenizer for browsers: BertTokenizerCore (everything but files) plus fromPretrained from a
 * folder URL or from the folder's files. Unlike Node's, fromPretrained is async (it fetches).
 */
export class BertTokenizer extends BertTokenizerCore {
  static async fromPretrained(source: string | URL | BertFolderFiles, options: FromPretrainedOptions = {}): Promise<BertTokenizer> {
    options = checkOptions('BertTokenizer.fromPretrained', options, { engine: 1 });
    const texts: BertTokenizerFiles = {};
    const dec = new TextDecoder();
    let where = '<files>';
    if (typeof source === 'string' || source instanceof URL) {
      const base = source instanceof URL ? source : folderUrl(source);
      where = base.href;
      await Promise.all(BERT_TOKENIZER_FILES.map(async (name) => {
        const res = await fetch(new URL(name, base));
        if (res.ok) texts[name] = await res.text();
      }));
    } else {
      const get = (name: string): Uint8Array | undefined => (source instanceof Map ? source.get(name) : (source as Record<string, Uint8Array>)[name]);
      for (const name of BERT_TOKENIZER_FILES) {
        const bytes = get(name);
        if (bytes) texts[name] = dec.decode(bytes);
      }
    }
    return BertTokenizer.fromFiles(texts, { ...options, source: where });
  }

  /** The files savePretrained writes in Node, as text (name -> contents). */
  toPretrainedFiles(): Map<string, string> {
    return new Map(Object.entries(this.toFiles()));
  }
}

/** An HF folder (model files, and a tokenizer's when given) as one zip, ready for downloadBytes. */
export async function hfFolderZip(model: { toPretrainedFiles(): Promise<Map<string, Uint8Array>> }, tokenizer?: BertTokenizerCore): Promise<Uint8Array> {
  const files = new Map<string, Uint8Array | string>(await model.toPretrainedFiles());
  if (tokenizer) for (const [name, text] of Object.entries(tokenizer.toFiles())) files.set(name, text);
  return zipFiles(files);
}

/** BertPreTrainedModel.fromPretrained(url) fetches the folder; savePretrained has no folder to write to. */
export function installBrowserFolderIo(): void {
  setBertFolderIo({
    async read(source) {
      const base = folderUrl(source);
      const get = async (name: string): Promise<Uint8Array | undefined> => {
        const res = await fetch(new URL(name, base));
        return res.ok ? new Uint8Array(await res.arrayBuffer()) : undefined;
      };
      const [config, weights] = await Promise.all([get('config.json'), get('model.safetensors')]);
      const files = new Map<string, Uint8Array>();
      if (!config) throw new BertCheckpointError(`${base.href}: no config.json (expected a Hugging Face model folder)`);
      files.set('config.json', config);
      if (!weights) throw new BertCheckpointError(`${base.href}: no model.safetensors (in a browser only safetensors weights load; convert pytorch_model.bin in Node)`);
      files.set('model.safetensors', weights);
      return { ...bertFolderFromFiles(files, base.href.replace(/\/$/, '')), where: base.href.replace(/\/$/, '') };
    },
    async write(dir) {
      throw new BertCheckpointError(`savePretrained('${dir}'): a browser has no folders; use toPretrainedFiles() or hfFolderZip() and downloadBytes()`);
    },
  });
}
