/**
 * mod.ts is importable by URL: serve the repository over HTTP on 127.0.0.1 and run a separate Deno process that
 * imports `http://127.0.0.1:PORT/mod.ts`, builds a small network and runs it.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const TYPES: Record<string, string> = { ".ts": "application/typescript", ".js": "application/javascript" };

Deno.test("a separate deno process imports mod.ts by URL from a local HTTP server, builds ToyNet and runs it", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    requests++;
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.includes("..")) return new Response("bad path", { status: 400 });
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      const ext = path.slice(path.lastIndexOf("."));
      return new Response(body, { headers: { "content-type": TYPES[ext] ?? "application/octet-stream" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const base = `http://127.0.0.1:${server.addr.port}`;
  const script = `
    import * as nifty from "${base}/mod.ts";
    const backend = await nifty.useBackend("cpu");
    const net = new nifty.ToyNet({ numClasses: 3 });
    const store = new nifty.VariableStore({ seed: 1 });
    const y = nifty.applyNetwork(net, [nifty.tf.ones([1, 6, 6, 6, 1])], { store });
    console.log(JSON.stringify({ backend, shape: y.shape, variables: store.records().length, version: nifty.VERSION }));
  `;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/main.ts`, script);
    // Run from an empty folder (no deno.json, no import map): only the URL import can resolve the library.
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", `--reload=${base}`, "--no-lock", "main.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assertEquals(result.backend, "cpu");
    assertEquals(result.shape, [1, 6, 6, 6, 3]);
    assertEquals(result.variables, 10);
    assert(requests > 10, `only ${requests} modules were fetched over HTTP`);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
