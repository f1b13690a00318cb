/**
 * `zoo pull` (src/commands/zoo_pull.ts): entries pulled through the real download path from a loopback server or
 * a mirror, cached paths printed, unknown ids refused before anything is fetched, and the progress bar's text.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { formatBytes, progressBar, zooPullCommand, type ZooPullEntry } from "../src/commands/zoo_pull.ts";
import { assertRejects } from "./_util.ts";
import { startZooServer, testBytes, zooFileFor } from "./_zoo_server.ts";

Deno.test("zoo pull fetches two entries from a mirror URL, prints their cached paths, reports progress", async () => {
  const server = startZooServer();
  const cacheDir = await Deno.makeTempDir({ prefix: "niftyts_zoo_pull_" });
  try {
    const a = testBytes(3000, 21), b = testBytes(2_500_000, 22);
    server.serve("/m/models/a/model.json", a);
    server.serve("/m/models/a/w.bin", b);
    const files = [
      await zooFileFor("models/a/model.json", a, "http://127.0.0.1:9/never"),
      await zooFileFor("models/a/w.bin", b, "http://127.0.0.1:9/never"),
    ];
    const entries: Record<string, ZooPullEntry> = { one: { id: "one", files }, two: { id: "two", files: [files[0]] } };
    const seen: string[] = [];
    const lines = await zooPullCommand(["one", "two"], {
      lookup: (id) => entries[id],
      from: `${server.base}/m`,
      cacheDir,
      onProgress: (p) => seen.push(progressBar(p)),
    });
    assertEquals(lines, [
      "one: 2 files (2.5 MB) verified in the cache",
      `  ${cacheDir}/models/a/model.json`,
      `  ${cacheDir}/models/a/w.bin`,
      "two: 1 files (3.0 kB) verified in the cache",
      `  ${cacheDir}/models/a/model.json`,
    ]);
    assertEquals(server.requests.length, 2, "the second entry's file was already cached");
    assert(seen.includes(`models/a/w.bin [${"#".repeat(24)}] 100%  2.5/2.5 MB`), seen.join("\n"));
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("zoo pull looks up every id before fetching anything", async () => {
  let fetched = false;
  const lookup = (id: string): ZooPullEntry => {
    if (id !== "known") throw new Error(`unknown zoo entry "${id}"`);
    return {
      id,
      get files() {
        fetched = true;
        return [];
      },
    };
  };
  await assertRejects(() => zooPullCommand(["known", "nope"], { lookup, cacheDir: "/nonexistent" }), `"nope"`);
  assert(!fetched);
  await assertRejects(() => zooPullCommand([], { lookup }), "at least one entry id");
});

Deno.test("zoo pull progress bar and byte formatting", () => {
  assertEquals(
    progressBar({ file: "models/x/model.bin", received: 500_000, total: 1_300_000 }, 10),
    "models/x/model.bin [####......]  38%  0.5/1.3 MB",
  );
  assertEquals(progressBar({ file: "f", received: 0, total: 0 }, 4), "f [####] 100%  0/0 B");
  assertEquals([formatBytes(999), formatBytes(1000), formatBytes(2_500_000_000)], ["999 B", "1.0 kB", "2.5 GB"]);
});
