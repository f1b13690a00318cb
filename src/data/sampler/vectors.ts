/**
 * Samplers for generative applications: random noise vectors (NiftyNet's random vector sampler, GAN) and linear
 * interpolation between two latent codes (its linear interpolation sampler, autoencoder).
 *
 * @module
 */
import { makeRandom, type RandomStream } from "../_random.ts";

/** Options for {@link randomVectorSampler}. */
export interface RandomVectorOptions {
  /** Length of each vector. */
  vectorSize: number;
  /** How many vectors to draw (NiftyNet `repeat`). */
  repetition: number;
  /** Mean and standard deviation of the normal draw (default 0, 1). */
  mean?: number;
  stddev?: number;
  seed?: number | RandomStream;
}

/** Normal random vectors, seeded. */
export function* randomVectorSampler(options: RandomVectorOptions): Generator<Float32Array> {
  const rng = makeRandom(options.seed);
  for (let r = 0; r < options.repetition; r++) {
    const v = new Float32Array(options.vectorSize);
    for (let i = 0; i < v.length; i++) v[i] = (options.mean ?? 0) + (options.stddev ?? 1) * rng.normal();
    yield v;
  }
}

/** `steps` vectors from `a` to `b` inclusive, evenly spaced (`steps ≥ 2`). */
export function* linearInterpolationSampler(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  options: { steps: number },
): Generator<Float32Array> {
  if (a.length !== b.length) throw new Error(`cannot interpolate vectors of length ${a.length} and ${b.length}`);
  if (!(Number.isInteger(options.steps) && options.steps >= 2)) {
    throw new Error(`invalid interpolation steps ${options.steps}: expected an integer >= 2`);
  }
  for (let s = 0; s < options.steps; s++) {
    const t = s / (options.steps - 1);
    const v = new Float32Array(a.length);
    for (let i = 0; i < v.length; i++) v[i] = (1 - t) * a[i] + t * b[i];
    yield v;
  }
}
