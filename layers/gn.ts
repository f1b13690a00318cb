/**
 * Group normalisation (Wu and He 2018), NiftyNet's `GNLayer`: the channels are split into `groupSize` groups
 * (NiftyNet's name for the number of groups, capped at the channel count) and each sample's group is normalised
 * over its spatial axes and channels. Variables `beta` (0) and `gamma` (1) have NiftyNet's shape
 * [1, …, 1, channels] (one 1 per non-channel axis).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { spatialRank } from "./_util.ts";

/** Options of {@link GNLayer}. */
export interface GNOptions {
  readonly name?: string;
  /** Number of groups (default 32, capped at the channel count); must divide the channels. */
  readonly groupSize?: number;
  readonly eps?: number;
  readonly regularizer?: Regularizer;
}

/** Group normalisation. */
export class GNLayer extends Layer {
  readonly groupSize: number;
  readonly eps: number;
  readonly regularizer?: Regularizer;

  constructor({ name = "group_norm", groupSize = 32, eps = 1e-5, regularizer }: GNOptions = {}) {
    super(name);
    if (!Number.isInteger(groupSize)) throw new Error(`${name}: group size must be an integer, got ${groupSize}`);
    this.groupSize = groupSize;
    this.eps = eps;
    this.regularizer = regularizer;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    const channels = x.shape[x.rank - 1];
    const groups = Math.max(Math.min(this.groupSize, channels), 1);
    if (channels % groups !== 0) {
      throw new Error(`${scope.path}: ${channels} input channels are not divisible into ${groups} groups`);
    }
    const paramShape = [...Array(x.rank - 1).fill(1), channels];
    const beta = scope.variable("beta", paramShape, { initializer: "zeros", regularizer: this.regularizer });
    const gamma = scope.variable("gamma", paramShape, { initializer: "ones", regularizer: this.regularizer });
    const grouped = tf.reshape(x, [...x.shape.slice(0, -1), groups, channels / groups]);
    // Statistics over every axis but batch and group.
    const axes = [...Array(x.rank - 2).keys()].map((i) => i + 1).concat([x.rank]);
    const { mean, variance } = tf.moments(grouped, axes, true);
    const normed = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(tf.reshape(normed, x.shape), gamma), beta);
  }
}
