/**
 * The architecture rule, as code: every source file belongs to a layer, and a file may import only from its own
 * folder's layer or a lower one; two folders that share a rank (envs and agents; report and bench) never import each
 * other. Type-only imports obey the same rule (a type pointing up is a design cycle, even if it vanishes at run time).
 * Also finds import cycles between files.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Layer {
  /** Path prefix relative to the repo root, e.g. `src/core/` (a file path matches exactly, e.g. `src/index.ts`). */
  prefix: string;
  rank: number;
}

/** Lowest first. */
export const LAYERS: readonly Layer[] = [
  { prefix: 'src/core/', rank: 1 },
  { prefix: 'src/config/', rank: 2 },
  { prefix: 'src/monitor/', rank: 3 },
  { prefix: 'envs/', rank: 4 },
  { prefix: 'agents/', rank: 4 },
  { prefix: 'src/run/', rank: 5 },
  { prefix: 'src/analysis/', rank: 6 },
  { prefix: 'src/experiments/', rank: 7 },
  { prefix: 'src/report/', rank: 8 },
  { prefix: 'src/bench/', rank: 8 },
  { prefix: 'src/cli/', rank: 9 },
  { prefix: 'src/index.ts', rank: 10 },
];

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
  line: number;
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

/** Relative imports of one file, resolved to repo-relative `.ts` paths. */
export function importsOf(root: string, file: string): ImportEdge[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[4] ?? m[5] ?? m[6];
    if (!spec || !spec.startsWith('.')) continue;
    const clause = m[3] ?? '';
    const named = /^\{([^}]*)\}$/.exec(clause.trim());
    const allTypes = named !== null && named[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    const typeOnly = m[2] !== undefined || allTypes;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts');
    const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
    edges.push({ from: file, to: target, typeOnly, line });
  }
  return edges;
}

export function layerOf(file: string): Layer | null {
  return LAYERS.find((l) => (l.prefix.endsWith('/') ? file.startsWith(l.prefix) : file === l.prefix)) ?? null;
}

/** Every `.ts` file under the given folders, repo-relative with forward slashes. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isFile()) {
      if (rel.endsWith('.ts')) out.push(rel);
      return;
    }
    for (const entry of fs.readdirSync(abs).sort()) walk(path.posix.join(rel, entry));
  };
  for (const f of folders) walk(f);
  return out;
}

/** Imports that go up a layer or sideways between two folders of the same rank; files outside every layer too. */
export function layerViolations(root: string, files: readonly string[]): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const own = layerOf(file);
    if (!own) {
      problems.push(`${file}: in no layer (add its folder to LAYERS in test/helpers/layers.ts)`);
      continue;
    }
    for (const edge of importsOf(root, file)) {
      const target = layerOf(edge.to);
      if (!target) {
        problems.push(`${file}:${edge.line} imports ${edge.to}, which is in no layer`);
        continue;
      }
      const kind = edge.typeOnly ? 'type import' : 'import';
      if (target.rank > own.rank) problems.push(`${file}:${edge.line}: ${kind} of ${edge.to} goes up (${own.prefix} → ${target.prefix})`);
      else if (target.rank === own.rank && target.prefix !== own.prefix) {
        problems.push(`${file}:${edge.line}: ${kind} of ${edge.to} goes sideways (${own.prefix} → ${target.prefix})`);
      }
    }
  }
  return problems;
}

/** Import cycles between files (strongly connected components of more than one file, or a file importing itself). */
export function importCycles(root: string, files: readonly string[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of files) graph.set(file, importsOf(root, file).map((e) => e.to).filter((t) => files.includes(t)));
  // Tarjan's algorithm, iterative enough for our depth.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const file of files) if (!indices.has(file)) visit(file);
  return cycles;
}
