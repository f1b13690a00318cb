/**
 * Seeded randomness for sampling and augmentation, on top of the project's {@link RandomStream}.
 *
 * @module
 */
import { RandomStream } from "../dsl/random.ts";

export { RandomStream };

/** Uniform integer in `[0, n)`. */
export function randomInt(rng: RandomStream, n: number): number {
  return Math.min(n - 1, Math.floor(rng.uniform() * n));
}

/** Uniform float in `[lo, hi)`. */
export function randomUniform(rng: RandomStream, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(rng: RandomStream, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** A stream from a seed, or a fresh time-based one when none is given. */
export function makeRandom(seed?: number | RandomStream): RandomStream {
  if (seed instanceof RandomStream) return seed;
  return new RandomStream(seed ?? Math.floor(Math.random() * 2 ** 32));
}
