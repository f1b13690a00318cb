/**
 * The low-GPU-memory failsafe in a real browser (issue 13), on webgl (headless Chromium, SwiftShader WebGL2), through
 * the bundle `cli.ts serve` builds: labels planned to a tiny tensor limit equal the unrestricted webgl run voxel for
 * voxel and the cpu backend's (in the page); a WebGL context lost mid-run (`WEBGL_lose_context`) moves the run to
 * cpu with one line and the same labels, never a hang or zeros.
 *
 * Skipped when Chromium is absent, or with env NIFTYTS_WEB_E2E=0.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { CHROMIUM_MISSING, launchChromium } from "./_browser.ts";
import { startServer } from "../src/commands/serve.ts";

const missing = CHROMIUM_MISSING ?? (Deno.env.get("NIFTYTS_WEB_E2E") === "0" ? "NIFTYTS_WEB_E2E=0" : undefined);
if (missing) console.warn(`web failsafe test skipped: ${missing}`);

/** Runs in the page: a small MeshNet on cpu, on webgl whole and in tiny slabs, and on webgl losing its context. */
const IN_PAGE = `(async () => {
  const n = await import("/dist/niftyts.js");
  const shape = [1, 37, 12, 10, 1];
  const values = n.tf.tidy(() => n.tf.randomUniform(shape, 0, 1, "float32", 13).dataSync());
  const labels = async (options = {}) => {
    const net = new n.MeshNet({ numClasses: 3, channels: 4, dilations: [1, 2, 1] });
    const store = new n.VariableStore({ seed: 13 }); // the same weights on every backend
    n.tf.tidy(() => void n.applyNetwork(net, [n.tf.zeros(shape)], { store }));
    return await n.predictLabelsFailsafe(net, store, values, shape, options);
  };
  await n.useBrowserBackend("cpu");
  const cpu = await labels();
  await n.useBrowserBackend("webgl");
  const limits = n.deviceLimits();
  const whole = await labels();
  const small = await labels({ maxTensorBytes: (2 + 2 * 4) * 4 * 120 * 4 });
  const notices = [];
  const lost = await n.withBackendFallback(["webgl", "cpu"], () => labels({
    maxTensorBytes: (2 + 2 * 4) * 4 * 120 * 4,
    afterSlab: (slab) => {
      if (slab === 3) n.webglContext().getExtension("WEBGL_lose_context").loseContext();
    },
  }), { use: (b) => n.useBrowserBackend(b), onNotice: (line) => notices.push(line) });
  const plain = (r) => ({ labels: Array.from(r.labels), planes: r.planes, slabs: r.slabs, backend: r.backend });
  return {
    limits,
    cpu: plain(cpu),
    whole: plain(whole),
    small: plain(small),
    lost: { ...plain(lost.value), backend: lost.backend, notes: lost.notes, notices },
  };
})()`;

Deno.test({
  name: "web failsafe on webgl: tiny slabs give the unrestricted labels; a lost context falls back to cpu, same labels",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_failsafe_" });
    const server = await startServer({ port: 0, distDir: `${dir}/dist`, cacheDir: `${dir}/cache` });
    const browser = await launchChromium();
    try {
      const page = await browser.ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });
      type Run = { labels: number[]; planes: number; slabs: number; backend: string };
      const r = await page.evaluate<{
        limits: { backend: string; maxTensorBytes: number; source: string };
        cpu: Run;
        whole: Run;
        small: Run;
        lost: Run & { notes: string[]; notices: string[] };
      }>(IN_PAGE);
      console.log(`webgl limits: ${JSON.stringify(r.limits)}`);
      ok(r.limits.backend === "webgl" && r.limits.maxTensorBytes >= 2 ** 24, JSON.stringify(r.limits));
      assertEquals([r.whole.backend, r.whole.slabs], ["webgl", 1]);
      assertEquals([r.small.backend, r.small.planes, r.small.slabs], ["webgl", 2, 19]);
      assertEquals(r.small.labels, r.whole.labels);
      let differ = 0;
      for (let i = 0; i < r.cpu.labels.length; i++) if (r.cpu.labels[i] !== r.whole.labels[i]) differ++;
      ok(differ <= 2, `${differ} of ${r.cpu.labels.length} webgl labels differ from cpu's`);
      assertEquals(r.lost.backend, "cpu");
      assertEquals(r.lost.notes, ["webgl: the WebGL context was lost; running on cpu instead"]);
      assertEquals(r.lost.notices, r.lost.notes);
      assertEquals(r.lost.labels, r.cpu.labels);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
