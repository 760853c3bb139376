/**
 * Differential fuzzing of the engine: random op programs on the js and ort backends.
 *   npm run fuzz -- --programs N [--seed S] [--batch B] [--save DIR]
 * Prints counts and, for each disagreement, the program shrunk to a minimal one (saved as JSON
 * under DIR, default tests/fuzz/found/, to be moved into tests/fuzz/regressions/ once fixed).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from '../src/index.js';
import { describe, differential, shrink, toJson } from '../tests/fuzz/differential.js';
import { generate } from '../tests/fuzz/program.js';

const { values: args } = parseArgs({
  options: {
    programs: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    chunk: { type: 'string', default: '1000' },
    save: { type: 'string', default: 'tests/fuzz/found' },
    'max-shrinks': { type: 'string', default: '20' },
  },
});
const total = Number(args.programs);
const seed = Number(args.seed);
const batch = Number(args.batch);
const chunk = Number(args.chunk);
const t0 = performance.now();
const sum = { programs: 0, agreed: 0, bothThrew: 0, zeroSize: 0, disagreements: 0, ops: 0 };
const seen = new Set<string>();
let shrinks = 0;
for (let start = 0; start < total; start += chunk) {
  // Program k of seed S is generate(S * 1e6 + k): any one replays alone.
  const programs = Array.from({ length: Math.min(chunk, total - start) }, (_, i) => generate(seed * 1_000_000 + start + i));
  sum.ops += programs.reduce((n, p) => n + p.nodes.filter((x) => x.kind === 'op').length, 0);
  const counts = await differential(programs, batch);
  sum.programs += counts.programs;
  sum.agreed += counts.agreed;
  sum.bothThrew += counts.bothThrew;
  sum.zeroSize += counts.zeroSize;
  sum.disagreements += counts.disagreements.length;
  for (const d of counts.disagreements) {
    const id = seed * 1_000_000 + start + d.index;
    console.log(`\n# program ${id} disagrees: ${d.reason}`);
    if (shrinks >= Number(args['max-shrinks'])) continue;
    shrinks++;
    const small = await shrink(d.program);
    const key = small.program.nodes.map((n) => (n.kind === 'op' ? n.op : n.dtype)).join(',') + '|' + small.reason.replace(/[-0-9.e]+/g, '#');
    console.log(`minimized (${small.reason}):\n${describe(small.program)}`);
    if (seen.has(key)) continue;
    seen.add(key);
    mkdirSync(args.save!, { recursive: true });
    const file = join(args.save!, `program-${id}.json`);
    writeFileSync(file, JSON.stringify({ found: `npm run fuzz -- --seed ${seed}, program ${id}`, reason: small.reason, program: toJson(small.program) }, null, 1) + '\n');
    console.log(`saved ${file}`);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`${sum.programs} programs (${sum.ops} ops): ${sum.agreed} agree (${sum.zeroSize} with zero-size values, run on js by both), ${sum.bothThrew} threw on both, ${sum.disagreements} disagree; ${s.toFixed(1)} s; ort ${JSON.stringify(z.ortStats())}`);
}
process.exit(sum.disagreements > 0 ? 1 : 0);
