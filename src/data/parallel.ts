/**
 * The pipeline's optional worker pool (NiftyNet's sampler threads, `num_threads`): each worker runs whole visits of
 * a {@link WindowPipelineSpec} (load, preprocess, augment, sample) while training runs on the main thread. Results
 * come back in the order the visits were asked for, and a visit's windows depend only on (seed, position), so the
 * windows are exactly those of the in-thread {@link WindowPipeline}, whatever the number of workers.
 *
 * @module
 */
import type { Window } from "./types.ts";
import type { SubjectInfo, Visit, VisitResult, WindowPipelineSpec } from "./pipeline.ts";

/** A message from a worker. */
type WorkerMessage =
  | { readonly type: "visit"; readonly job: number; readonly windows: Window[]; readonly info?: SubjectInfo }
  | { readonly type: "error"; readonly job: number; readonly message: string };

interface Job {
  readonly worker: number;
  resolve(result: VisitResult): void;
  reject(error: Error): void;
}

/**
 * Worker threads running visits of one pipeline spec. A subject's visits always go to the same worker (`index mod
 * workers`), so each worker's subject cache serves later epochs.
 *
 * @example
 * ```ts
 * import { WindowWorkerPool } from "./parallel.ts";
 * import { epochVisits } from "./pipeline.ts";
 * const pool = new WindowWorkerPool(spec, { numThreads: 4 });
 * for await (const { windows } of pool.run(epochVisits(spec.subjects.length, 7, { shuffle: true }), 8)) use(windows);
 * pool.close();
 * ```
 */
export class WindowWorkerPool {
  readonly #workers: Worker[];
  readonly #jobs = new Map<number, Job>();
  #nextJob = 0;
  #closed = false;

  constructor(spec: WindowPipelineSpec, { numThreads }: { readonly numThreads: number }) {
    if (!(Number.isInteger(numThreads) && numThreads >= 1)) {
      throw new Error(`invalid num_threads ${numThreads}: expected an integer >= 1`);
    }
    this.#workers = Array.from({ length: numThreads }, (_, i) => {
      const w = new Worker(new URL("./_window_worker.ts", import.meta.url).href, { type: "module" });
      w.onmessage = (e: MessageEvent) => this.#receive(e.data as WorkerMessage, i);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failWorker(i, e.message);
      };
      w.postMessage({ type: "init", spec });
      return w;
    });
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length;
  }

  #receive(message: WorkerMessage, worker: number): void {
    const job = this.#jobs.get(message.job);
    if (!job) return;
    this.#jobs.delete(message.job);
    if (message.type === "error") job.reject(new Error(`sampler worker ${worker}: ${message.message}`));
    else job.resolve({ windows: message.windows, info: message.info });
  }

  #failWorker(worker: number, message: string): void {
    for (const [id, job] of this.#jobs) {
      if (job.worker !== worker) continue;
      this.#jobs.delete(id);
      job.reject(new Error(`sampler worker ${worker}: ${message}`));
    }
  }

  /** Runs one visit on its subject's worker. */
  visit(visit: Visit): Promise<VisitResult> {
    if (this.#closed) return Promise.reject(new Error("sampler workers are closed"));
    const id = this.#nextJob++;
    const worker = visit.subject % this.#workers.length;
    const result = new Promise<VisitResult>((resolve, reject) => this.#jobs.set(id, { worker, resolve, reject }));
    this.#workers[worker].postMessage({ type: "visit", job: id, visit });
    return result;
  }

  /** The results of `visits`, in their order, with up to `ahead` visits running at once. */
  async *run(visits: Iterable<Visit>, ahead: number): AsyncGenerator<VisitResult> {
    const depth = Math.max(1, ahead);
    const running: Promise<VisitResult>[] = [];
    const iterator = visits[Symbol.iterator]();
    let more = true;
    const fill = () => {
      while (more && running.length < depth) {
        const next = iterator.next();
        if (next.done) more = false;
        else {
          const p = this.visit(next.value);
          // Raised when the consumer reaches that visit; meanwhile not unhandled.
          p.catch(() => {});
          running.push(p);
        }
      }
    };
    fill();
    while (running.length) {
      const result = await running.shift()!;
      fill();
      yield result;
    }
  }

  /** Stops the workers; visits still running are refused. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    for (const [id, job] of this.#jobs) {
      this.#jobs.delete(id);
      job.reject(new Error("sampler workers were closed"));
    }
  }
}
