/**
 * Worker side of {@link parallelWindows}: runs its share of a pipeline spec and posts windows (buffers
 * transferred) while it holds credit from the main thread.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { WindowPipelineSpec } from "./pipeline.ts";
import type { Window } from "./types.ts";

// src/io reaches tfjs through src/deps.ts; in a worker, tfjs probes for WebGL on load and logs its failure. Drop
// those lines (only while loading) so they do not drown the training log.
const quiet = (f: (...a: unknown[]) => void) => (...args: unknown[]) => {
  if (!args.some((a) => /webgl|canvas/i.test(String(a)))) f(...args);
};
const saved = { log: console.log, warn: console.warn, error: console.error };
console.log = quiet(saved.log);
console.warn = quiet(saved.warn);
console.error = quiet(saved.error);
const { pipelineWindows } = await import("./pipeline.ts");
Object.assign(console, saved);

let credit = 0;
let wake: (() => void) | undefined;

function transferables(w: Window): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of Object.values(w.data)) {
    const b = v.data.buffer as ArrayBuffer;
    // Only whole, unshared buffers move; a view into a larger buffer is copied by structured clone.
    if (v.data.byteOffset === 0 && v.data.byteLength === b.byteLength && !out.includes(b)) out.push(b);
  }
  return out;
}

self.onmessage = async (e: MessageEvent) => {
  const m = e.data as { type: "start"; spec: WindowPipelineSpec; part: number; parts: number; credit: number } | {
    type: "credit";
    n: number;
  };
  if (m.type === "credit") {
    credit += m.n;
    const w = wake;
    wake = undefined;
    w?.();
    return;
  }
  credit = m.credit;
  try {
    for await (const w of pipelineWindows(m.spec, { part: m.part, parts: m.parts })) {
      while (credit <= 0) await new Promise<void>((r) => (wake = r));
      credit--;
      self.postMessage({ type: "window", window: w }, transferables(w));
    }
    self.postMessage({ type: "done" });
  } catch (err) {
    self.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) });
  }
};
