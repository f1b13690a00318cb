/**
 * Checkpointable batch sources. {@link epochSource} turns a function that rebuilds one epoch of items from
 * (epoch number, seed) into an endless (or finite) {@link BatchSource} whose state is `{ epoch, index }`: resuming
 * rebuilds the epoch and skips the `index` items already used, so a resumed run sees exactly the batches an
 * uninterrupted one would. Items are host data (windows), cheap to skip; only batches become tensors.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { Window } from "./types.ts";
import { hashString } from "../dsl/random.ts";

/** JSON-serialisable data (sampler positions, RNG states). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Network inputs and targets of one iteration, by role (`image`, `label`, `weight` …), plus where they came from. */
export interface Batch {
  readonly tensors: Readonly<Record<string, tf.Tensor>>;
  /** The windows the batch was cut from (inference: where outputs go back). */
  readonly windows?: readonly Window[];
}

/** A checkpointable stream of batches. The driver disposes each batch's tensors after use. */
export interface BatchSource {
  /** The next batch; `undefined` when the source is exhausted (validation and inference sources end). */
  next(): Promise<Batch | undefined>;
  /** Position to resume from: a later source made with this state yields what this one would yield next. */
  state(): JsonValue;
  /** Releases workers or files (optional). */
  close?(): Promise<void> | void;
}

/** A seed derived from a base seed and labels (`deriveSeed(seed, "training", epoch)`), stable across runs. */
export function deriveSeed(seed: number, ...parts: (string | number)[]): number {
  return hashString([seed, ...parts].join(":"));
}

/** Options of {@link epochSource}. */
export interface EpochSourceOptions<T> {
  /** Items of epoch `epoch` (0, 1, …); must depend only on its arguments. An empty epoch is an error. */
  makeEpoch(epoch: number, seed: number): Iterable<T> | AsyncIterable<T>;
  /** Turns up to `batchSize` items into a batch (the last batch of a finite source may be smaller). */
  toBatch(items: readonly T[]): Batch;
  readonly batchSize: number;
  readonly seed: number;
  /** State from {@link BatchSource.state} to resume from. */
  readonly state?: JsonValue;
  /** Number of epochs before the source ends (default: endless). */
  readonly epochs?: number;
}

interface EpochState {
  epoch: number;
  index: number;
}

/**
 * A batch source over epochs of items.
 *
 * @example
 * ```ts
 * import { epochSource } from "./batch_source.ts";
 * const source = epochSource({
 *   makeEpoch: (epoch, seed) => [epoch * 10 + seed % 2, epoch * 10 + 1],
 *   toBatch: (items) => ({ tensors: {} , windows: [] }),
 *   batchSize: 1,
 *   seed: 3,
 * });
 * await source.next();
 * const saved = source.state(); // { epoch: 0, index: 1 }
 * ```
 */
export function epochSource<T>(options: EpochSourceOptions<T>): BatchSource {
  const { batchSize, seed, epochs = Infinity } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be ≥ 1, got ${batchSize}`);
  const start = parseState(options.state);
  let epoch = start.epoch, index = 0;
  let iterator: AsyncIterator<T> | Iterator<T> | undefined;
  let skip = start.index;

  async function nextItem(): Promise<T | undefined> {
    while (epoch < epochs) {
      if (!iterator) {
        const items = options.makeEpoch(epoch, seed);
        iterator = Symbol.asyncIterator in items
          ? (items as AsyncIterable<T>)[Symbol.asyncIterator]()
          : (items as Iterable<T>)[Symbol.iterator]();
        index = 0;
      }
      const r = await iterator.next();
      if (!r.done) {
        index++;
        if (skip > 0) {
          skip--;
          continue;
        }
        return r.value;
      }
      if (index === 0) throw new Error(`batch source: epoch ${epoch} has no items`);
      if (skip > 0) throw new Error(`batch source: cannot resume at item ${start.index} of epoch ${start.epoch}`);
      epoch++;
      iterator = undefined;
    }
    return undefined;
  }

  return {
    async next() {
      const items: T[] = [];
      while (items.length < batchSize) {
        const item = await nextItem();
        if (item === undefined) break;
        items.push(item);
      }
      return items.length ? options.toBatch(items) : undefined;
    },
    state(): JsonValue {
      // A fresh epoch that has not started yet is the same position as the end of the previous one.
      if (!iterator && skip > 0) return { epoch: start.epoch, index: start.index };
      return { epoch, index: iterator ? index : 0 };
    },
  };
}

function parseState(state: JsonValue | undefined): EpochState {
  if (state === undefined || state === null) return { epoch: 0, index: 0 };
  const s = state as Partial<EpochState>;
  if (typeof state !== "object" || !Number.isInteger(s.epoch) || !Number.isInteger(s.index)) {
    throw new Error(`batch source: invalid saved state ${JSON.stringify(state)}`);
  }
  return { epoch: s.epoch!, index: s.index! };
}
