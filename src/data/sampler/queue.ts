/**
 * The read-ahead queue of the window pipeline (NiftyNet's `queue_length`): up to `depth` items of an async
 * generator are requested ahead of the consumer, so file reads and sampling (or the workers) proceed while
 * training runs, in order and without timers.
 *
 * @module
 */

/** An async iterable that keeps up to `depth` items requested ahead of its consumer. */
export interface ReadAhead<T> extends AsyncIterable<T> {
  /** Waits for the requests in flight (so no file read outlives the source). */
  settle(): Promise<void>;
}

/**
 * Requests up to `depth` items of an async generator ahead of the consumer. The generator serves requests one
 * after another, so the order is kept; it advances whenever the consumer awaits. An error is raised to the
 * consumer at the position it happened. {@link ReadAhead.settle} waits for the work in flight, so closing a
 * source leaves no pending operation.
 *
 * @example
 * ```ts
 * import { readAhead } from "./queue.ts";
 * async function* numbers() { for (let i = 0; i < 10; i++) yield i; }
 * const ahead = readAhead(numbers(), 4);
 * for await (const n of ahead) console.log(n);
 * await ahead.settle();
 * ```
 */
export function readAhead<T>(source: AsyncGenerator<T>, depth: number): ReadAhead<T> {
  if (!(Number.isInteger(depth) && depth >= 1)) {
    throw new Error(`invalid queue_length ${depth}: expected an integer >= 1`);
  }
  const pending: Promise<IteratorResult<T>>[] = [];
  let ended = false;
  const request = () => {
    while (!ended && pending.length < depth) {
      const p = source.next();
      // Rejections are raised when the consumer reaches that item; meanwhile they are not unhandled.
      p.catch(() => {});
      pending.push(p);
    }
  };
  const iterator: AsyncIterator<T> = {
    async next() {
      request();
      const next = pending.shift();
      if (!next) return { done: true, value: undefined };
      const result = await next;
      if (result.done) ended = true;
      else request();
      return result;
    },
  };
  return {
    [Symbol.asyncIterator]: () => iterator,
    async settle() {
      ended = true;
      await Promise.allSettled(pending);
      pending.length = 0;
    },
  };
}
