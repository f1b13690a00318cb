/**
 * The import graph of the library source and the layering it must respect (docs/ARCHITECTURE.md): a script over
 * the source text, not over a bundler's view, so a type-only import counts like any other.
 *
 * Layers, top to bottom; a module may import from its own layer or any layer below, never from one above, and
 * neither the modules nor the folders may import each other in a cycle:
 *
 * ```
 * cli.ts, src/commands, web → src/applications → src/engine → src/data, src/losses, src/evaluation, src/viz, src/export, zoo
 *   → layers, networks → src/dsl, src/io, src/geometry, src/kernels, src/weights, src/backend.ts
 *   → src/util, src/deps.ts, src/deps_deno.ts, src/version.ts
 * ```
 *
 * `mod.ts` (the public face) may import anything; nothing may import it.
 *
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";

/** The layers, top first. Each entry is a folder or a single file, relative to the repository root. */
export const LAYERS: readonly (readonly string[])[] = [
  ["cli.ts", "src/commands", "web"],
  ["src/applications"],
  ["src/engine"],
  ["src/data", "src/losses", "src/evaluation", "src/viz", "src/export", "zoo"],
  ["layers", "networks", "src/inference"],
  ["src/dsl", "src/io", "src/geometry", "src/kernels", "src/weights", "src/backend.ts"],
  ["src/util", "src/deps.ts", "src/deps_deno.ts", "src/version.ts"],
];

/** The public entry point: above every layer, imported by none. */
export const PUBLIC_ENTRY = "mod.ts";

/** Folders (and root files) whose `.ts` files make up the graph. */
export const SOURCE_ROOTS: readonly string[] = ["cli.ts", "mod.ts", "src", "layers", "networks", "zoo", "web"];

/** module path → the module paths it imports (relative to the repository root, `/`-separated). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const STATIC_IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms;
const SIDE_EFFECT_IMPORT = /^import\s*["']([^"']+)["']/gm;
const CONTINUED_IMPORT = /^\}\s*from\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /import\(\s*["']([^"']+)["']\s*\)/g;
const WORKER_URL = /new URL\(\s*["']([^"']+\.ts)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The relative specifiers a module's text imports: static imports and re-exports (at the start of a line, so
 * examples in doc comments do not count), side-effect imports, `import("…")` and worker URLs outside comments.
 */
export function importedSpecifiers(text: string): string[] {
  const out = new Set<string>();
  for (const re of [STATIC_IMPORT, SIDE_EFFECT_IMPORT, CONTINUED_IMPORT]) {
    for (const m of text.matchAll(re)) out.add(m[1]);
  }
  const code = text.split("\n").filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line)).join("\n");
  for (const re of [DYNAMIC_IMPORT, WORKER_URL]) {
    for (const m of code.matchAll(re)) out.add(m[1]);
  }
  return [...out].filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** Builds the graph of `sources` (path → text); edges to files outside `sources` are kept (and reported). */
export function importGraph(sources: ReadonlyMap<string, string>): ImportGraph {
  const graph = new Map<string, string[]>();
  for (const [path, text] of sources) {
    graph.set(path, importedSpecifiers(text).map((s) => normalize(join(dirname(path), s)).replaceAll("\\", "/")));
  }
  return graph;
}

/** Reads every `.ts` file under {@link SOURCE_ROOTS} of the repository at `root`. */
export async function readSources(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(path: string): Promise<void> {
    const info = await Deno.stat(join(root, path)).catch(() => undefined);
    if (!info) return;
    if (info.isFile) {
      if (path.endsWith(".ts")) out.set(path, await Deno.readTextFile(join(root, path)));
      return;
    }
    for await (const entry of Deno.readDir(join(root, path))) await walk(`${path}/${entry.name}`);
  }
  for (const r of SOURCE_ROOTS) await walk(r);
  return out;
}

/** The layer entry (folder or file of {@link LAYERS}) a module belongs to, and the layer's index (0 = top). */
export function unitOf(path: string): { unit: string; level: number } | undefined {
  for (let level = 0; level < LAYERS.length; level++) {
    for (const unit of LAYERS[level]) {
      if (path === unit || path.startsWith(unit + "/")) return { unit, level };
    }
  }
  return undefined;
}

/** Every import that climbs a layer, reaches `mod.ts`, leaves the source, or starts in a module of no layer. */
export function layerViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const a = from === PUBLIC_ENTRY ? { unit: PUBLIC_ENTRY, level: -1 } : unitOf(from);
    if (!a) {
      out.push(`${from} belongs to no layer (add its folder to LAYERS in tests/_import_graph.ts)`);
      continue;
    }
    for (const to of targets) {
      if (to === PUBLIC_ENTRY) {
        out.push(`${from} imports ${to} (the public entry; import the module itself)`);
        continue;
      }
      if (!graph.has(to)) {
        out.push(`${from} imports ${to}, which is not a source file`);
        continue;
      }
      const b = unitOf(to);
      if (b && b.level < a.level) out.push(`${from} imports ${to}: ${a.unit} is below ${b.unit}`);
    }
  }
  return out;
}

/** The cycles of a graph (its strongly connected components of more than one node, or self-loops), sorted. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** The graph between layer entries (folders and files of {@link LAYERS}): an edge for every import across two. */
export function unitGraph(graph: ImportGraph): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    const a = unitOf(from)?.unit;
    if (!a) continue;
    for (const to of targets) {
      const b = unitOf(to)?.unit;
      if (!b || b === a) continue;
      if (!out.has(a)) out.set(a, new Set());
      out.get(a)!.add(b);
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** The path of `file` relative to `root`, `/`-separated. */
export function repoPath(root: string, file: string): string {
  return relative(root, file).replaceAll("\\", "/");
}
