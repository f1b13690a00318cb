/**
 * The layering of docs/ARCHITECTURE.md, checked over the source text: no import climbs a layer, no two modules and
 * no two folders import each other in a cycle. The checker itself is tested on small made-up graphs.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { cycles, importedSpecifiers, importGraph, layerViolations, readSources, unitGraph } from "./_import_graph.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const graph = importGraph(await readSources(ROOT));

Deno.test("no module imports from a layer above its own (cli/commands → applications → engine → … → util)", () => {
  assertEquals(layerViolations(graph), []);
});

Deno.test("no import cycle between modules", () => {
  assertEquals(cycles(graph), []);
});

Deno.test("no import cycle between folders (src/io ↔ src/geometry, src/engine ↔ src/applications …)", () => {
  assertEquals(cycles(unitGraph(graph)), []);
});

Deno.test("the import graph covers the library: engine, applications, kernels and networks are in it", () => {
  for (
    const path of ["src/engine/driver.ts", "src/applications/mod.ts", "src/kernels/register.ts", "networks/unet.ts"]
  ) {
    assertEquals(graph.has(path), true, path);
  }
  assertEquals(graph.get("cli.ts")?.includes("src/commands/run_action.ts"), true);
});

Deno.test("the checker finds an upward import, a cycle, a folder cycle and a module of no layer", () => {
  const made = importGraph(
    new Map([
      ["src/engine/driver.ts", 'import { x } from "../applications/segmentation.ts";\n'],
      ["src/applications/segmentation.ts", 'import type { Y } from "../engine/driver.ts";\n'],
      ["src/io/a.ts", 'export { g } from "../geometry/b.ts";\n'],
      ["src/geometry/b.ts", 'const m = await import("../io/a.ts");\n'],
      ["src/nowhere/c.ts", '/**\n * ```ts\n * import { a } from "../io/a.ts";\n * ```\n */\n'],
    ]),
  );
  assertEquals(layerViolations(made), [
    "src/engine/driver.ts imports src/applications/segmentation.ts: src/engine is below src/applications",
    "src/nowhere/c.ts belongs to no layer (add its folder to LAYERS in tests/_import_graph.ts)",
  ]);
  assertEquals(cycles(made), [
    ["src/applications/segmentation.ts", "src/engine/driver.ts"],
    ["src/geometry/b.ts", "src/io/a.ts"],
  ]);
  assertEquals(cycles(unitGraph(made)), [["src/applications", "src/engine"], ["src/geometry", "src/io"]]);
});

Deno.test("imports in doc-comment examples do not count; side-effect, re-export and worker imports do", () => {
  const text = [
    "/**",
    " * ```ts",
    ' * import { a } from "./example.ts";',
    " * ```",
    " */",
    'import "./side.ts";',
    "import {",
    "  b,",
    '} from "./multi.ts";',
    'export * from "./re.ts";',
    'const w = new Worker(new URL("./_worker.ts", import.meta.url), { type: "module" });',
    '// await import("./commented.ts");',
  ].join("\n");
  assertEquals(importedSpecifiers(text).sort(), ["./_worker.ts", "./multi.ts", "./re.ts", "./side.ts"]);
});
