/**
 * Checkpointable batches of windows: the top of the window pipeline. An epoch is the visits of every subject (in
 * order, or shuffled by the epoch's seed), run in this thread or on `num_threads` workers, batched, with up to
 * `queue_length` windows read ahead of the batches taken. Resuming from a saved state rebuilds the epoch and skips
 * the windows already used, so a resumed run sees exactly the batches an uninterrupted one would.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { Window } from "./types.ts";
import { type Batch, type BatchSource, deriveSeed, epochSource, type JsonValue } from "./batch_source.ts";
import {
  epochVisits,
  type SubjectInfo,
  type VisitResult,
  WindowPipeline,
  type WindowPipelineSpec,
} from "./pipeline.ts";
import { WindowWorkerPool } from "./parallel.ts";
import { type ReadAhead, readAhead } from "./sampler/queue.ts";
import { paddingWindow, type SmallerFinalBatchMode } from "./sampler/batch.ts";

/** Options of {@link windowBatchSource}: plain values (the applications translate the config into these). */
export interface WindowBatchOptions {
  readonly batchSize: number;
  /** Run seed; epoch `e` draws from `deriveSeed(seed, e)`. */
  readonly seed: number;
  /** {@link BatchSource.state} of an earlier source to resume from. */
  readonly state?: JsonValue;
  /** Endless shuffled epochs (training, validation) or one pass in the listed order (inference). */
  readonly endless: boolean;
  /** Windows sampled ahead of the batches taken (NiftyNet `queue_length`, ≥ 1). */
  readonly queueLength: number;
  /**
   * Sampler threads (NiftyNet `num_threads`): 1 samples in this thread between training steps; N > 1 runs the
   * visits of endless sources on N worker threads (one-pass inference sources stay in this thread). Default 1.
   */
  readonly numThreads?: number;
  /** What a short final batch of a one-pass source becomes: padded with blank windows (`pad`) or kept short. */
  readonly smallerFinalBatch?: SmallerFinalBatchMode;
  /** Turns windows into the batch's tensors by role. */
  readonly toTensors: (windows: readonly Window[]) => Record<string, tf.Tensor>;
  /** Receives each subject's info after preprocessing, before its windows (inference bookkeeping). */
  readonly onSubject?: (info: SubjectInfo) => void;
}

/**
 * A checkpointable source of window batches over a pipeline spec. `close()` waits for the windows being read
 * ahead, then stops the workers.
 *
 * @example
 * ```ts
 * import { windowBatchSource } from "./window_batches.ts";
 * const source = windowBatchSource(spec, {
 *   batchSize: 2, seed: 1, endless: true, queueLength: 5, numThreads: 2,
 *   toTensors: (windows) => ({ image: toBatchTensor(windows, "image") }),
 * });
 * const batch = await source.next();
 * await source.close?.();
 * ```
 */
export function windowBatchSource(spec: WindowPipelineSpec, options: WindowBatchOptions): BatchSource {
  if (spec.subjects.length === 0) throw new Error("window pipeline: no subjects to sample from");
  const threads = options.numThreads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) {
    throw new Error(`invalid num_threads ${threads}: expected an integer >= 1`);
  }
  const pool = options.endless && threads > 1 ? new WindowWorkerPool(spec, { numThreads: threads }) : undefined;
  const local = pool ? undefined : new WindowPipeline(spec);
  let ahead: ReadAhead<Window> | undefined;

  async function* epochWindows(seed: number): AsyncGenerator<Window> {
    const visits = epochVisits(spec.subjects.length, seed, { shuffle: options.endless });
    const results: AsyncIterable<VisitResult> = pool ? pool.run(visits, 2 * pool.size) : (async function* () {
      for (const v of visits) yield await local!.visit(v);
    })();
    for await (const { windows, info } of results) {
      if (info) options.onSubject?.(info);
      yield* windows;
    }
  }

  const source = epochSource<Window>({
    batchSize: options.batchSize,
    seed: options.seed,
    state: options.state,
    epochs: options.endless ? Infinity : 1,
    makeEpoch: (epoch, seed) => ahead = readAhead(epochWindows(deriveSeed(seed, epoch)), options.queueLength),
    toBatch: (items) => {
      const windows = [...items];
      if (!options.endless && options.smallerFinalBatch === "pad") {
        while (windows.length < options.batchSize) windows.push(paddingWindow(windows[0]));
      }
      return { tensors: options.toTensors(windows), windows } satisfies Batch;
    },
  });
  return {
    ...source,
    close: async () => {
      try {
        await ahead?.settle();
      } finally {
        pool?.close();
      }
    },
  };
}
