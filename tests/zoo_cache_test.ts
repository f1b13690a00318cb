/**
 * The zoo download cache (`zoo/cache.ts`) against a real loopback HTTP server: verified downloads, resume after an
 * interruption, every failure mode as one line with no usable file left in the cache, mirrors (folder and URL),
 * and concurrent pulls of one file (in one process and across two processes).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { cachedState, ensureZooFiles, type ZooProgress } from "../zoo/cache.ts";
import type { ZooFile } from "../zoo/files.ts";
import { assertRejects } from "./_util.ts";
import { startZooServer, testBytes, zooFileFor, type ZooTestServer } from "./_zoo_server.ts";

const BRAINCHOP = new URL("../../shared/data/brainchop/", import.meta.url);
const brainchopPresent = (() => {
  try {
    return Deno.statSync(new URL("SHA256SUMS", BRAINCHOP)).isFile;
  } catch {
    return false;
  }
})();
if (!brainchopPresent) {
  console.warn(`zoo mirror-folder test skipped: ${BRAINCHOP.pathname} is absent (see shared/data/README.md)`);
}

const PATH = "models/test_net/model.bin";

/** A fresh cache folder and server; both are removed/closed after `fn`. */
async function withServer(fn: (server: ZooTestServer, cacheDir: string) => Promise<void>): Promise<void> {
  const server = startZooServer();
  const cacheDir = await Deno.makeTempDir({ prefix: "niftyts_zoo_cache_" });
  try {
    await fn(server, cacheDir);
  } finally {
    await server.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
}

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const rel = prefix + entry.name;
    if (entry.isDirectory) out.push(...await listFiles(`${dir}/${entry.name}`, `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

/** The cache holds nothing a later run could use: only the lock and (resumable) partial files. */
async function assertNothingUsable(cacheDir: string, file: ZooFile): Promise<void> {
  const files = await listFiles(cacheDir).catch(() => []);
  const usable = files.filter((f) => f !== ".lock" && !f.endsWith(".part"));
  assertEquals(usable, [], `usable files left in the cache: ${usable.join(", ")}`);
  assert(await cachedState([file], { cacheDir }) !== "cached");
}

function assertOneLine(e: Error): void {
  assert(!e.message.includes("\n"), `error is not one line: ${e.message}`);
}

Deno.test("zoo cache downloads over HTTP, verifies, reports progress and serves the second call from the cache", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(300_000, 1);
    server.serve(`/${PATH}`, body);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    assertEquals(await cachedState([file], { cacheDir }), "absent");
    const progress: ZooProgress[] = [];
    const paths = await ensureZooFiles([file], { cacheDir, onProgress: (p) => progress.push(p) });
    assertEquals(paths[PATH], `${cacheDir}/${PATH}`);
    assertEquals(await Deno.readFile(paths[PATH]), body);
    assert(progress.length >= 1);
    assertEquals(progress.at(-1), { file: PATH, received: body.length, total: body.length });
    assert(progress.every((p, i) => i === 0 || p.received >= progress[i - 1].received));
    assertEquals(await cachedState([file], { cacheDir }), "cached");
    assertEquals(await listFiles(cacheDir), [".lock", PATH]);
    const again = await ensureZooFiles([file], { cacheDir });
    assertEquals(again, paths);
    assertEquals(server.requests.length, 1, "a cached file is not downloaded again");
  });
});

Deno.test("zoo cache rejects a wrong sha256 in one line and keeps nothing, not even a partial file", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(5000, 2);
    server.serve(`/${PATH}`, body);
    const file = { ...await zooFileFor(PATH, body, `${server.base}/${PATH}`), sha256: "0".repeat(64) };
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir }), "sha256 is ");
    assertOneLine(e);
    assert(e.message.includes(`expected ${"0".repeat(64)}`) && e.message.includes(PATH), e.message);
    await assertNothingUsable(cacheDir, file);
    assertEquals((await listFiles(cacheDir)).filter((f) => f.endsWith(".part")), []);
  });
});

Deno.test("zoo cache reports a truncated body in one line and resumes it on the next run", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(40_000, 3);
    server.serve(`/${PATH}`, body, "truncate", 12_345);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    const e = await assertRejects(
      () => ensureZooFiles([file], { cacheDir }),
      "body ended after 12345 of 40000 bytes (truncated)",
    );
    assertOneLine(e);
    await assertNothingUsable(cacheDir, file);
    assertEquals(await cachedState([file], { cacheDir }), "partial");
    server.serve(`/${PATH}`, body);
    await ensureZooFiles([file], { cacheDir });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.at(-1), { path: `/${PATH}`, range: "bytes=12345-", status: 206 });
  });
});

Deno.test("zoo cache reports HTTP 404 in one line and writes nothing", async () => {
  await withServer(async (server, cacheDir) => {
    const file = await zooFileFor(PATH, testBytes(100, 4), `${server.base}/missing/${PATH}`);
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir }), "HTTP 404 Not Found");
    assertOneLine(e);
    assert(e.message.startsWith(`cannot download "${PATH}" from ${server.base}/missing/${PATH}`), e.message);
    assertEquals((await listFiles(cacheDir)).filter((f) => f !== ".lock"), []);
  });
});

Deno.test("zoo cache reports an interrupted transfer in one line, then resumes with a Range request", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(200_000, 5);
    server.serve(`/${PATH}`, body, "interrupt", 70_000);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir }), "transfer interrupted after 70000 of");
    assertOneLine(e);
    assert(e.message.includes("run again to resume"), e.message);
    await assertNothingUsable(cacheDir, file);
    const progress: ZooProgress[] = [];
    await ensureZooFiles([file], { cacheDir, onProgress: (p) => progress.push(p) });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.map((r) => [r.range, r.status]), [[null, 200], ["bytes=70000-", 206]]);
    assert(progress[0].received > 70_000, "progress of a resumed file counts the bytes already there");
    assertEquals(await listFiles(cacheDir), [".lock", PATH]);
  });
});

Deno.test("zoo cache restarts from byte 0 when the server ignores the Range request", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(50_000, 6);
    server.serve(`/${PATH}`, body, "truncate", 20_000);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    await assertRejects(() => ensureZooFiles([file], { cacheDir }), "truncated");
    server.serve(`/${PATH}`, body, "no-range");
    await ensureZooFiles([file], { cacheDir });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.at(-1), { path: `/${PATH}`, range: "bytes=20000-", status: 200 });
  });
});

Deno.test("zoo cache downloads afresh when a kept partial file is corrupt (resume fails its sha256)", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(30_000, 7);
    server.serve(`/${PATH}`, body);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    await Deno.mkdir(`${cacheDir}/models/test_net`, { recursive: true });
    await Deno.writeFile(`${cacheDir}/${PATH}.part`, testBytes(10_000, 99)); // not a prefix of body
    await ensureZooFiles([file], { cacheDir });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.map((r) => [r.range, r.status]), [["bytes=10000-", 206], [null, 200]]);
  });
});

Deno.test("zoo cache replaces a cached file that no longer matches its sha256", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(8000, 8);
    server.serve(`/${PATH}`, body);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    await Deno.mkdir(`${cacheDir}/models/test_net`, { recursive: true });
    await Deno.writeFile(`${cacheDir}/${PATH}`, testBytes(8000, 9)); // right size, wrong content
    assertEquals(await cachedState([file], { cacheDir }), "partial");
    await ensureZooFiles([file], { cacheDir });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.length, 1);
  });
});

Deno.test("zoo cache gives up on a stalled transfer after the idle timeout, in one line", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(20_000, 10);
    server.serve(`/${PATH}`, body, "stall", 5000);
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    const e = await assertRejects(
      () => ensureZooFiles([file], { cacheDir, idleTimeoutMs: 300 }),
      "transfer interrupted after 5000 of 20000 bytes (no data for 0.3 s)",
    );
    assertOneLine(e);
    await assertNothingUsable(cacheDir, file);
  });
});

Deno.test("zoo cache rejects a body longer than the manifest's size and keeps nothing", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(6000, 11);
    server.serve(`/${PATH}`, body, "too-long");
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir }), "longer than the expected 6000 bytes");
    assertOneLine(e);
    assertEquals((await listFiles(cacheDir)).filter((f) => f !== ".lock"), []);
  });
});

Deno.test("zoo cache says 'connection refused' in one line when nothing listens, and points to mirrors", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const cacheDir = await Deno.makeTempDir({ prefix: "niftyts_zoo_cache_" });
  try {
    const file = await zooFileFor(PATH, testBytes(10, 12), `http://127.0.0.1:${port}/${PATH}`);
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir }), "connection refused");
    assertOneLine(e);
    assert(e.message.includes("NIFTYTS_ZOO_MIRROR"), e.message);
    await assertNothingUsable(cacheDir, file);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("zoo cache says the host was not found in one line when DNS fails", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "niftyts_zoo_cache_" });
  try {
    // .invalid never resolves (RFC 2606); a resolver that hangs instead ends in the idle timeout
    const file = await zooFileFor(PATH, testBytes(10, 13), `http://zoo-test.invalid/${PATH}`);
    const e = await assertRejects(() => ensureZooFiles([file], { cacheDir, idleTimeoutMs: 5000 }), "cannot download");
    assertOneLine(e);
    assert(/host not found|no answer for 5 s/.test(e.message), e.message);
    await assertNothingUsable(cacheDir, file);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("zoo cache pulls from a mirror URL laid out like upstream, not from the file's own URL", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(9000, 14);
    server.serve(`/mirror/root/${PATH}`, body);
    const file = await zooFileFor(PATH, body, `${server.base}/upstream/${PATH}`);
    await ensureZooFiles([file], { cacheDir, mirror: `${server.base}/mirror/root` });
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.map((r) => r.path), [`/mirror/root/${PATH}`]);
  });
});

Deno.test({
  name: "zoo cache copies brainchop's model5_gw_ae from the shared mirror folder, matching SHA256SUMS",
  ignore: !brainchopPresent,
  async fn() {
    // expected sizes and hashes come from the mirror's own SHA256SUMS (sha256sum), not from our hasher
    const sums = (await Deno.readTextFile(new URL("SHA256SUMS", BRAINCHOP))).trim().split("\n")
      .map((line) => line.split(/\s+/)).filter(([, p]) => p.startsWith("./models/model5_gw_ae/"));
    assert(sums.length >= 2);
    const mirror = BRAINCHOP.pathname;
    const files: ZooFile[] = sums.map(([sha256, p]) => {
      const path = p.slice(2);
      return { path, sha256, bytes: Deno.statSync(mirror + path).size, url: "http://127.0.0.1:9/unused" };
    });
    const cacheDir = await Deno.makeTempDir({ prefix: "niftyts_zoo_cache_" });
    try {
      const progress: string[] = [];
      const paths = await ensureZooFiles(files, { cacheDir, mirror, onProgress: (p) => progress.push(p.file) });
      for (const f of files) {
        assertEquals(await Deno.readFile(paths[f.path]), await Deno.readFile(mirror + f.path));
      }
      assertEquals(new Set(progress), new Set(files.map((f) => f.path)));
      assertEquals(await cachedState(files, { cacheDir }), "cached");
      // a mirror missing a file, or holding a different one, is one clear line
      const absent = { ...files[0], path: "models/model5_gw_ae/nothing.bin" };
      const e = await assertRejects(
        () => ensureZooFiles([absent], { cacheDir, mirror }),
        `has no "models/model5_gw_ae/nothing.bin"`,
      );
      assertOneLine(e);
      const wrong = { ...files[0], sha256: "f".repeat(64), path: files[0].path };
      await Deno.remove(paths[wrong.path]);
      await assertRejects(() => ensureZooFiles([wrong], { cacheDir, mirror }), `sha256 is ${files[0].sha256}`);
      const left = await listFiles(cacheDir);
      assert(!left.includes(wrong.path) && !left.includes(`${wrong.path}.part`), left.join(", "));
      await assertRejects(() => ensureZooFiles(files, { cacheDir, mirror: `${cacheDir}/nope` }), "does not exist");
    } finally {
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test("zoo cache: two concurrent pulls of one file in one process download it once; the waiting one says so", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(80_000, 15);
    server.serve(`/${PATH}`, body, "slow");
    const file = await zooFileFor(PATH, body, `${server.base}/${PATH}`);
    const waited: string[] = [];
    const onWaiting = (dir: string) => waited.push(dir);
    const [a, b] = await Promise.all([
      ensureZooFiles([file], { cacheDir, onWaiting }),
      ensureZooFiles([file], { cacheDir, onWaiting }),
    ]);
    assertEquals(a, b);
    assertEquals(waited, [cacheDir], "the second pull said once that it waits");
    assertEquals(await Deno.readFile(a[PATH]), body);
    assertEquals(server.requests.length, 1);
  });
});

Deno.test("zoo cache: two processes pulling one file at once (mirror from env NIFTYTS_ZOO_MIRROR) leave one intact file, downloaded once", async () => {
  await withServer(async (server, cacheDir) => {
    const body = testBytes(120_000, 16);
    server.serve(`/mirror/${PATH}`, body, "slow");
    const file = await zooFileFor(PATH, body, `${server.base}/upstream/${PATH}`);
    const child = new URL("./_zoo_pull_child.ts", import.meta.url).pathname;
    const run = () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", child, JSON.stringify({ files: [file], cacheDir })],
        env: { NIFTYTS_ZOO_MIRROR: `${server.base}/mirror` },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const outputs = await Promise.all([run(), run()]);
    for (const out of outputs) {
      const text = new TextDecoder().decode(out.stdout).trim();
      assertEquals(JSON.parse(text), { [PATH]: `${cacheDir}/${PATH}` }, new TextDecoder().decode(out.stderr));
    }
    assertEquals(await Deno.readFile(`${cacheDir}/${PATH}`), body);
    assertEquals(server.requests.map((r) => r.path), [`/mirror/${PATH}`], "downloaded once, from the env's mirror");
    assertEquals(await listFiles(cacheDir), [".lock", PATH]);
  });
});

Deno.test("zoo cache folder: NIFTYTS_CACHE as given, else XDG_CACHE_HOME or ~/.cache + niftyts/zoo", async () => {
  const child = new URL("./_zoo_pull_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", child], stdout: "piped" }).output();
  const [explicit, , xdg, home] = JSON.parse(new TextDecoder().decode(out.stdout));
  assertEquals(explicit, "/tmp/explicit-cache");
  if (Deno.build.os === "linux") {
    assertEquals(xdg, "/tmp/xdg/niftyts/zoo");
    assertEquals(home, "/tmp/home/.cache/niftyts/zoo");
  }
});

Deno.test("zoo cache refuses a manifest path that climbs out of the cache", async () => {
  const file = { path: "models/../../etc/passwd", url: "http://127.0.0.1:9/x", bytes: 1, sha256: "0".repeat(64) };
  await assertRejects(() => ensureZooFiles([file], { cacheDir: "/nonexistent" }), `zoo file path "${file.path}"`);
});
