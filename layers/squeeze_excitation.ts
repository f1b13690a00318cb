/**
 * Squeeze-and-excitation blocks with NiftyNet's names (`squeeze_excitation.py`):
 *
 * - `ChannelSELayer` (Hu et al. 2018; scope `channel_squeeze_excitation`): global average (or max) pooling over
 *   space, `se_fc_1_relu/fc_/w` [C, C/r] → relu, `se_fc_2_sigmoid/fc_/w` [C/r, C] → sigmoid (no biases, no norm),
 *   and the input scaled per channel. C must be divisible by the reduction ratio r (default 16).
 * - `SpatialSELayer` (Roy et al. 2018; scope `spatial_squeeze_excitation`): a 1×1(×1) convolution to one channel
 *   (`se_conv_sigmoid/conv_/w`, no bias) → sigmoid, scaling every voxel.
 * - `ChannelSpatialSELayer` (scope `channel_spatial_squeeze_excitation`): cSE(x) + sSE(x), sub-scopes `cSE`, `sSE`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer } from "./convolution.ts";
import { FullyConnectedLayer } from "./fully_connected.ts";
import { spatialRank } from "./_util.ts";

/** Spatial squeeze operations. */
export type SqueezeOp = "AVG" | "MAX";

/** Options of the channel squeeze-excitation layers. */
export interface ChannelSEOptions {
  readonly func?: SqueezeOp;
  readonly reductionRatio?: number;
  readonly name?: string;
}

function checkSqueeze(func: string): SqueezeOp {
  const op = func.toUpperCase();
  if (op !== "AVG" && op !== "MAX") throw new Error(`unknown squeeze operation "${func}": expected AVG or MAX`);
  return op;
}

/** Channel squeeze-excitation. */
export class ChannelSELayer extends Layer {
  readonly func: SqueezeOp;
  readonly reductionRatio: number;
  #fc?: [FullyConnectedLayer, FullyConnectedLayer];

  constructor({ func = "AVG", reductionRatio = 16, name = "channel_squeeze_excitation" }: ChannelSEOptions = {}) {
    super(name);
    this.func = checkSqueeze(func);
    this.reductionRatio = reductionRatio;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const rank = spatialRank(x, scope.path);
    const channels = x.shape[x.rank - 1];
    if (!Number.isInteger(this.reductionRatio) || this.reductionRatio < 1 || channels % this.reductionRatio !== 0) {
      throw new Error(`${scope.path}: reduction ratio ${this.reductionRatio} does not divide ${channels} channels`);
    }
    const axes = Array.from({ length: rank }, (_, i) => i + 1);
    const squeezed = this.func === "AVG" ? tf.mean(x, axes) : tf.max(x, axes);
    this.#fc ??= [
      new FullyConnectedLayer(channels / this.reductionRatio, {
        withBias: false,
        featureNormalization: null,
        actiFunc: "relu",
        name: "se_fc_1",
      }),
      new FullyConnectedLayer(channels, {
        withBias: false,
        featureNormalization: null,
        actiFunc: "sigmoid",
        name: "se_fc_2",
      }),
    ];
    const excite = this.#fc[1].apply(scope, this.#fc[0].apply(scope, squeezed));
    return tf.mul(x, tf.reshape(excite, [x.shape[0], ...Array(rank).fill(1), channels]));
  }
}

/** Spatial squeeze-excitation. */
export class SpatialSELayer extends Layer {
  readonly #conv = new ConvolutionalLayer(1, {
    kernelSize: 1,
    featureNormalization: null,
    actiFunc: "sigmoid",
    name: "se_conv",
  });

  constructor({ name = "spatial_squeeze_excitation" }: { name?: string } = {}) {
    super(name);
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    return tf.mul(x, this.#conv.apply(scope, x));
  }
}

/** Concurrent channel and spatial squeeze-excitation: cSE(x) + sSE(x). */
export class ChannelSpatialSELayer extends Layer {
  readonly #cse: ChannelSELayer;
  readonly #sse = new SpatialSELayer({ name: "sSE" });

  constructor(
    { func = "AVG", reductionRatio = 16, name = "channel_spatial_squeeze_excitation" }: ChannelSEOptions = {},
  ) {
    super(name);
    this.#cse = new ChannelSELayer({ func, reductionRatio, name: "cSE" });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return tf.add(this.#cse.apply(scope, x), this.#sse.apply(scope, x));
  }
}
