/**
 * WebGL parity matrix (issue 12) in headless Chromium (Debian's, WebGL2 on SwiftShader, driven by playwright-core):
 * the browser bundle (`web/niftyts.ts`) runs `computeOn` — the very function the webgpu matrix runs under Deno — on
 * the webgl backend with the variables and inputs of a cpu run made here in Deno, for every case of
 * `tests/_parity_cases.ts`: forward outputs within 1e−4 relative of cpu's, and for toynet, unet, highres3dnet, vnet,
 * meshnet and dense_vnet the gradient w.r.t. every trainable variable within 1e−3. Skips, with the reason, when
 * Chromium is absent.
 */
import { ok as assert } from "node:assert/strict";
import { useBackend } from "../src/backend.ts";
import { startServer } from "../src/commands/serve.ts";
import { compareComputed, computeOn, DENO_LIBRARY, type PlainComputed } from "./_backend_parity.ts";
import { PARITY_CASES } from "./_parity_cases.ts";
import { CHROMIUM_MISSING, launchChromium } from "./_browser.ts";

await useBackend("cpu");

Deno.test({
  name: `webgl parity in Chromium: every network's forward (≤ 1e-4) and the six networks' gradients (≤ 1e-3) match cpu${
    CHROMIUM_MISSING ? ` [skipped: ${CHROMIUM_MISSING}]` : ""
  }`,
  ignore: CHROMIUM_MISSING !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const distDir = await Deno.makeTempDir({ prefix: "niftyts_dist_" });
    const server = await startServer({ port: 0, distDir });
    const browser = await launchChromium();
    const failures: string[] = [];
    try {
      const page = await browser.ctx.newPage();
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.goto(server.url);
      const backend = await page.evaluate(async () => {
        const n = await import("/dist/niftyts.js");
        return await n.useBrowserBackend("webgl");
      });
      assert(backend === "webgl", `Chromium started ${backend}, not webgl`);
      for (const c of PARITY_CASES) {
        const ref = await computeOn(DENO_LIBRARY, c);
        const spec = { build: c.build.toString(), inputs: c.inputs, gradients: c.gradients };
        const got = await page.evaluate(async ({ source, spec, weights }) => {
          const n = await import("/dist/niftyts.js");
          const compute = (0, eval)(`(${source})`);
          try {
            return await compute(n, spec, weights);
          } catch (e) {
            return { error: String((e as Error).message ?? e) };
          }
        }, { source: computeOn.toString(), spec, weights: ref.weights }) as PlainComputed | { error: string };
        if ("error" in got) {
          failures.push(`${c.name}: ${got.error}`);
          console.log(`parity ${c.name} webgl error: ${got.error}`);
          continue;
        }
        const r = compareComputed(ref, got);
        console.log(
          `parity ${c.name} webgl forward ${r.forward.toExponential(2)} ${r.worstOutput} gradient ${
            r.gradient.toExponential(2)
          } ${r.worstGradient}`,
        );
        if (r.zeroOutput) failures.push(`${c.name}: webgl output is all zeros`);
        if (!(r.forward <= 1e-4)) failures.push(`${c.name}: forward relative error ${r.forward}`);
        if (!(r.gradient <= 1e-3)) {
          failures.push(`${c.name}: gradient relative error ${r.gradient} (${r.worstGradient})`);
        }
      }
      assert(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(distDir, { recursive: true });
    }
    assert(failures.length === 0, failures.join("\n"));
  },
});
