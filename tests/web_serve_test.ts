/**
 * `cli.ts serve`'s routes: the page, the bundle folder, the wasm binaries, the zoo's published files (from the
 * mirror, verified into the cache) and nothing else: no source file, no path that climbs out, no unlisted zoo file.
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { startServer } from "../src/commands/serve.ts";
import { BUNDLE_STAMP, bundleInputsHash } from "../src/commands/web_bundle.ts";
import { getZooEntry } from "../zoo/mod.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const present = (() => {
  try {
    return Deno.statSync(`${MIRROR}SHA256SUMS`).isFile;
  } catch {
    return false;
  }
})();

Deno.test("serve answers its own files, refuses sources and escapes, and isolates the page (COOP/COEP)", async () => {
  const distDir = await Deno.makeTempDir();
  const cacheDir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${distDir}/niftyts.js`, "export const x = 1;\n");
  const server = await startServer({ port: 0, distDir, build: false, mirror: MIRROR, cacheDir });
  const get = async (path: string) => {
    const r = await fetch(new URL(path, server.url));
    const body = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), r, body };
  };
  try {
    const page = await get("/");
    assertEquals([page.status, page.type], [200, "text/html; charset=utf-8"]);
    assertEquals(page.r.headers.get("cross-origin-embedder-policy"), "require-corp");
    assertEquals(page.r.headers.get("cross-origin-opener-policy"), "same-origin");
    assertEquals((await get("/dist/niftyts.js")).type, "text/javascript; charset=utf-8");
    const wasm = await get("/tfjs-backend-wasm/tfjs-backend-wasm-simd.wasm");
    assertEquals([wasm.status, wasm.type], [200, "application/wasm"]);
    assertEquals([...wasm.body.subarray(0, 4)], [0, 0x61, 0x73, 0x6d]); // "\0asm"
    for (const path of ["/niftyts.ts", "/backend.ts", "/../deno.json", "/%2e%2e/deno.json", "/dist/../niftyts.ts"]) {
      assertEquals((await get(path)).status, 404, path);
    }
    assertEquals((await get("/zoo/models/nothing/model.json")).status, 404);
    assertEquals((await get("/tfjs-backend-wasm/package.json")).status, 404);
    assertEquals((await get("/")).status, 200);
    const post = await fetch(server.url, { method: "POST", body: "x" });
    await post.body?.cancel();
    assertEquals(post.status, 405);
    if (present) {
      const file = getZooEntry("gwm-light").weights.modelJson;
      const zoo = await get(`/zoo/${file.path}`);
      assertEquals([zoo.status, zoo.body.length], [200, file.bytes]);
      ok(Deno.statSync(`${cacheDir}/${file.path}`).isFile, "verified into the cache");
    }
  } finally {
    await server.shutdown();
    await Deno.remove(distDir, { recursive: true });
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("the bundle's input hash changes with a source file's content and ignores the bundle's own folder", async () => {
  const base = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${base}/src/dist`, { recursive: true });
    await Deno.writeTextFile(`${base}/src/a.ts`, "export const a = 1;\n");
    await Deno.writeTextFile(`${base}/src/notes.md`, "not an input\n");
    const hash = () => bundleInputsHash({ roots: ["src"], base, skip: `${base}/src/dist` });
    const first = await hash();
    await Deno.writeTextFile(`${base}/src/dist/niftyts.js`, "built output\n");
    await Deno.writeTextFile(`${base}/src/notes.md`, "still not an input\n");
    assertEquals(await hash(), first);
    await Deno.writeTextFile(`${base}/src/a.ts`, "export const a = 2;\n");
    ok((await hash()) !== first, "a changed source must change the hash");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("serve reuses a bundle built from the same inputs and rebuilds when they changed", async () => {
  const distDir = await Deno.makeTempDir({ prefix: "niftyts_dist_" });
  const starts: boolean[] = [];
  const start = async () => {
    const server = await startServer({ port: 0, distDir, onBundle: (built) => starts.push(built) });
    await server.shutdown();
  };
  try {
    await start();
    const built = (await Deno.stat(`${distDir}/niftyts.js`)).mtime;
    await start();
    assertEquals((await Deno.stat(`${distDir}/niftyts.js`)).mtime, built, "the second start must not rebuild");
    // As if a source had changed since the last build: the recorded hash no longer matches.
    await Deno.writeTextFile(`${distDir}/${BUNDLE_STAMP}`, "0".repeat(64) + "\n");
    await start();
    assertEquals(starts, [true, false, true]);
    assertEquals(
      (await Deno.readTextFile(`${distDir}/${BUNDLE_STAMP}`)).trim(),
      await bundleInputsHash({ skip: distDir, tag: "minify=true" }),
    );
  } finally {
    await Deno.remove(distDir, { recursive: true });
  }
});
