/**
 * The web app end to end in headless Chromium (issue 13): `cli.ts serve`'s page opens the real T1 through its file
 * input, segments it with gwm-light in its worker, and the label map it hands out equals Deno's `zoo run` on
 * ≥ 99.9 % of voxels; the overlay is drawn; the page asks nothing of any other origin; bad files (a PNG, a
 * truncated .nii.gz, a 4D series) show a readable message; cancel stops a run and a new one completes.
 *
 * Runs by default (about 4 min of the suite on a loaded 2-core machine: the segmentation on single-threaded wasm SIMD
 * takes most of it); skipped when Chromium or the brainchop data are absent, or with env NIFTYTS_WEB_E2E=0.
 * The worker's backend is env NIFTYTS_WEB_TEST_BACKEND (default wasm; webgl on SwiftShader WebGL2 is far slower).
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { launchChromium, pageTestSkipReason } from "./_browser.ts";
import { startServer } from "../src/commands/serve.ts";
import { decodePng } from "../src/deps.ts";
import { decodeNiftiFile, encodeNifti1, type Image, readImage } from "../src/io/mod.ts";
import { useBackend } from "../src/backend.ts";
import { segment } from "../zoo/mod.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const T1 = `${MIRROR}t1_crop.nii.gz`;
const missing = pageTestSkipReason([T1]);
if (missing) console.warn(`web app test skipped: ${missing}`);
const BACKEND = Deno.env.get("NIFTYTS_WEB_TEST_BACKEND") ?? "wasm";

/** The label map from `niftyts.result()`, base64 in the page (a 16 MiB array would not cross as JSON). */
const RESULT_BASE64 = `niftyts.result().then((b) => {
  let s = "";
  for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
  return btoa(s);
})`;

Deno.test({
  name: `web app: file input → gwm-light in the worker (${BACKEND}) equals zoo run on ≥ 99.9 % of voxels; bad files`,
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_web_" });
    const server = await startServer({ port: 0, distDir: `${dir}/dist`, mirror: MIRROR, cacheDir: `${dir}/cache` });
    const browser = await launchChromium();
    try {
      const page = await browser.ctx.newPage();
      const foreign: string[] = [], errors: string[] = [];
      page.on("request", (r) => {
        if (new URL(r.url()).origin !== new URL(server.url).origin) foreign.push(r.url());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${server.url}?backend=${BACKEND}`);
      await page.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });
      const status = () => page.evaluate<string>("niftyts.status()");

      // Bad files: one readable line each, naming the file; the page stays usable.
      const image = await readImage(T1);
      const small: Image = { ...image, data: new Uint8Array(8 * 8 * 8 * 3), shape: [8, 8, 8, 3, 1], ndim: 4 };
      const t1 = await Deno.readFile(T1);
      const png = new Uint8Array(600);
      png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const bad: [string, Uint8Array, RegExp][] = [
        ["photo.png", png, /photo\.png"?: not a NIfTI or Analyze file/],
        ["cut.nii.gz", t1.subarray(0, t1.length >> 1), /cut\.nii\.gz"?: gzip data is truncated/],
        ["series.nii.gz", gzipSync(encodeNifti1(small)), /series\.nii\.gz"?: is a 4D series of 3 volumes/],
      ];
      for (const [name, bytes, expected] of bad) {
        await Deno.writeFile(`${dir}/${name}`, bytes);
        await page.setInputFiles("#file", `${dir}/${name}`);
        const named = `niftyts.status().startsWith("error") && niftyts.status().includes(${JSON.stringify(name)})`;
        await page.waitForFunction(named, null, { timeout: 60_000 });
        const shown = await page.textContent("#error");
        ok(expected.test(shown ?? ""), `${name}: page shows "${shown}"`);
        ok(await page.isVisible("#error"), `${name}: message visible`);
      }

      // The real scan through the file input.
      await page.setInputFiles("#file", T1);
      await page.waitForFunction(`niftyts.status() === "loaded"`, null, { timeout: 120_000 });
      ok(await page.isHidden("#error"));

      // Cancel a run once it is under way, then run to the end.
      await page.click("#segment");
      await page.waitForFunction(`niftyts.status().startsWith("segmenting")`, null, { timeout: 60_000 });
      await page.click("#cancel");
      assertEquals(await status(), "cancelled");
      await page.click("#segment");
      // The progress bar advances step by step while the network streams (sampled each second).
      const fractions: number[] = [];
      for (const end = Date.now() + 900_000; Date.now() < end && !/^(done|error)/.test(await status());) {
        const value = await page.evaluate<number>(`document.getElementById("progress").value`);
        if (value !== fractions.at(-1)) fractions.push(value);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const done = await status();
      console.log(`progress bar values seen: ${fractions.map((f) => f.toFixed(2)).join(" ")}`);
      ok(fractions.filter((f) => f > 0.1 && f < 1).length >= 5, `progress: ${fractions}`);
      ok(fractions.every((f, i) => i === 0 || f > fractions[i - 1]), `progress went back: ${fractions}`);
      ok(done.startsWith(`done (${BACKEND}`), done);
      const got = decodeNiftiFile(
        Uint8Array.from(atob(await page.evaluate<string>(RESULT_BASE64)), (c) => c.charCodeAt(0)),
        "result.nii",
      );

      // Deno's zoo run on the same file.
      await useBackend("cpu");
      const reference = await segment("gwm-light", T1, { mirror: MIRROR, cacheDir: `${dir}/cache` });
      assertEquals(got.shape, reference.labels.shape);
      assertEquals(got.affine.flat().map((v) => Math.fround(v)), reference.labels.affine.flat().map(Math.fround));
      let same = 0;
      for (let i = 0; i < got.data.length; i++) if (got.data[i] === reference.labels.data[i]) same++;
      const fraction = same / got.data.length;
      console.log(`web ${done}: ${(100 * fraction).toFixed(4)} % of voxels equal to zoo run`);
      ok(fraction >= 0.999, `only ${fraction} equal`);

      // The overlay is drawn: the viewer shows grey-matter red (205, 62, 78) over the grey scan.
      const shot = decodePng(await page.locator("#viewer").screenshot());
      const px = shot.data, step = shot.channels ?? 4;
      let red = 0, lit = 0;
      for (let i = 0; i < px.length; i += step) {
        if (px[i] > 40 || px[i + 1] > 40) lit++;
        if (px[i] > px[i + 1] + 40 && px[i] > px[i + 2] + 30) red++;
      }
      const total = px.length / step;
      ok(lit > total * 0.05 && red > total * 0.005, `viewer lit ${lit}, red ${red} of ${total} pixels`);
      await page.screenshot({ path: `${dir}/app.png` });
      const table = await page.$$eval("#volumes tr", (rows) => rows.map((r) => r.textContent));
      assertEquals(table.length, 3);
      assertEquals(foreign, []);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
