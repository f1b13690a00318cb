/**
 * A bounded prefetch queue (NiftyNet's `queue_length`): a producer task pulls windows from the source as soon as
 * there is room, so loading and sampling run ahead while the consumer (training) awaits its own work.
 *
 * @module
 */

/** Options for {@link WindowQueue}. */
export interface QueueOptions {
  /** INI `queue_length`: at most this many items wait in the queue (default 5). */
  queueLength?: number;
}

/**
 * Async iterable over a source, filled ahead by a background task. Order is kept; an error in the source is
 * raised to the consumer at the position it happened; `close()` stops the producer.
 *
 * @example
 * ```ts
 * const queue = new WindowQueue(windowsOf(subjects), { queueLength: 8 });
 * for await (const w of queue) train(w);
 * ```
 */
export class WindowQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #error: unknown = undefined;
  #done = false;
  #closed = false;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;
  #produced = 0;

  constructor(source: AsyncIterable<T> | Iterable<T>, options: QueueOptions = {}) {
    const cap = options.queueLength ?? 5;
    if (!(Number.isInteger(cap) && cap >= 1)) throw new Error(`invalid queue_length ${cap}: expected an integer >= 1`);
    this.#capacity = cap;
    this.#run(source);
  }

  /** Items waiting in the queue now. */
  get size(): number {
    return this.#items.length;
  }

  /** Items the producer has put in so far. */
  get produced(): number {
    return this.#produced;
  }

  async #run(source: AsyncIterable<T> | Iterable<T>): Promise<void> {
    // Start on a later tick so the constructor returns before any work is done.
    await Promise.resolve();
    try {
      for await (const item of source as AsyncIterable<T>) {
        while (this.#items.length >= this.#capacity && !this.#closed) {
          await new Promise<void>((r) => (this.#wakeProducer = r));
        }
        if (this.#closed) return;
        this.#items.push(item);
        this.#produced++;
        this.#wake();
        // Yield to the event loop between items so a synchronous source does not starve the consumer.
        await new Promise((r) => setTimeout(r, 0));
      }
    } catch (e) {
      this.#error = e ?? new Error("queue source failed");
    } finally {
      this.#done = true;
      this.#wake();
    }
  }

  #wake(): void {
    const w = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    w?.();
  }

  /** Waits for the next item; undefined when the source is exhausted. */
  async next(): Promise<T | undefined> {
    while (this.#items.length === 0) {
      if (this.#done) {
        if (this.#error !== undefined) {
          const e = this.#error;
          this.#error = undefined;
          throw e;
        }
        return undefined;
      }
      await new Promise<void>((r) => (this.#wakeConsumer = r));
    }
    const item = this.#items.shift() as T;
    const w = this.#wakeProducer;
    this.#wakeProducer = undefined;
    w?.();
    return item;
  }

  /** Stops the producer after its current item and drops what is queued. */
  close(): void {
    this.#closed = true;
    this.#items.length = 0;
    const w = this.#wakeProducer;
    this.#wakeProducer = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const item = await this.next();
        if (item === undefined) return;
        yield item as T;
      }
    } finally {
      this.close();
    }
  }
}
