/**
 * TensorFlow's `random_normal_initializer(0, σ)` (the GANs' `w_init`) as the store's equivalent variance-scaling
 * spec for one variable shape: N(0, √(scale/fan_in)) with scale = σ²·fan_in.
 *
 * @module
 */
import { computeFans, type InitializerSpec } from "../src/dsl/mod.ts";

/** N(0, σ) for a variable of `shape`. */
export function normalInitializer(stddev: number, shape: readonly number[]): InitializerSpec {
  const fanIn = Math.max(1, computeFans(shape).fanIn);
  return {
    type: "variance_scaling",
    scale: stddev * stddev * fanIn,
    mode: "fan_in",
    distribution: "untruncated_normal",
  };
}
