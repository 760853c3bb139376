import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { HEAP_TUNABLES, heapIsTuned, tunedEnv } from '../../src/backends/ort/heap.js';

const glibc = process.platform === 'linux' && typeof (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime === 'string';

describe('tuned heap (the zhuyi command relaunches itself with glibc malloc tunables)', () => {
  test('tunedEnv adds the tunables and keeps the user\'s own, theirs winning on the same key', () => {
    assert.equal(tunedEnv({}).GLIBC_TUNABLES, HEAP_TUNABLES.join(':'));
    const merged = tunedEnv({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1024:glibc.cpu.hwcaps=-AVX512F' }).GLIBC_TUNABLES!.split(':');
    assert.deepEqual(merged, ['glibc.malloc.trim_threshold=1024', 'glibc.cpu.hwcaps=-AVX512F', 'glibc.malloc.mmap_max=0']);
    assert.equal(heapIsTuned({}), false);
    assert.equal(heapIsTuned(tunedEnv({})), true);
    assert.equal(heapIsTuned({ GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0' }), false);
  });

  test('relaunchWithTunedHeap runs the same script once more with the tunables and passes its exit code on', { skip: glibc ? false : 'not glibc Linux' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-heap-'));
    try {
      const script = join(dir, 'probe.mts');
      writeFileSync(script, [
        `import { relaunchWithTunedHeap } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'src/backends/ort/heap.ts')).href)};`,
        'const again = relaunchWithTunedHeap();',
        'if (again) { console.log("parent"); process.exitCode = await again; }',
        'else { console.log(`child ${process.argv.slice(2).join(" ")} ${process.env.GLIBC_TUNABLES}`); process.exitCode = 7; }',
      ].join('\n'));
      const env: NodeJS.ProcessEnv = { ...process.env, GLIBC_TUNABLES: '' };
      delete env.ZHUYI_TUNED_HEAP;
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, 'a', 'b'], { encoding: 'utf8', env });
      assert.equal(r.status, 7, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['parent', `child a b ${HEAP_TUNABLES.join(':')}`]);
      const off = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', env: { ...env, ZHUYI_TUNED_HEAP: '0' } });
      assert.equal(off.stdout, 'child  \n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('killing the launcher with SIGKILL takes the relaunched process with it', { skip: glibc ? false : 'not glibc Linux' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zhuyi-heap-'));
    try {
      const script = join(dir, 'probe.mts');
      const pidFile = join(dir, 'child.pid');
      writeFileSync(script, [
        `import { writeFileSync } from 'node:fs';`,
        `import { relaunchWithTunedHeap } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'src/backends/ort/heap.ts')).href)};`,
        'const again = relaunchWithTunedHeap();',
        'if (again) process.exitCode = await again;',
        `else { writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000); }`,
      ].join('\n'));
      const env: NodeJS.ProcessEnv = { ...process.env, GLIBC_TUNABLES: '' };
      delete env.ZHUYI_TUNED_HEAP;
      const launcher = spawn(process.execPath, ['--import', 'tsx', script], { env, stdio: 'ignore' });
      const alive = (pid: number): boolean => {
        try { process.kill(pid, 0); } catch { return false; }
        // A zombie (dead, not yet reaped) counts as gone.
        try { return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
      };
      let child = 0;
      for (let i = 0; i < 600 && !child; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (existsSync(pidFile)) child = Number(readFileSync(pidFile, 'utf8'));
      }
      assert.ok(child > 0 && child !== launcher.pid, 'the relaunched process started');
      assert.ok(alive(child));
      launcher.kill('SIGKILL');
      let gone = false;
      for (let i = 0; i < 200 && !gone; i++) {
        await new Promise((r) => setTimeout(r, 50));
        gone = !alive(child);
      }
      if (!gone) process.kill(child, 'SIGKILL');
      assert.ok(gone, `the relaunched process ${child} outlived its launcher`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
