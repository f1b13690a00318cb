import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { requestedBackend, useBackend } from "../src/backend.ts";
import { assertRejects, assertThrows } from "./_util.ts";

Deno.test("backend choice: explicit name, else NIFTYTS_BACKEND, else cpu; unknown names are refused", () => {
  const saved = Deno.env.get("NIFTYTS_BACKEND");
  try {
    Deno.env.delete("NIFTYTS_BACKEND");
    assertEquals(requestedBackend(), "cpu");
    Deno.env.set("NIFTYTS_BACKEND", "wasm");
    assertEquals(requestedBackend(), "wasm");
    assertEquals(requestedBackend("cpu"), "cpu");
    assertThrows(
      () => requestedBackend("gpu"),
      'unknown backend "gpu" (from --backend): expected one of cpu, wasm, webgpu',
    );
  } finally {
    if (saved === undefined) Deno.env.delete("NIFTYTS_BACKEND");
    else Deno.env.set("NIFTYTS_BACKEND", saved);
  }
});

Deno.test("switching to wasm and back to cpu runs ops on each and leaves cpu active", async () => {
  assertEquals(await useBackend("wasm"), "wasm");
  assertEquals(tf.getBackend(), "wasm");
  assertEquals([...tf.add(tf.tensor([1, 2]), 1).dataSync()], [2, 3]);
  assertEquals(await useBackend("cpu"), "cpu");
  assertEquals(tf.getBackend(), "cpu");
});

Deno.test("a backend whose package cannot load, or that fails to initialize, is refused with a clear message", async () => {
  await assertRejects(
    () => useBackend("webgpu", { loaders: { webgpu: () => Promise.reject(new Error("no such module")) } }),
    'backend "webgpu" is unavailable: cannot load its package (no such module)',
  );
  // The package "loads" but never registered a webgpu backend: setBackend fails, and we say so.
  await assertRejects(
    () => useBackend("webgpu", { loaders: { webgpu: () => Promise.resolve() } }),
    'backend "webgpu" is unavailable',
  );
  assertEquals(await useBackend("cpu"), "cpu");
});

Deno.test("webgl is refused under Deno with a one-line reason naming the alternative", () => {
  assertThrows(
    () => requestedBackend("webgl"),
    'backend "webgl" (from --backend) runs only in a browser (it needs a WebGL2 canvas, which Deno lacks): use ' +
      "webgpu for a GPU under Deno",
  );
});
