/**
 * Worker side of `WindowWorkerPool`: holds one {@link WindowPipeline} and answers visit requests with the visit's
 * windows (buffers transferred) and the subject's info.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { Visit, WindowPipeline, WindowPipelineSpec } from "./pipeline.ts";
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
const { WindowPipeline: Pipeline } = await import("./pipeline.ts");
Object.assign(console, saved);

let pipeline: WindowPipeline | undefined;

function transferables(windows: readonly Window[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const w of windows) {
    for (const v of Object.values(w.data)) {
      const b = v.data.buffer as ArrayBuffer;
      // Only whole, unshared buffers move; a view into a larger buffer is copied by structured clone.
      if (v.data.byteOffset === 0 && v.data.byteLength === b.byteLength) out.add(b);
    }
  }
  return [...out];
}

self.onmessage = async (e: MessageEvent) => {
  const m = e.data as { type: "init"; spec: WindowPipelineSpec } | { type: "visit"; job: number; visit: Visit };
  if (m.type === "init") {
    pipeline = new Pipeline(m.spec);
    return;
  }
  try {
    const result = await pipeline!.visit(m.visit);
    const windows = [...result.windows];
    self.postMessage({ type: "visit", job: m.job, windows, info: result.info }, transferables(windows));
  } catch (err) {
    self.postMessage({ type: "error", job: m.job, message: err instanceof Error ? err.message : String(err) });
  }
};
