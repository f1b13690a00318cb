/**
 * Instance normalisation, NiftyNet's `InstanceNormLayer` (a wrapper of `tf.contrib.layers.instance_norm`): each
 * sample and channel is normalised over its spatial axes, y = (x − mean)·rsqrt(var + eps)·gamma + beta, with the
 * variables `InstanceNorm/beta` (0) and `InstanceNorm/gamma` (1) of shape [channels] as tf.contrib names them.
 * Training and inference behave the same (no moving statistics). With `affine: false` there are no variables:
 * y = (x − mean)·rsqrt(var + eps) (population variance), as brainchop's `_gn` layers (mindgrab) normalise.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { spatialRank } from "./_util.ts";

/** Options of {@link InstanceNormLayer}. */
export interface InstanceNormOptions {
  readonly name?: string;
  /** Added to the variance (NiftyNet's layer default 1e-6; its ConvolutionalLayer passes 1e-5). */
  readonly eps?: number;
  readonly gammaInitializer?: InitializerName | InitializerSpec;
  readonly regularizer?: Regularizer;
  /** Learn `gamma` and `beta` (default true); false: plain normalisation without variables. */
  readonly affine?: boolean;
}

/** Per-sample, per-channel normalisation over the spatial axes with a learnt scale and shift. */
export class InstanceNormLayer extends Layer {
  readonly eps: number;
  readonly gammaInitializer: InitializerName | InitializerSpec;
  readonly regularizer?: Regularizer;
  readonly affine: boolean;
  readonly #params: Layer;

  constructor(
    { name = "instance_norm", eps = 1e-6, gammaInitializer = "ones", regularizer, affine = true }: InstanceNormOptions =
      {},
  ) {
    super(name);
    this.eps = eps;
    this.gammaInitializer = gammaInitializer;
    this.regularizer = regularizer;
    this.affine = affine;
    // tf.contrib.layers.instance_norm opens its own "InstanceNorm" scope for beta and gamma.
    this.#params = new InstanceNormParams(this);
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    if (!this.affine) return normalizeInstance(x, this.eps);
    return this.#params.apply(scope, x);
  }
}

/** (x − mean)·rsqrt(var + eps) per sample and channel over the spatial axes (population variance). */
function normalizeInstance(x: tf.Tensor, eps: number): tf.Tensor {
  const axes = [...Array(x.rank - 2).keys()].map((i) => i + 1);
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
}

class InstanceNormParams extends Layer {
  constructor(readonly owner: InstanceNormLayer) {
    super("InstanceNorm");
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const channels = [x.shape[x.rank - 1]];
    const beta = scope.variable("beta", channels, { initializer: "zeros", regularizer: this.owner.regularizer });
    const gamma = scope.variable("gamma", channels, {
      initializer: this.owner.gammaInitializer,
      regularizer: this.owner.regularizer,
    });
    return tf.add(tf.mul(normalizeInstance(x, this.owner.eps), gamma), beta);
  }
}
