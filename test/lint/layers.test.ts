import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layerOf, layers } from '../../eslint.config.js';

// The layer order of docs/ARCHITECTURE.md is one table in eslint.config.js. This proves the
// rule that enforces it fires in every layer (an import of a layer not on the list fails,
// every listed one passes), that the table itself has no cycle, and that no file of shipped
// code takes part in an import cycle.
const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });
const table = layers as Record<string, string[]>;
const names = Object.keys(table);

/** Lints `specs` as imports of a new file in `layer`; returns the layer rule's message per line (1-based). */
async function layerProblems(layer: string, specs: readonly string[]): Promise<Map<number, string>> {
  const code = specs.map((s, i) => `import { x${i} } from '${s}';`).join('\n') + `\nexport const all = [${specs.map((_, i) => `x${i}`).join(', ')}];\n`;
  const [result] = await eslint.lintText(code, { filePath: join(root, layer, 'layerProbe.ts') });
  return new Map((result?.messages ?? []).filter((m) => m.ruleId === 'canopy/layers').map((m) => [m.line, m.message]));
}

/** A relative import from a file in `from` to a module in `to`. */
function relativeImport(from: string, to: string): string {
  const r = relative(from, join(to, 'probeTarget.js'));
  return r.startsWith('.') ? r : `./${r}`;
}

describe('the layer rule', () => {
  it.each(names)('fails in %s on an import of a layer it may not import, and passes every one it may', async (layer) => {
    const forbidden = names.filter((l) => l !== layer && !table[layer]!.includes(l) && layerOf(join(l, 'probeTarget.js')) === l);
    expect(forbidden.length, `${layer} may import every layer`).toBeGreaterThan(0);
    const allowed = table[layer]!;
    const specs = [...forbidden.map((l) => relativeImport(layer, l)), ...allowed.map((l) => relativeImport(layer, l))];
    const problems = await layerProblems(layer, specs);
    forbidden.forEach((l, i) => expect(problems.get(i + 1), `${layer} importing ${l}`).toContain(`${layer} may not import ${l}`));
    allowed.forEach((l, i) => expect(problems.get(forbidden.length + i + 1), `${layer} importing ${l}`).toBeUndefined());
  });

  it('counts an import of a package entry by the folder the entry lives in', async () => {
    const problems = await layerProblems('simulator/src/engine', ['@canopy/core/runtime', '@canopy/core/util']);
    expect(problems.get(1)).toContain('simulator/src/engine may not import core/src/node/runtime');
    expect(problems.get(2)).toBeUndefined();
    const renderer = await layerProblems('renderer/src/api', ['@canopy/core/compute/port']);
    expect(renderer.get(1)).toContain('renderer/src/api may not import core/src/compute');
  });

  it('is an order: no layer reaches itself through the layers it may import', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (l: string, path: string[]): void => {
      if (done.has(l)) return;
      expect(visiting.has(l), `cycle: ${[...path, l].join(' -> ')}`).toBe(false);
      visiting.add(l);
      for (const next of table[l] ?? []) visit(next, [...path, l]);
      visiting.delete(l);
      done.add(l);
    };
    for (const l of names) visit(l, []);
    for (const l of names) for (const dep of table[l]!) expect(names, `${l} lists ${dep}, which is no layer`).toContain(dep);
  });
});

describe('the shipped code', () => {
  it('has no import cycle between files', () => {
    const graph = importGraph(['core/src', 'simulator/src', 'electron/src', 'renderer/src', 'cli/src']);
    const cycles = stronglyConnected(graph).filter((c) => c.length > 1);
    expect(cycles).toEqual([]);
  });
});

function importGraph(dirs: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      return statSync(join(root, path)).isDirectory() ? walk(path) : /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
    });
  for (const file of dirs.flatMap(walk)) {
    const text = readFileSync(join(root, file), 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const base = normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '');
      const found = ['.ts', '.tsx', '/index.ts'].map((ext) => base + ext).find((p) => graphHas(p));
      if (found) targets.push(found);
    }
    graph.set(file, targets);
  }
  return graph;
}

function graphHas(path: string): boolean {
  try {
    return statSync(join(root, path)).isFile();
  } catch {
    return false;
  }
}

// Tarjan's strongly connected components.
function stronglyConnected(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return out;
}
