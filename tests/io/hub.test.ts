/**
 * Hub ids against a local server on 127.0.0.1 that speaks the Hub's protocol as @huggingface/hub and
 * huggingface_hub use it (GET/HEAD /{repo}/resolve/{revision}/{file} with X-Repo-Commit, ETag, ranges
 * and X-Error-Code; POST /api/models/{repo}/paths-info/{revision}): downloads land in Hugging Face's
 * cache layout, a second load and a folder laid out as Python writes it make no request,
 * HF_HUB_OFFLINE, HF_TOKEN and revisions work, and a download cut off midway is never trusted.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BertConfig, BertForMaskedLM, BertTokenizer, manualSeed, trainWordPiece } from '../../src/index.js';
import { HubError, cachedSnapshot, downloadModel, hubCacheDir, isHubId } from '../../src/io/hub.js';
import { CLI } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'zhuyi-hub-'));
const COMMIT = 'a'.repeat(8) + createHash('sha1').update('zhuyi').digest('hex').slice(8);
const REPO = 'zhuyi-test/tiny-mlm';
const PRIVATE = 'zhuyi-test/private-mlm';
const TOKEN = 'hf_test_token';

interface Served { files: Map<string, Buffer>; private: boolean }
const repos = new Map<string, Served>();
const requests: string[] = [];
let truncateNext: string | null = null;
let ignoreRanges = false;
let server: Server;
let endpoint = '';

function serve(req: IncomingMessage, res: ServerResponse): void {
  requests.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
  const url = new URL(req.url!, 'http://x');
  const fail = (status: number, code: string): void => { res.writeHead(status, { 'X-Error-Code': code }).end(code); };
  const info = /^\/api\/models\/(.+)\/paths-info\/([^/]+)$/.exec(url.pathname);
  const resolve = /^\/(.+?\/.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
  const repoId = decodeURIComponent((info ?? resolve)?.[1] ?? '');
  const repo = repos.get(repoId);
  if (!repo) return fail(404, 'RepoNotFound');
  if (repo.private && req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, 'GatedRepo');
  const revision = decodeURIComponent((info ?? resolve)![2]!);
  if (revision !== 'main' && revision !== COMMIT) return fail(404, 'RevisionNotFound');
  if (info) {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      const paths = (JSON.parse(body) as { paths: string[] }).paths.filter((p) => repo.files.has(p));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(paths.map((p) => ({
        type: 'file', path: p, oid: sha1(repo.files.get(p)!), size: repo.files.get(p)!.length,
        lastCommit: { id: COMMIT, title: 'upload', date: '2026-01-01T00:00:00.000Z' },
      }))));
    });
    return;
  }
  const file = repo.files.get(decodeURIComponent(resolve![3]!));
  if (!file) return fail(404, 'EntryNotFound');
  const headers: Record<string, string | number> = { 'X-Repo-Commit': COMMIT, ETag: `"${sha1(file)}"`, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
  if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'Content-Length': file.length }).end();
  const range = ignoreRanges ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const [from, to] = range ? [Number(range[1]), range[2] ? Math.min(Number(range[2]), file.length - 1) : file.length - 1] : [0, file.length - 1];
  const body = file.subarray(from, to + 1);
  res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': body.length, ...(range ? { 'Content-Range': `bytes ${from}-${to}/${file.length}` } : {}) });
  if (truncateNext && resolve![3] === truncateNext && body.length > 1) {
    // A download cut off midway: half the bytes, then the connection drops.
    // The headers and the first half go out first, so the client has them before the connection drops.
    truncateNext = null;
    res.flushHeaders();
    res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 100));
    return;
  }
  res.end(body);
}

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** A tiny masked LM with its tokenizer, as the files a Hub repo holds. */
async function checkpoint(seed: number): Promise<{ files: Map<string, Buffer>; model: BertForMaskedLM }> {
  manualSeed(seed);
  const texts = ['paris is the capital of france', 'the cat sat on the mat'];
  const tok = new BertTokenizer(trainWordPiece(texts, { vocabSize: 60 }), { modelMaxLength: 32 });
  const model = new BertForMaskedLM(new BertConfig({ vocab_size: tok.vocabSize, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 32 }));
  const folder = join(dir, `src-${seed}`);
  await model.savePretrained(folder);
  tok.savePretrained(folder);
  return { files: new Map(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f))])), model };
}

const saved = { ...process.env };
let cache = '';
let expected: BertForMaskedLM;

before(async () => {
  const a = await checkpoint(1);
  expected = a.model;
  repos.set(REPO, { files: a.files, private: false });
  repos.set(PRIVATE, { files: (await checkpoint(2)).files, private: true });
  server = createServer(serve);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  cache = join(dir, 'hf-home', 'hub');
  // What a user sets: HF_HOME (the cache is HF_HOME/hub) and HF_ENDPOINT (a mirror; here the local server).
  process.env.HF_HOME = join(dir, 'hf-home');
  process.env.HF_ENDPOINT = endpoint;
  for (const k of ['HF_HUB_CACHE', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN']) delete process.env[k];
});

after(() => {
  process.env = saved;
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sameWeights(a: BertForMaskedLM, b: BertForMaskedLM): Promise<void> {
  const want = a.stateDict();
  for (const [k, t] of Object.entries(b.stateDict())) assert.deepEqual(await t.data(), await want[k]!.data(), k);
}

describe('Hub ids', () => {
  test('ids and paths: an existing folder is never an id', () => {
    assert.ok(isHubId('google/bert_uncased_L-2_H-128_A-2') && isHubId('bert-base-uncased'));
    assert.ok(!isHubId(dir) && !isHubId('a/../b') && !isHubId('org/name/extra') && !isHubId('models--x--y'));
    assert.equal(hubCacheDir({ HF_HOME: '/h' }), '/h/hub');
    assert.equal(hubCacheDir({ HF_HOME: '/h', HF_HUB_CACHE: '/c' }), '/c');
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  });

  test('fromPretrained(org/name) downloads into Hugging Face\'s cache layout; the tokenizer reads the same snapshot', async () => {
    requests.length = 0;
    const model = await BertForMaskedLM.fromPretrained(REPO, { warn: () => {} });
    await sameWeights(expected, model);
    const storage = join(cache, 'models--zhuyi-test--tiny-mlm');
    assert.equal(readFileSync(join(storage, 'refs', 'main'), 'utf8'), COMMIT);
    const snapshot = join(storage, 'snapshots', COMMIT);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json']) {
      assert.ok(lstatSync(join(snapshot, f)).isSymbolicLink(), `${f} is a symlink`);
      const blob = join(snapshot, readlinkSync(join(snapshot, f)));
      assert.equal(relative(storage, blob), join('blobs', sha1(repos.get(REPO)!.files.get(f)!)), `${f} -> blobs/<etag>`);
    }
    assert.ok(!readdirSync(join(storage, 'blobs')).some((f) => f.endsWith('.incomplete')));
    assert.ok(requests.some((r) => r.startsWith('HEAD /zhuyi-test/tiny-mlm/resolve/main/config.json')));
    assert.ok(requests.some((r) => r.startsWith('POST /api/models/zhuyi-test/tiny-mlm/paths-info/')));
    const tok = BertTokenizer.fromPretrained(REPO);
    assert.equal(tok.vocabSize, readFileSync(join(snapshot, 'vocab.txt'), 'utf8').trim().split('\n').length);
  });

  test('a second load, and HF_HUB_OFFLINE=1, make no request', async () => {
    requests.length = 0;
    await sameWeights(expected, await BertForMaskedLM.fromPretrained(REPO, { warn: () => {} }));
    process.env.HF_HUB_OFFLINE = '1';
    try {
      await sameWeights(expected, await BertForMaskedLM.fromPretrained(REPO, { warn: () => {} }));
      await assert.rejects(BertForMaskedLM.fromPretrained('zhuyi-test/not-downloaded'), /not in the Hugging Face cache .* and HF_HUB_OFFLINE is set/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    assert.deepEqual(requests, []);
    assert.throws(() => BertTokenizer.fromPretrained('zhuyi-test/never-seen'), (e: Error) => e instanceof HubError && /not in the Hugging Face cache/.test(e.message));
  });

  test('a cache folder as Python\'s huggingface_hub writes it is used without a request', async () => {
    // refs/main -> commit, blobs named by etag, snapshots/<commit>/<file> -> ../../blobs/<etag>; the server does not know this repo.
    const storage = join(cache, 'models--python--written');
    const commit = 'b'.repeat(40);
    mkdirSync(join(storage, 'refs'), { recursive: true });
    mkdirSync(join(storage, 'blobs'));
    mkdirSync(join(storage, 'snapshots', commit), { recursive: true });
    writeFileSync(join(storage, 'refs', 'main'), commit);
    for (const [name, data] of repos.get(REPO)!.files) {
      writeFileSync(join(storage, 'blobs', sha1(data)), data);
      symlinkSync(join('..', '..', 'blobs', sha1(data)), join(storage, 'snapshots', commit, name));
    }
    requests.length = 0;
    await sameWeights(expected, await BertForMaskedLM.fromPretrained('python/written', { warn: () => {} }));
    assert.equal(BertTokenizer.fromPretrained('python/written').vocabSize, BertTokenizer.fromPretrained(REPO).vocabSize);
    assert.equal(cachedSnapshot('python/written', { revision: commit }), join(storage, 'snapshots', commit));
    assert.deepEqual(requests, []);
  });

  test('a private repository needs HF_TOKEN; a commit hash as the revision', async () => {
    await assert.rejects(BertForMaskedLM.fromPretrained(PRIVATE), /401 .* needs HF_TOKEN/);
    process.env.HF_TOKEN = TOKEN;
    try {
      const model = await BertForMaskedLM.fromPretrained(PRIVATE, { warn: () => {}, hub: { revision: COMMIT } });
      assert.equal(model.config.hiddenSize, 16);
    } finally {
      delete process.env.HF_TOKEN;
    }
    assert.ok(existsSync(join(cache, 'models--zhuyi-test--private-mlm', 'snapshots', COMMIT, 'model.safetensors')));
    assert.ok(!existsSync(join(cache, 'models--zhuyi-test--private-mlm', 'refs', 'main')), 'a commit revision writes no ref');
  });

  test('a download cut off midway leaves nothing a later load trusts; the next call resumes it with a Range request', async () => {
    const cacheDir = join(dir, 'cut');
    const weights = repos.get(REPO)!.files.get('model.safetensors')!;
    truncateNext = 'model.safetensors';
    await assert.rejects(downloadModel(REPO, { cacheDir }), (e: Error) => e instanceof HubError && /model\.safetensors: download interrupted at \d+ of \d+ bytes .* run again to resume/.test(e.message));
    const storage = join(cacheDir, 'models--zhuyi-test--tiny-mlm');
    assert.ok(!existsSync(join(storage, 'refs', 'main')), 'no ref');
    assert.ok(!existsSync(join(storage, 'snapshots', COMMIT, 'model.safetensors')), 'no weights in the snapshot');
    assert.ok(!existsSync(join(storage, 'blobs', sha1(weights))), 'no blob under its real name');
    const partial = join(storage, 'blobs', `${sha1(weights)}.incomplete`);
    const kept = readFileSync(partial);
    assert.ok(kept.length > 0 && kept.length < weights.length, `half the bytes are kept aside (${kept.length} of ${weights.length})`);
    assert.deepEqual(kept, weights.subarray(0, kept.length));
    assert.equal(cachedSnapshot(REPO, { cacheDir }), null);
    await assert.rejects(downloadModel(REPO, { cacheDir, offline: true }), /not in the Hugging Face cache/);

    requests.length = 0;
    const folder = await downloadModel(REPO, { cacheDir });
    const gets = requests.filter((r) => r.startsWith(`GET /${REPO}/resolve/${COMMIT}/model.safetensors`));
    assert.deepEqual(gets, [`GET /${REPO}/resolve/${COMMIT}/model.safetensors bytes=${kept.length}-`], 'one request, for the missing bytes only');
    assert.ok(!requests.some((r) => r.includes('/config.json') && r.startsWith('GET')), 'files already in the cache are not fetched again');
    assert.deepEqual(readFileSync(join(folder, 'model.safetensors')), weights, 'byte-identical');
    assert.ok(!existsSync(partial));
    await sameWeights(expected, await BertForMaskedLM.fromPretrained(REPO, { warn: () => {}, hub: { cacheDir } }));
  });

  test('a server that ignores the Range header: the download starts over and is still byte-identical', async () => {
    const cacheDir = join(dir, 'no-range');
    const weights = repos.get(REPO)!.files.get('model.safetensors')!;
    const storage = join(cacheDir, 'models--zhuyi-test--tiny-mlm');
    mkdirSync(join(storage, 'blobs'), { recursive: true });
    writeFileSync(join(storage, 'blobs', `${sha1(weights)}.incomplete`), Buffer.from('not the start of the file'));
    ignoreRanges = true;
    try {
      const folder = await downloadModel(REPO, { cacheDir });
      assert.deepEqual(readFileSync(join(folder, 'model.safetensors')), weights);
    } finally {
      ignoreRanges = false;
    }
  });

  test('a download draws a byte progress bar on stderr when asked (ZHUYI_PROGRESS=1 or progress: true), none by default off a terminal', async () => {
    const drawn = async (o: { progress?: boolean }, cacheDir: string): Promise<string> => {
      let err = '';
      const write = process.stderr.write.bind(process.stderr);
      process.stderr.write = ((chunk: string | Uint8Array) => { err += String(chunk); return true; }) as typeof process.stderr.write;
      try {
        await downloadModel(REPO, { cacheDir, ...o });
      } finally {
        process.stderr.write = write;
      }
      return err;
    };
    assert.equal(await drawn({}, join(dir, 'bar-auto')), '', 'stderr is not a terminal here: no bar');
    const err = await drawn({ progress: true }, join(dir, 'bar-on'));
    assert.match(err, /downloading model\.safetensors \|.*\| \d+(\.\d+)? kB\/\d+(\.\d+)? kB/);
  });

  test('the CLI: zhuyi bert fill-mask org/name downloads (progress on stderr) and runs', async () => {
    const env = { ...process.env, HF_HOME: join(dir, 'cli-home') };
    const child = spawn(process.execPath, [...CLI, 'bert', 'fill-mask', REPO, 'paris is the [MASK] of france', '--json'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /downloading zhuyi-test\/tiny-mlm\/model\.safetensors \(\d+ bytes\)/);
    const result = JSON.parse(stdout.trim().split('\n')[0]!) as unknown;
    assert.ok(Array.isArray(result) || typeof result === 'object');
    assert.ok(existsSync(join(dir, 'cli-home', 'hub', 'models--zhuyi-test--tiny-mlm', 'refs', 'main')));
  });
});
