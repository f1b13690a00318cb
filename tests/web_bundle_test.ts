/**
 * The browser build (issue 13, step 1): the browser entry `web/niftyts.ts` never reaches Deno-only code, and
 * `cli.ts serve`'s bundle loads and computes in headless Chromium: webgl inference equals cpu, gradients are
 * registered (wasm's equal cpu's), and the page asks nothing of any other origin.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { importGraph, readSources } from "./_import_graph.ts";
import { CHROMIUM_MISSING, launchChromium } from "./_browser.ts";
import { startServer } from "../src/commands/serve.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BROWSER_ENTRY = "web/niftyts.ts";
/** Every script the bundle builds for the browser: the library, the app's page and its worker. */
const BROWSER_ENTRIES = [BROWSER_ENTRY, "web/app.ts", "web/worker.ts"];

/** Modules reachable from `entry` through static, dynamic and worker imports. */
function reachable(graph: ReadonlyMap<string, readonly string[]>, entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const m = todo.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    todo.push(...(graph.get(m) ?? []));
  }
  return seen;
}

/** A top-level (static) import or re-export of a Node built-in: it would have to resolve before the module runs. */
const STATIC_NODE_IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*["']node:[^"']+["']|^import\s*["']node:/m;

Deno.test("the browser entries' import graphs never reach deps_deno.ts, the CLI or a static node: import", async () => {
  const sources = await readSources(ROOT);
  const graph = importGraph(sources);
  const modules = new Set(BROWSER_ENTRIES.flatMap((entry) => [...reachable(graph, entry)]));
  ok(modules.has("src/engine/finetune.ts") && modules.has("web/finetune_job.ts"));
  ok(modules.has("zoo/segment.ts") && modules.has("networks/meshnet.ts") && modules.has("src/io/nifti_read.ts"));
  const deno = [...modules].filter((m) =>
    m === "src/deps_deno.ts" || m === "cli.ts" || m.startsWith("src/commands/") || m === "zoo/cache.ts"
  );
  assertEquals(deno, []);
  const nodeImports = [...modules].filter((m) => STATIC_NODE_IMPORT.test(sources.get(m) ?? "")).sort();
  assertEquals(nodeImports, []);
});

Deno.test({
  name: "the bundle loads in headless Chromium: webgl inference equals cpu, gradients registered, no other origin",
  ignore: CHROMIUM_MISSING !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const distDir = await Deno.makeTempDir({ prefix: "niftyts_dist_" });
    const server = await startServer({ port: 0, distDir });
    const browser = await launchChromium();
    try {
      const page = await browser.ctx.newPage();
      const errors: string[] = [], foreign: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("request", (r) => {
        // blob: URLs the page made itself carry its origin
        if (new URL(r.url()).origin !== new URL(server.url).origin) foreign.push(r.url());
      });
      await page.goto(server.url);
      const r = await page.evaluate(async () => {
        const t0 = performance.now();
        const n = await import("/dist/niftyts.js");
        const loadMs = performance.now() - t0;
        const tf = n.tf;
        const run = async (backend: string) => {
          const used = await n.useBrowserBackend(backend);
          const net = new n.MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2] });
          const store = new n.VariableStore({ seed: 1 });
          const x = tf.tensor(Array.from({ length: 512 }, (_, i) => Math.sin(i)), [1, 8, 8, 8, 1]);
          const y = n.applyNetwork(net, [x], { store });
          const out = { used, y: Array.from(await y.data()) as number[], grad: [] as number[] };
          if (backend !== "webgl") {
            const g = tf.grad((a: unknown) => tf.sum(tf.square(n.applyNetwork(net, [a], { store }))))(x);
            out.grad = Array.from(await g.data());
          }
          tf.dispose([x, y]);
          store.dispose();
          return out;
        };
        return {
          loadMs,
          version: n.VERSION,
          cpu: await run("cpu"),
          wasm: await run("wasm"),
          webgl: await run("webgl"),
        };
      });
      const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
      assertEquals([r.cpu.used, r.wasm.used, r.webgl.used], ["cpu", "wasm", "webgl"]);
      ok(maxDiff(r.webgl.y, r.cpu.y) < 1e-4, `webgl vs cpu ${maxDiff(r.webgl.y, r.cpu.y)}`);
      ok(r.cpu.grad.some((v) => v !== 0), "cpu gradient is not all zeros");
      ok(maxDiff(r.wasm.grad, r.cpu.grad) < 1e-3, `wasm vs cpu gradient ${maxDiff(r.wasm.grad, r.cpu.grad)}`);
      assertEquals(foreign, []);
      assertEquals(errors, []);
      let bytes = 0;
      for await (const e of Deno.readDir(distDir)) bytes += (await Deno.stat(`${distDir}/${e.name}`)).size;
      const entry = (await Deno.stat(`${distDir}/niftyts.js`)).size;
      console.log(
        `bundle: ${(bytes / 2 ** 20).toFixed(2)} MiB in all (entry ${(entry / 1024).toFixed(0)} KiB), ` +
          `import in Chromium ${r.loadMs.toFixed(0)} ms`,
      );
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(distDir, { recursive: true });
    }
  },
});
