/**
 * Loading a zoo entry over HTTP (`zoo/fetch.ts`, what the browser does): the same variables as the file-cache
 * loader, and one clear error for a corrupt file or a missing one.
 */
import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { fetchZooModel, getZooEntry, loadZooModel, zooTensors } from "../zoo/mod.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const present = (() => {
  try {
    return Deno.statSync(`${MIRROR}SHA256SUMS`).isFile;
  } catch {
    return false;
  }
})();
if (!present) console.warn(`zoo fetch tests skipped: ${MIRROR} is absent`);

/** Serves the mirror folder; `corrupt` paths get their first byte flipped. */
function serveMirror(corrupt: ReadonlySet<string> = new Set()) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname).replace(/^\/mirror\//, "");
    try {
      const bytes = await Deno.readFile(join(MIRROR, path));
      if (corrupt.has(path)) bytes[0] ^= 0xff;
      return new Response(bytes);
    } catch {
      return new Response("not found", { status: 404, statusText: "Not Found" });
    }
  });
  return { base: `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}/mirror/`, close: () => server.shutdown() };
}

Deno.test({
  name: "fetchZooModel over HTTP gives the same variables as loadZooModel from the cache",
  ignore: !present,
  fn: async () => {
    const server = serveMirror();
    const cacheDir = await Deno.makeTempDir();
    const seen: string[] = [];
    const fetched = await fetchZooModel("gwm-light", server.base, { onProgress: (p) => seen.push(p.file) });
    const cached = await loadZooModel("gwm-light", { mirror: MIRROR, cacheDir });
    try {
      const a = zooTensors(fetched), b = zooTensors(cached);
      assertEquals([...a.keys()].sort(), [...b.keys()].sort());
      for (const [name, t] of a) assertEquals(t, b.get(name), name);
      const files = getZooEntry("gwm-light").weights.files.map((f) => f.path);
      assertEquals(seen.every((p) => files.includes(p)), true);
    } finally {
      fetched.dispose();
      cached.dispose();
      await server.close();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "fetchZooModel refuses a file whose sha256 differs and names a missing file's URL and HTTP status",
  ignore: !present,
  fn: async () => {
    const entry = getZooEntry("gwm-light");
    const json = entry.weights.modelJson.path;
    const bad = serveMirror(new Set([json]));
    try {
      await rejects(fetchZooModel(entry, bad.base), (e: Error) => {
        assertEquals(e.message.startsWith(`zoo file ${bad.base}${json}: sha256 `), true, e.message);
        return true;
      });
      await rejects(fetchZooModel(entry, bad.base.replace("/mirror/", "/elsewhere/")), /HTTP 404 Not Found$/);
    } finally {
      await bad.close();
    }
  },
});
