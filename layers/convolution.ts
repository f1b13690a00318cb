/**
 * Convolutions with NiftyNet's structure and names.
 *
 * - `ConvLayer` (scope `conv_` inside blocks): kernel `w` of shape `[k…, in, out]` (default initializer: NiftyNet's
 *   truncated normal with σ = √(2/fan_in)), optional bias `b` (zeros); stride, dilation, `same`/`valid` padding.
 * - `ConvolutionalLayer`: conv → feature normalisation (batch by default, or instance / group / none) → activation →
 *   dropout, scope named `<name>[_bn|_in|_gn][_<acti>]` like NiftyNet (`conv_0_bn_relu/conv_/w`, `…/bn_/gamma`,
 *   `…/relu_acti_/…`), with optional pre-activation.
 *
 * 2D and 3D from the input's rank (channels-last).
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import type { Scope } from "../src/dsl/mod.ts";
import { conv } from "../src/kernels/mod.ts";
import { CompositeLayer, type CompositeOptions, WeightedLayer, type WeightOptions } from "./_composite.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

/** Options shared by convolution layers. */
export interface ConvLayerOptions extends WeightOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly padding?: "same" | "valid";
}

/** A plain convolution with optional bias. */
export class ConvLayer extends WeightedLayer<ConvLayerOptions> {
  constructor(nOutputChannels: number, options: ConvLayerOptions & { name?: string } = {}) {
    super(nOutputChannels, options, { name: "conv", wInitializer: "niftynet_default", withBias: false });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const o = this.options;
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(o.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const inChannels = x.shape[x.rank - 1];
    const w = this.kernel(scope, [...kernel, inChannels, this.nOutputChannels]);
    const y = conv(x as tf.Tensor4D | tf.Tensor5D, w as tf.Tensor4D | tf.Tensor5D, {
      strides: expandSpatial(o.stride ?? 1, rank, `${scope.path}: stride`),
      dilations: expandSpatial(o.dilation ?? 1, rank, `${scope.path}: dilation`),
      padding: o.padding ?? "same",
    });
    return this.addBias(scope, y);
  }
}

/** Options of {@link ConvolutionalLayer}. */
export interface ConvolutionalOptions extends ConvLayerOptions, CompositeOptions {
  /** norm → activation → conv instead of conv → norm → activation. */
  readonly preactivation?: boolean;
}

/** NiftyNet's composite conv block. */
export class ConvolutionalLayer extends CompositeLayer {
  constructor(nOutputChannels: number, options: ConvolutionalOptions = {}) {
    super(options, {
      name: "conv",
      core: () => new ConvLayer(nOutputChannels, { ...options, name: "conv_" }),
      preactivation: options.preactivation,
    });
  }
}
