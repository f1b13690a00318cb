/**
 * Sampling in background workers (NiftyNet's sampler threads, `num_threads`): each worker loads, preprocesses,
 * augments and samples its share of the subject visits and keeps up to its part of `queue_length` windows ready,
 * so file decoding and sampling run in parallel with training on the main thread. The set of windows equals the
 * in-thread {@link pipelineWindows} output (per-visit seeds); only the interleaving differs.
 *
 * @module
 */
import type { Window } from "./types.ts";
import type { WindowPipelineSpec } from "./pipeline.ts";

/** Options for {@link parallelWindows}. */
export interface ParallelOptions {
  /** INI `num_threads`: worker count (default 2). */
  numThreads?: number;
  /** INI `queue_length`: windows kept ready over all workers (default 5). */
  queueLength?: number;
}

type Message = { type: "window"; window: Window } | { type: "done" } | { type: "error"; message: string };

/** Yields the windows of a pipeline spec produced by worker threads. */
export async function* parallelWindows(
  spec: WindowPipelineSpec,
  options: ParallelOptions = {},
): AsyncGenerator<Window> {
  const n = options.numThreads ?? 2;
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`invalid num_threads ${n}: expected an integer >= 1`);
  const credit = Math.max(1, Math.ceil((options.queueLength ?? 5) / n));
  const inbox: { from: number; message: Message }[] = [];
  let wake: (() => void) | undefined;
  const workers = Array.from({ length: n }, (_, i) => {
    const w = new Worker(new URL("./_window_worker.ts", import.meta.url).href, { type: "module" });
    w.onmessage = (e: MessageEvent) => {
      inbox.push({ from: i, message: e.data as Message });
      const f = wake;
      wake = undefined;
      f?.();
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      inbox.push({ from: i, message: { type: "error", message: e.message } });
      const f = wake;
      wake = undefined;
      f?.();
    };
    w.postMessage({ type: "start", spec, part: i, parts: n, credit });
    return w;
  });
  let running = n;
  try {
    while (running > 0) {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      const { from, message } = inbox.shift()!;
      if (message.type === "done") running--;
      else if (message.type === "error") throw new Error(`sampler worker ${from}: ${message.message}`);
      else {
        workers[from].postMessage({ type: "credit", n: 1 });
        yield message.window;
      }
    }
  } finally {
    for (const w of workers) w.terminate();
  }
}
