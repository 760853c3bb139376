/**
 * Hugging Face Hub model ids ('org/name') wherever a model folder is taken, downloaded into Hugging
 * Face's own cache layout, the one Python's huggingface_hub writes (@huggingface/hub lists the files;
 * the download itself is here, to resume and to show progress):
 *
 *   $HF_HUB_CACHE (default $HF_HOME/hub, $HF_HOME default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface)
 *     models--org--name/
 *       refs/main                      the commit the revision pointed to
 *       blobs/<etag>                   file contents, written to <etag>.incomplete then renamed
 *       snapshots/<commit>/<file>      symlinks to the blobs
 *
 * So a model Python downloaded is used as it is, and a revision whose refs/ entry and files are in
 * the cache is loaded without any request. HF_ENDPOINT (default https://huggingface.co),
 * HF_HUB_OFFLINE (1/true/yes/on: the cache only) and HF_TOKEN are read as huggingface_hub does.
 * A killed download leaves only a `.incomplete` blob, which nothing reads; the next call resumes it
 * with an HTTP Range request. Downloads of 1 MB or more show a byte progress bar in a terminal.
 * Not done: a lock against two processes downloading the same blob at once (huggingface_hub has one),
 * and checking the bytes against their hash (huggingface_hub does not either).
 */
import { checkOptions, type OptionKeys } from '../tensor/options.js';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { progressBar } from './progress.js';
import { ZhuyiError } from '../tensor/errors.js';

export class HubError extends ZhuyiError {}

export interface HubOptions {
  /** Branch, tag or commit (default 'main'). */
  revision?: string;
  /** Default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default: $HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: $HF_TOKEN (a token starting with hf_). */
  token?: string;
  /** Never make a request (default: $HF_HUB_OFFLINE). */
  offline?: boolean;
  /** A line per file downloaded (default: none). */
  log?: (line: string) => void;
  /** A progress bar per file on stderr (default: in a terminal, for files of 1 MB or more; src/io/progress.ts). */
  progress?: boolean;
}

const COMMIT = /^[0-9a-f]{40}$/;
const TRUE = new Set(['1', 'true', 'yes', 'on']);

/** The files of a BERT folder, in the order huggingface_hub/transformers look for them. */
export const BERT_CONFIG = 'config.json';
export const BERT_WEIGHTS = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'] as const;
export const BERT_TOKENIZER = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'] as const;

/** Hugging Face's cache folder, from the environment as huggingface_hub reads it. */
const HUB_OPTIONS: OptionKeys<HubOptions> = { revision: 1, cacheDir: 1, endpoint: 1, token: 1, offline: 1, log: 1, progress: 1 };

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

/** The endpoint downloads come from. */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
}

/** True when `s` is a Hub model id ('org/name' or a legacy 'name') and not a path that exists. */
export function isHubId(s: string): boolean {
  if (existsSync(s)) return false;
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(s) && !s.includes('..') && !s.includes('--') && !s.endsWith('.git');
}

function repoFolder(cacheDir: string, repoId: string): string {
  return join(cacheDir, `models--${repoId.split('/').join('--')}`);
}

/** The cached snapshot folder of `repoId` at `revision` (a commit, or a branch/tag with a refs/ entry), or null. */
export function cachedSnapshot(repoId: string, o: Pick<HubOptions, 'revision' | 'cacheDir'> = {}): string | null {
  o = checkOptions('cachedSnapshot', o, { revision: 1, cacheDir: 1 });
  const revision = o.revision ?? 'main';
  const storage = repoFolder(o.cacheDir ?? hubCacheDir(), repoId);
  let commit = revision;
  if (!COMMIT.test(revision)) {
    const ref = join(storage, 'refs', revision);
    if (!existsSync(ref)) return null;
    commit = readFileSync(ref, 'utf8').trim();
  }
  const snapshot = join(storage, 'snapshots', commit);
  return existsSync(snapshot) ? snapshot : null;
}

/** A BERT folder is complete enough to load when it has config.json and weights. */
function hasBertFiles(folder: string): boolean {
  return existsSync(join(folder, BERT_CONFIG)) && BERT_WEIGHTS.some((f) => existsSync(join(folder, f)));
}

/**
 * The local folder of `dirOrId` without any request: the folder itself, or the cached snapshot of
 * a Hub id. Synchronous callers (tokenizers, readBertFolder) use it; a Hub id not downloaded yet
 * is an error that says how to get it.
 */
export function localModelFolder(dirOrId: string, o: Pick<HubOptions, 'revision' | 'cacheDir'> = {}): string {
  o = checkOptions('localModelFolder', o, { revision: 1, cacheDir: 1 });
  if (!isHubId(dirOrId)) return dirOrId;
  const snapshot = cachedSnapshot(dirOrId, o);
  if (snapshot) return snapshot;
  throw new HubError(`${dirOrId}: no such folder, and not in the Hugging Face cache (${o.cacheDir ?? hubCacheDir()}); download it first with \`await downloadModel('${dirOrId}')\` or \`await BertModel.fromPretrained('${dirOrId}')\``);
}

/** What paths-info says of a file: its size and the ids its blob is named by (as @huggingface/hub and huggingface_hub name it). */
interface PathInfo { path: string; size: number; oid?: string; xetHash?: string; lfs?: { oid: string; size: number } }

interface HubLib {
  pathsInfo: (p: Record<string, unknown>) => Promise<PathInfo[]>;
}

/** The blob name: the LFS sha256, else the Xet hash, else the git object id. */
function etagOf(info: PathInfo): string {
  const etag = info.lfs?.oid ?? info.xetHash ?? info.oid;
  if (!etag || !/^[\w.-]+$/.test(etag)) throw new HubError(`${info.path}: the Hub gave no usable object id (${JSON.stringify(etag)})`);
  return etag;
}

/**
 * One file into the cache: blobs/<etag>, written as blobs/<etag>.incomplete and renamed once all its
 * bytes are in, then snapshots/<commit>/<path> -> ../../blobs/<etag>. An .incomplete left by a
 * killed or cut-off download is resumed with an HTTP Range request (from scratch when the server
 * ignores the range). Only complete blobs are renamed, so nothing ever reads a partial file.
 */
async function downloadToCache(url: string, storage: string, commit: string, info: PathInfo, token: string | undefined, showProgress: boolean | undefined): Promise<string> {
  const pointer = join(storage, 'snapshots', commit, ...info.path.split('/'));
  if (existsSync(pointer)) return pointer;
  const blob = join(storage, 'blobs', etagOf(info));
  mkdirSync(dirname(blob), { recursive: true });
  mkdirSync(dirname(pointer), { recursive: true });
  if (!existsSync(blob)) await fetchBlob(url, blob, info, token, showProgress);
  rmSync(pointer, { force: true }); // a dangling link of an earlier run
  symlinkSync(relative(dirname(pointer), blob), pointer);
  return pointer;
}

async function fetchBlob(url: string, blob: string, info: PathInfo, token: string | undefined, showProgress: boolean | undefined): Promise<void> {
  const incomplete = `${blob}.incomplete`;
  const size = info.lfs?.size ?? info.size;
  let have = existsSync(incomplete) ? statSync(incomplete).size : 0;
  if (have > size) { // not the file we expect: start over
    rmSync(incomplete);
    have = 0;
  }
  let resp: Response | null = null;
  if (have < size) {
    const headers: Record<string, string> = { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(have > 0 ? { Range: `bytes=${have}-` } : {}) };
    try {
      resp = await fetch(url, { headers });
    } catch (e) {
      throw new HubError(`${info.path}: could not reach ${url} (${(e as Error).message})`);
    }
    if (!resp.ok) throw new HubError(`${info.path}: ${resp.status} ${resp.statusText} from ${url}`);
    if (have > 0 && resp.status !== 206) have = 0; // the server sent the whole file
  }
  if (resp?.body) {
    // Large files only, unless asked: a bar per config.json would be noise.
    const bar = progressBar({
      label: `downloading ${info.path}`, total: size, start: have, unit: 'bytes',
      ...(showProgress !== undefined ? { enabled: showProgress } : size < 1e6 ? { enabled: false } : {}),
    });
    try {
      await pipeline(
        Readable.fromWeb(resp.body as import('node:stream/web').ReadableStream<Uint8Array>),
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bar.increment(chunk.length);
            yield chunk;
          }
        },
        createWriteStream(incomplete, { flags: have > 0 ? 'a' : 'w' }),
      );
    } catch (e) {
      const got = existsSync(incomplete) ? statSync(incomplete).size : 0;
      throw new HubError(`${info.path}: download interrupted at ${got} of ${size} bytes (${(e as Error).message}); run again to resume from ${incomplete}`);
    } finally {
      bar.stop();
    }
  }
  const got = existsSync(incomplete) ? statSync(incomplete).size : 0;
  if (got !== size) throw new HubError(`${info.path}: got ${got} of ${size} bytes from ${url}; run again to resume`);
  renameSync(incomplete, blob);
}

/** The commit a revision points to, from the resolve endpoint's X-Repo-Commit header (as huggingface_hub reads it). */
async function repoCommit(endpoint: string, repoId: string, revision: string, file: string, token: string | undefined): Promise<string> {
  if (COMMIT.test(revision)) return revision;
  const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file}`;
  let resp: Response;
  try {
    resp = await fetch(url, { method: 'HEAD', headers: token ? { Authorization: `Bearer ${token}` } : {}, redirect: 'manual' });
  } catch (e) {
    throw new HubError(`${repoId}: could not reach ${endpoint} (${(e as Error).message}); set HF_HUB_OFFLINE=1 to use the cache only, or HF_ENDPOINT for a mirror`);
  }
  if (resp.status === 401 || resp.status === 403) throw new HubError(`${repoId}: ${resp.status} from ${url}: a private or gated repository needs HF_TOKEN`);
  if (resp.status === 404) throw new HubError(`${repoId}: not found at ${endpoint} (revision '${revision}', ${file})`);
  const commit = resp.headers.get('x-repo-commit');
  if (!commit || !COMMIT.test(commit)) throw new HubError(`${repoId}: ${url} gave no X-Repo-Commit header (status ${resp.status})`);
  return commit;
}

/**
 * Downloads what a BERT folder needs (config.json, the weights and their shards, the tokenizer
 * files it has) into the Hugging Face cache and returns the snapshot folder. A revision already in
 * the cache with config.json and weights is returned without a request.
 */
export async function downloadModel(repoId: string, o: HubOptions = {}): Promise<string> {
  o = checkOptions('downloadModel', o, HUB_OPTIONS);
  const revision = o.revision ?? 'main';
  const cacheDir = o.cacheDir ?? hubCacheDir();
  const cached = cachedSnapshot(repoId, { revision, cacheDir });
  if (cached && hasBertFiles(cached)) return cached;
  const offline = o.offline ?? TRUE.has((process.env.HF_HUB_OFFLINE ?? '').toLowerCase());
  if (offline) throw new HubError(`${repoId} (revision '${revision}') is not in the Hugging Face cache ${cacheDir}, and HF_HUB_OFFLINE is set`);
  const endpoint = o.endpoint ?? hubEndpoint();
  const token = o.token ?? process.env.HF_TOKEN ?? process.env.HUGGING_FACE_HUB_TOKEN;
  const hub = (await import('@huggingface/hub')) as unknown as HubLib;
  const commit = await repoCommit(endpoint, repoId, revision, BERT_CONFIG, token);
  const common = { repo: { type: 'model', name: repoId }, revision: commit, hubUrl: endpoint, cacheDir, ...(token ? { accessToken: token } : {}) };
  const infos = new Map((await hub.pathsInfo({ ...common, paths: [BERT_CONFIG, ...BERT_WEIGHTS, ...BERT_TOKENIZER], expand: true })).map((p) => [p.path, p]));
  if (!infos.has(BERT_CONFIG)) throw new HubError(`${repoId}: no config.json at revision '${revision}' (not a transformers model?)`);
  const weights = BERT_WEIGHTS.find((f) => infos.has(f));
  if (!weights) throw new HubError(`${repoId}: no weights at revision '${revision}' (looked for ${BERT_WEIGHTS.join(', ')})`);
  const storage = repoFolder(cacheDir, repoId);
  const get = async (file: string): Promise<string> => {
    let info = infos.get(file);
    if (!info) { // a shard named by the index
      [info] = await hub.pathsInfo({ ...common, paths: [file], expand: true });
      if (!info) throw new HubError(`${repoId}: ${file} is listed in ${weights} but not in the repository`);
    }
    o.log?.(`downloading ${repoId}/${file} (${info.lfs?.size ?? info.size} bytes)`);
    const url = `${endpoint}/${repoId}/resolve/${commit}/${file.split('/').map(encodeURIComponent).join('/')}`;
    return downloadToCache(url, storage, commit, info, token, o.progress);
  };
  let snapshot = '';
  for (const file of [BERT_CONFIG, weights, ...BERT_TOKENIZER.filter((f) => infos.has(f))]) {
    const local = await get(file);
    snapshot = local.slice(0, local.length - file.length - 1);
  }
  if (weights.endsWith('.index.json')) {
    const map = (JSON.parse(readFileSync(join(snapshot, weights), 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
    for (const shard of new Set(Object.values(map))) await get(shard);
  }
  // refs/<revision> last, written atomically: a revision is only trusted offline once its files are in.
  if (!COMMIT.test(revision)) {
    const ref = join(repoFolder(cacheDir, repoId), 'refs', revision);
    mkdirSync(join(ref, '..'), { recursive: true });
    writeFileSync(`${ref}.tmp`, commit);
    renameSync(`${ref}.tmp`, ref);
  }
  if (!statSync(snapshot).isDirectory()) throw new HubError(`${repoId}: download ended without a snapshot folder`);
  return snapshot;
}

/** `dirOrId` as a local folder: itself, or a Hub id's snapshot (downloaded when needed). */
export async function ensureModelFolder(dirOrId: string, o: HubOptions = {}): Promise<string> {
  o = checkOptions('ensureModelFolder', o, HUB_OPTIONS);
  return isHubId(dirOrId) ? downloadModel(dirOrId, o) : dirOrId;
}
