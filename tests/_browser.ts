/**
 * Headless Debian Chromium for the web tests, driven by playwright-core: a fresh profile, no outside network
 * (background services off), WebGL2 on SwiftShader. Tests skip with {@link CHROMIUM_MISSING} when it is absent.
 *
 * @module
 */
import { loadPlaywrightCore } from "../src/deps_deno.ts";

export const CHROMIUM = "/usr/bin/chromium";

/** Why the browser tests skip, or undefined when Chromium is installed. */
export const CHROMIUM_MISSING: string | undefined = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile ? undefined : `${CHROMIUM} is not a file`;
  } catch {
    return `${CHROMIUM} missing (Debian package "chromium")`;
  }
})();

/**
 * Why a page test skips, or undefined when it runs: Chromium missing, `NIFTYTS_WEB_E2E=0`, or one of `files` (shared
 * data) absent.
 */
export function pageTestSkipReason(files: readonly string[] = []): string | undefined {
  if (CHROMIUM_MISSING) return CHROMIUM_MISSING;
  if (Deno.env.get("NIFTYTS_WEB_E2E") === "0") return "NIFTYTS_WEB_E2E=0 turns it off";
  for (const file of files) {
    try {
      Deno.statSync(file);
    } catch {
      return `${file} is absent`;
    }
  }
  return undefined;
}

type Playwright = Awaited<ReturnType<typeof loadPlaywrightCore>>;
/** A persistent browser context of playwright-core. */
export type BrowserContext = Awaited<ReturnType<Playwright["chromium"]["launchPersistentContext"]>>;

/** Launches Chromium with a fresh profile in a temp folder; `close()` ends it and removes the folder. */
export async function launchChromium(): Promise<{ ctx: BrowserContext; close(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_chromium_" });
  const { chromium } = await loadPlaywrightCore();
  const ctx = await chromium.launchPersistentContext(`${dir}/profile`, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--use-angle=swiftshader",
      "--enable-unsafe-swiftshader",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return {
    ctx,
    async close() {
      await ctx.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
