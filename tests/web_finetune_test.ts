/**
 * Fine-tuning in the web app end to end in headless Chromium (issue 13's acceptance): on an 80 mm crop of the
 * brainchop T1, `niftyts.finetune` trains gwm-light for 3 iterations in the worker on a label file and the loss goes
 * down; the checkpoint the page hands out (`niftyts.checkpoint()`) is read by the checkpoint reader the CLI uses and
 * restores gwm-light's network by name (same variables, same shapes); Deno segmenting the crop with those weights
 * equals the page's `segment(…, { tuned: true })` on ≥ 99.9 % of voxels; a label file off the scan's grid shows one
 * readable line; the page asks nothing of any other origin.
 *
 * Skipped when Chromium or the brainchop data are absent, or with env NIFTYTS_WEB_E2E=0.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { launchChromium, pageTestSkipReason } from "./_browser.ts";
import { cropImage } from "./_data_helpers.ts";
import { startServer } from "../src/commands/serve.ts";
import { decodeNiftiFile, encodeNifti1, type Image, readImage } from "../src/io/mod.ts";
import { useBackend } from "../src/backend.ts";
import { readCheckpoint } from "../src/dsl/mod.ts";
import { getZooEntry, loadZooModel, segmentImage, zooModelFromTensors } from "../zoo/mod.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const T1 = `${MIRROR}t1_crop.nii.gz`;
const missing = pageTestSkipReason([T1]);
if (missing) console.warn(`web fine-tune test skipped: ${missing}`);
const BACKEND = Deno.env.get("NIFTYTS_WEB_TEST_BACKEND") ?? "wasm";

/** A label volume on `scan`'s grid: a 6³ block at its centre labelled grey matter (1). */
function labels(scan: Image): Image {
  const [n] = scan.shape;
  const data = new Uint8Array(n ** 3);
  for (let z = 37; z < 43; z++) {
    for (let y = 37; y < 43; y++) for (let x = 37; x < 43; x++) data[x + n * (y + n * z)] = 1;
  }
  return { ...scan, data, datatype: "uint8" };
}

const toBase64 = (bytes: Uint8Array) => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode(...bytes.subarray(i, i + 32768));
  return btoa(s);
};
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const PAGE_BYTES = `(b) => {
  let s = "";
  for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
  return btoa(s);
}`;

Deno.test({
  name: `web app: a 3-iteration fine-tune (${BACKEND}) lowers the loss; its checkpoint restores gwm-light in Deno, ` +
    "whose segmentation with it equals the page's on ≥ 99.9 % of voxels",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_web_ft_" });
    const server = await startServer({ port: 0, distDir: `${dir}/dist`, mirror: MIRROR, cacheDir: `${dir}/cache` });
    const browser = await launchChromium();
    try {
      // The 80³ crop (80 mm, the smallest head the zoo accepts) around the T1's centre, on its own grid.
      const scan = cropImage(await readImage(T1), 88, 80);
      const scanBytes = encodeNifti1(scan);
      const labelBytes = encodeNifti1(labels(scan));
      const page = await browser.ctx.newPage();
      const foreign: string[] = [], errors: string[] = [];
      page.on("request", (r) => {
        if (new URL(r.url()).origin !== new URL(server.url).origin) foreign.push(r.url());
      });
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${server.url}?backend=${BACKEND}`);
      await page.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });
      await page.evaluate(
        `niftyts.load(Uint8Array.from(atob("${toBase64(scanBytes)}"), (c) => c.charCodeAt(0)), "crop.nii")`,
      );

      // A label file off the scan's grid, through the panel's file input: one readable line.
      const wrong = encodeNifti1({ ...labels(scan), data: new Uint8Array(40 * 80 * 80), shape: [40, 80, 80, 1, 1] });
      await Deno.writeFile(`${dir}/half.nii`, wrong);
      await page.setInputFiles("#ft-labels", `${dir}/half.nii`);
      await page.fill("#ft-iterations", "1");
      await page.click("#ft-run");
      await page.waitForFunction(`niftyts.status().startsWith("error")`, null, { timeout: 120_000 });
      const shown = await page.textContent("#error") ?? "";
      ok(/half\.nii: its grid \[40, 80, 80\] is not the scan's \[80, 80, 80\]/.test(shown), shown);

      // Three iterations through the hook, on a label file.
      const run = await page.evaluate<{ losses: number[]; note: string }>(`niftyts.finetune({
        zooId: "gwm-light",
        labels: Uint8Array.from(atob("${toBase64(labelBytes)}"), (c) => c.charCodeAt(0)),
        iterations: 3, learningRate: 0.003, windowSize: 48, varsToFreeze: "conv_0_",
      }).then((r) => ({ ...r, note: document.getElementById("ft-note").textContent }))`);
      console.log(`fine-tune losses ${run.losses.map((l) => l.toFixed(4)).join(" → ")}; ${run.note}`);
      assertEquals(run.losses.length, 3);
      ok(run.losses[2] < run.losses[0], `loss did not go down: ${run.losses}`);
      ok(await page.isHidden("#error"));
      const checkpoint = fromBase64(await page.evaluate<string>(`niftyts.checkpoint().then(${PAGE_BYTES})`));
      await page.evaluate(`niftyts.segment("gwm-light", { tuned: true })`);
      const done = await page.evaluate<string>("niftyts.status()");
      ok(done.includes("fine-tuned weights"), done);
      const got = decodeNiftiFile(fromBase64(await page.evaluate<string>(`niftyts.result().then(${PAGE_BYTES})`)), "r");

      // Deno: the checkpoint through the checkpoint reader, restored by name into gwm-light's network.
      await Deno.writeFile(`${dir}/tuned.safetensors`, checkpoint);
      const { tensors, info } = await readCheckpoint(`${dir}/tuned.safetensors`);
      assertEquals([info.iteration, info.network], [3, "meshnet"]);
      await useBackend("cpu");
      const original = await loadZooModel("gwm-light", { mirror: MIRROR, cacheDir: `${dir}/cache` });
      const published = await original.store.toNamedTensors();
      assertEquals([...tensors.keys()], [...published.keys()]);
      for (const [name, t] of published) {
        assertEquals(tensors.get(name)!.shape, t.shape, name);
        const same = (tensors.get(name)!.data as Float32Array).every((v, i) => v === t.data[i]);
        assertEquals(same, name.includes("conv_0_"), `${name} ${same ? "unchanged" : "changed"}`);
      }
      original.dispose();
      const tuned = zooModelFromTensors(getZooEntry("gwm-light"), tensors, { sourceName: "tuned.safetensors" });
      const reference = segmentImage(tuned, scan);
      tuned.dispose();
      assertEquals(got.shape, reference.labels.shape);
      let same = 0;
      for (let i = 0; i < got.data.length; i++) if (got.data[i] === reference.labels.data[i]) same++;
      const fraction = same / got.data.length;
      console.log(`page (${done}) vs Deno with the tuned checkpoint: ${(100 * fraction).toFixed(4)} % of voxels equal`);
      ok(fraction >= 0.999, `only ${fraction} equal`);
      assertEquals(foreign, []);
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
