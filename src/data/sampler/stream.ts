/**
 * Windows for training and inference: subjects loaded one by one (in a seeded shuffled order per epoch for
 * training), passed through per-subject transforms (preprocessing, augmentation), then cut by a sampler. Every
 * visit of a subject draws from its own stream, seeded by the run seed, the epoch and the subject's position, so
 * the windows do not depend on how visits are shared among workers.
 *
 * @module
 */
import type { Window } from "../types.ts";
import { RandomStream, shuffleInPlace } from "../_random.ts";
import type { SamplerSubject } from "./random_samplers.ts";

/** Where subjects come from: anything with a length and an async `load(index)` (e.g. `SubjectLoader`). */
export interface SubjectSource<S extends SamplerSubject = SamplerSubject> {
  readonly length: number;
  load(index: number): Promise<S>;
}

/** Options for {@link windowStream}. */
export interface WindowStreamOptions<S extends SamplerSubject> {
  /** Cuts windows from one (transformed) subject. */
  sampler: (subject: S, rng: RandomStream) => Iterable<Window>;
  /** Per-subject transform applied after loading (preprocessing, augmentation); may be async. */
  transform?: (subject: S, rng: RandomStream) => S | Promise<S>;
  /** Passes over the subjects (default 1; `Infinity` for endless training). */
  epochs?: number;
  /** Shuffle the subject order each epoch (default false: inference keeps the listed order). */
  shuffle?: boolean;
  /** Run seed (default 0). */
  seed?: number;
  /** Take only visits `k` with `k % parts === part` (for sharing the work among workers; default 0 of 1). */
  part?: number;
  parts?: number;
}

/** The seeded stream of one subject visit. */
export function visitRandom(seed: number, epoch: number, position: number): RandomStream {
  return RandomStream.forName(seed, `visit:${epoch}:${position}`);
}

/** Yields every window of every subject, epoch after epoch. */
export async function* windowStream<S extends SamplerSubject>(
  source: SubjectSource<S>,
  options: WindowStreamOptions<S>,
): AsyncGenerator<Window> {
  const seed = options.seed ?? 0;
  const orderRng = new RandomStream(seed);
  const epochs = options.epochs ?? 1;
  const part = options.part ?? 0, parts = options.parts ?? 1;
  let visit = 0;
  for (let e = 0; e < epochs; e++) {
    const order = [...Array(source.length).keys()];
    if (options.shuffle) shuffleInPlace(orderRng, order);
    for (let k = 0; k < order.length; k++, visit++) {
      if (visit % parts !== part) continue;
      const rng = visitRandom(seed, e, k);
      let subject = await source.load(order[k]);
      if (options.transform) subject = await options.transform(subject, rng);
      yield* options.sampler(subject, rng);
    }
  }
}
