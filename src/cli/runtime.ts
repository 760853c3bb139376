/**
 * Where models run, for every command that runs one: `--device cpu|cuda|...` (ONNX Runtime's
 * execution provider) and `--threads n`, and what `zhuyi info` reports about the runtime.
 *
 * onnxruntime-node ships the CPU provider (and WebGPU on some platforms) in its package; CUDA and
 * TensorRT are separate libraries its postinstall downloads from NuGet only when asked
 * (ONNXRUNTIME_NODE_INSTALL=cuda12), so a provider is "available" when it is bundled or its library
 * is on disk. Asking for one that is not gives an error that says how to install it, instead of
 * ONNX Runtime's "provider not found" at the first session.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { configureOrt, createOrtBackend, ortConfig } from '../backends/ort/index.js';
import { hubCacheDir, hubEndpoint } from '../io/hub.js';
import { ArgumentError } from '../tensor/errors.js';

const require = createRequire(import.meta.url);

/** The libraries of providers onnxruntime-node does not bundle, per platform. */
const PROVIDER_LIBRARY: Record<string, Record<string, string>> = {
  cuda: { linux: 'libonnxruntime_providers_cuda.so', win32: 'onnxruntime_providers_cuda.dll' },
  tensorrt: { linux: 'libonnxruntime_providers_tensorrt.so', win32: 'onnxruntime_providers_tensorrt.dll' },
};

/** How to install a provider that is not bundled (the installer reads ONNXRUNTIME_NODE_INSTALL, or npm's --onnxruntime-node-install flag). */
export const CUDA_INSTALL_HINT = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (npm 10: npm install --onnxruntime-node-install=cuda12); it needs CUDA 12 and cuDNN';

export interface ProviderInfo {
  name: string;
  /** Shipped inside the onnxruntime-node package. */
  bundled: boolean;
  /** Usable now: bundled, or its library downloaded. */
  available: boolean;
}

interface OrtNodeModule {
  env: { versions: Record<string, string> };
  listSupportedBackends?: () => Array<{ name: string; bundled: boolean }>;
}

/** @internal The folder holding onnxruntime-node's native libraries for this platform. */
export function ortBinaryFolder(): string {
  return join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

async function ortNode(): Promise<OrtNodeModule> {
  return (await import('onnxruntime-node')) as unknown as OrtNodeModule;
}

/** The execution providers this onnxruntime-node build knows, and whether each can be used now. */
export async function listProviders(binaryFolder = ortBinaryFolder()): Promise<ProviderInfo[]> {
  const ort = await ortNode();
  const supported = ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }];
  return supported.map(({ name, bundled }) => {
    const lib = PROVIDER_LIBRARY[name]?.[process.platform];
    return { name, bundled, available: bundled || (lib !== undefined && existsSync(join(binaryFolder, lib))) };
  });
}

/**
 * The execution providers of `--device name`: the device first, CPU after it for the ops the device
 * lacks (ONNX Runtime assigns each node to the first provider that has a kernel for it).
 */
export function providersFor(device: string, providers: readonly ProviderInfo[]): string[] {
  const found = providers.find((p) => p.name === device);
  if (!found) throw new ArgumentError(`--device: '${device}' is not an execution provider of this onnxruntime-node build; choose one of ${providers.map((p) => p.name).join(', ')}`);
  if (!found.available) {
    throw new ArgumentError(`--device ${device}: the ${device} execution provider is not installed (onnxruntime-node ships the CPU provider only). Install it with ${CUDA_INSTALL_HINT}`);
  }
  return device === 'cpu' ? ['cpu'] : [device, 'cpu'];
}

/** Adds `--device` and `--threads` to a command that runs models. */
export function addRuntimeFlags(cmd: Command): Command {
  return cmd
    .option('--device <name>', 'ONNX Runtime execution provider: cpu (default), cuda, ... (`zhuyi info` lists them)')
    .option('--threads <n>', 'CPU threads of ONNX Runtime (default: every core)');
}

/** Applies `--device` and `--threads` (before the command's action). */
export async function applyRuntimeFlags(o: { device?: string; threads?: string }): Promise<void> {
  if (o.threads !== undefined) {
    const n = Number(o.threads);
    if (!(Number.isInteger(n) && n > 0)) throw new ArgumentError(`--threads: expected a positive integer, got '${o.threads}'`);
    configureOrt({ threads: n });
  }
  if (o.device !== undefined) configureOrt({ executionProviders: providersFor(o.device, await listProviders()) });
}

/** Adds the runtime flags to every command under `root` that runs a model (leaf commands, except `skip`). */
export function addRuntimeFlagsEverywhere(root: Command, skip: readonly string[]): void {
  const visit = (cmd: Command, path: string): void => {
    if (cmd.commands.length === 0) {
      if (!skip.includes(path)) addRuntimeFlags(cmd);
      return;
    }
    for (const sub of cmd.commands) visit(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  visit(root, '');
}

export interface RuntimeInfo {
  zhuyi: string;
  node: string;
  onnxruntime: Record<string, string>;
  providers: ProviderInfo[];
  executionProviders: string[];
  threads: number;
  cores: number;
  backend: string;
  /** Where Hub ids are downloaded and read from (HF_HUB_CACHE / HF_HOME), the endpoint, offline mode. */
  hub: { cache: string; endpoint: string; offline: boolean };
}

/** What `zhuyi info` prints. */
export async function runtimeInfo(version: string, backend: string): Promise<RuntimeInfo> {
  await createOrtBackend();
  const ort = await ortNode();
  const config = ortConfig();
  return {
    zhuyi: version, node: process.versions.node, onnxruntime: { ...ort.env.versions }, providers: await listProviders(),
    executionProviders: [...config.executionProviders], threads: config.threads, cores: cpus().length, backend,
    hub: { cache: hubCacheDir(), endpoint: hubEndpoint(), offline: ['1', 'true', 'yes', 'on'].includes((process.env.HF_HUB_OFFLINE ?? '').toLowerCase()) },
  };
}
