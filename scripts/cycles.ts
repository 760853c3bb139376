/**
 * `npm run cycles`: the import cycles in src/, between files and between folders.
 *
 * Only imports that exist at run time count: `import type`, `export type` and imports whose every
 * name is `type` are erased by TypeScript and cannot form a cycle. `--types` counts them too.
 * The engine core (src/tensor, src/ops, src/autograd) is allowed one cycle: a Tensor with methods
 * (`x.matmul(y)`) needs its op fronts, and the op fronts make Tensors. Any other cycle fails the run
 * (exit code 1), so a test can hold the line.
 *
 *   npm run cycles            # report; exit 1 on a cycle outside the engine core
 *   npm run cycles -- --json  # the same as JSON
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ENGINE_CORE = ['src/tensor', 'src/ops', 'src/autograd'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** The relative modules a file imports at run time (or also type-only ones with `types`). */
export function importsOf(file: string, text: string, types = false): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const add = (spec: ts.Expression | undefined) => {
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) out.push(spec.text);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && c.namedBindings !== undefined &&
        ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (types || !typeOnly) add(node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) &&
        node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (types || !typeOnly) add(node.moduleSpecifier);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Strongly connected components with more than one member (or a self-import): Tarjan's algorithm. */
export function cyclesOf(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) strong(v);
  return out;
}

export interface CycleReport {
  files: number;
  fileCycles: string[][];
  folderCycles: string[][];
  /** Cycles that are not inside the engine core. */
  offending: string[][];
}

export function findCycles(root: string, types = false): CycleReport {
  const src = join(root, 'src');
  const files = walk(src).map((f) => relative(root, f));
  const fileGraph = new Map<string, Set<string>>();
  const folderGraph = new Map<string, Set<string>>();
  for (const f of files) {
    const deps = new Set<string>();
    for (const spec of importsOf(f, readFileSync(join(root, f), 'utf8'), types)) {
      const target = relative(root, resolve(root, dirname(f), spec)).replace(/\.js$/, '.ts');
      deps.add(target.endsWith('.ts') ? target : `${target}/index.ts`);
    }
    fileGraph.set(f, deps);
    const from = dirname(f);
    if (!folderGraph.has(from)) folderGraph.set(from, new Set());
    for (const d of deps) if (dirname(d) !== from) folderGraph.get(from)!.add(dirname(d));
  }
  const fileCycles = cyclesOf(fileGraph);
  const folderCycles = cyclesOf(folderGraph);
  const inCore = (p: string) => ENGINE_CORE.some((c) => p === c || p.startsWith(`${c}/`));
  const offending = [...fileCycles, ...folderCycles].filter((c) => !c.every(inCore));
  return { files: files.length, fileCycles, folderCycles, offending };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const r = findCycles(process.cwd(), args.includes('--types'));
  if (args.includes('--json')) {
    console.log(JSON.stringify(r, null, 2));
  } else {
    console.log(`${r.files} files in src/; ${args.includes('--types') ? 'all imports' : 'run-time imports (type-only imports are erased)'}`);
    for (const [name, cycles] of [['file', r.fileCycles], ['folder', r.folderCycles]] as const) {
      console.log(`${cycles.length} ${name} cycle(s)${cycles.length ? ':' : ''}`);
      for (const c of cycles) console.log(`  ${c.join(' <-> ')}`);
    }
    console.log(r.offending.length ? `${r.offending.length} cycle(s) outside the engine core (${ENGINE_CORE.join(', ')})` : `no cycle outside the engine core (${ENGINE_CORE.join(', ')})`);
  }
  process.exit(r.offending.length ? 1 : 0);
}
