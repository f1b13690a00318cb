/**
 * Batch normalisation, NiftyNet's `BNLayer`: variables `beta` (0), `gamma` (1) and non-trainable `moving_mean`
 * (0), `moving_variance` (1). Training uses the batch's mean and (biased) variance over every axis but the last and
 * updates the moving averages as `m ← m − (1 − decay)(m − batch)`; inference uses the moving averages.
 * Written out as (x − mean)·rsqrt(var + eps) because tfjs's batchNorm gradient fails on rank-5 inputs.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, MOVING_STATISTICS, type Regularizer, type Scope } from "../src/dsl/mod.ts";

/** Options of {@link BNLayer}. */
export interface BNOptions {
  readonly name?: string;
  readonly regularizer?: Regularizer;
  readonly movingDecay?: number;
  readonly eps?: number;
}

/** Batch normalisation over all axes but channels. */
export class BNLayer extends Layer {
  readonly regularizer?: Regularizer;
  readonly movingDecay: number;
  readonly eps: number;

  constructor({ name = "bn_", regularizer, movingDecay = 0.9, eps = 1e-5 }: BNOptions = {}) {
    super(name);
    this.regularizer = regularizer;
    this.movingDecay = movingDecay;
    this.eps = eps;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const channels = [x.shape[x.rank - 1]];
    const beta = scope.variable("beta", channels, { initializer: "zeros", regularizer: this.regularizer });
    const gamma = scope.variable("gamma", channels, { initializer: "ones", regularizer: this.regularizer });
    const state = { trainable: false, collections: [MOVING_STATISTICS] };
    const movingMean = scope.variable("moving_mean", channels, { initializer: "zeros", ...state });
    const movingVariance = scope.variable("moving_variance", channels, { initializer: "ones", ...state });
    let mean: tf.Tensor, variance: tf.Tensor;
    if (scope.training) {
      const axes = [...Array(x.rank - 1).keys()];
      ({ mean, variance } = tf.moments(x, axes));
      const decay = 1 - this.movingDecay;
      const [m, v] = [mean, variance];
      tf.tidy(() => {
        movingMean.assign(tf.sub(movingMean, tf.mul(decay, tf.sub(movingMean, m))));
        movingVariance.assign(tf.sub(movingVariance, tf.mul(decay, tf.sub(movingVariance, v))));
      });
    } else {
      [mean, variance] = [movingMean, movingVariance];
    }
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps))), gamma), beta);
  }
}
