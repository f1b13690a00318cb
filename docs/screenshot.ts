/**
 * `deno task screenshot`: the README's picture of the web app (`docs/img/web_app.png`): `cli.ts serve`'s page in
 * headless Chromium opens brainchop's T1 (`../shared/data/brainchop/t1_crop.nii.gz`, MIT, brainchop) through its file
 * input, segments it with gwm-light (wasm, a few minutes) and is photographed with the overlay and the volume table.
 * The scan itself never enters the repository; only the picture does.
 *
 * @module
 */
import { launchChromium } from "../tests/_browser.ts";
import { startServer } from "../src/commands/serve.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const OUT = new URL("./img/web_app.png", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "niftyts_screenshot_" });
const server = await startServer({ port: 0, distDir: `${dir}/dist`, mirror: MIRROR, cacheDir: `${dir}/cache` });
const browser = await launchChromium();
try {
  const page = await browser.ctx.newPage();
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.goto(`${server.url}?backend=${Deno.env.get("NIFTYTS_WEB_TEST_BACKEND") ?? "wasm"}`);
  await page.waitForFunction(`globalThis.niftyts?.status() === "ready"`, null, { timeout: 120_000 });
  await page.setInputFiles("#file", `${MIRROR}t1_crop.nii.gz`);
  await page.waitForFunction(`niftyts.status() === "loaded"`, null, { timeout: 120_000 });
  await page.click("#segment");
  await page.waitForFunction(`/^(done|error)/.test(niftyts.status())`, null, { timeout: 1_200_000, polling: 2000 });
  const status = await page.evaluate<string>("niftyts.status()");
  if (!status.startsWith("done")) throw new Error(`the page says "${status}"`);
  await page.screenshot({ path: OUT });
  console.log(`${OUT} (${status})`);
} finally {
  await browser.close();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
}
