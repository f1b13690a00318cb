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
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { conv } from "../src/kernels/mod.ts";
import { ActiLayer, type ActivationName, DropoutLayer } from "./activation.ts";
import {
  type FeatureNormalization,
  normalizationLayer,
  normalizationSuffix,
  resolveNormalization,
} from "./normalization.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

/** Options shared by convolution layers. */
export interface ConvLayerOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly padding?: "same" | "valid";
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
}

/** A plain convolution with optional bias. */
export class ConvLayer extends Layer {
  readonly nOutputChannels: number;
  readonly options: ConvLayerOptions;

  constructor(nOutputChannels: number, options: ConvLayerOptions & { name?: string } = {}) {
    super(options.name ?? "conv");
    if (!Number.isInteger(nOutputChannels) || nOutputChannels < 1) {
      throw new Error(`${this.name}: output channels must be a positive integer, got ${nOutputChannels}`);
    }
    this.nOutputChannels = nOutputChannels;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const o = this.options;
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(o.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const inChannels = x.shape[x.rank - 1];
    const w = scope.variable("w", [...kernel, inChannels, this.nOutputChannels], {
      initializer: o.wInitializer ?? "niftynet_default",
      regularizer: o.wRegularizer,
    });
    let y = conv(x as tf.Tensor4D | tf.Tensor5D, w as tf.Tensor4D | tf.Tensor5D, {
      strides: expandSpatial(o.stride ?? 1, rank, `${scope.path}: stride`),
      dilations: expandSpatial(o.dilation ?? 1, rank, `${scope.path}: dilation`),
      padding: o.padding ?? "same",
    });
    if (o.withBias) {
      const b = scope.variable("b", [this.nOutputChannels], {
        initializer: o.bInitializer ?? "zeros",
        regularizer: o.bRegularizer,
      });
      y = tf.add(y, b);
    }
    return y;
  }
}

/** Options of {@link ConvolutionalLayer}. */
export interface ConvolutionalOptions extends ConvLayerOptions {
  readonly name?: string;
  /** Batch norm after the convolution (default true, as NiftyNet); `featureNormalization` takes precedence. */
  readonly withBn?: boolean;
  /** NiftyNet 0.6's `feature_normalization` (default "batch"; null for none). */
  readonly featureNormalization?: FeatureNormalization;
  /** Number of groups for group norm (NiftyNet's `group_size`; only with `featureNormalization: "group"`). */
  readonly groupSize?: number;
  readonly actiFunc?: ActivationName;
  /** norm → activation → conv instead of conv → norm → activation. */
  readonly preactivation?: boolean;
  readonly movingDecay?: number;
  readonly eps?: number;
  /** Dropout keep probability; no dropout when absent. */
  readonly keepProb?: number;
}

/** NiftyNet's composite conv block. */
export class ConvolutionalLayer extends Layer {
  readonly #conv: ConvLayer;
  readonly #norm?: Layer;
  readonly #acti?: ActiLayer;
  readonly #dropout?: DropoutLayer;
  readonly preactivation: boolean;

  constructor(nOutputChannels: number, options: ConvolutionalOptions = {}) {
    const base = options.name ?? "conv";
    const norm = resolveNormalization(base, options);
    super(`${base}${normalizationSuffix(norm)}${options.actiFunc ? `_${options.actiFunc}` : ""}`);
    this.#conv = new ConvLayer(nOutputChannels, { ...options, name: "conv_" });
    this.#norm = normalizationLayer(norm, {
      regularizer: options.wRegularizer,
      movingDecay: options.movingDecay,
      eps: options.eps,
      groupSize: options.groupSize,
    });
    if (options.actiFunc) {
      this.#acti = new ActiLayer(options.actiFunc, { name: "acti_", regularizer: options.wRegularizer });
    }
    if (options.keepProb !== undefined) this.#dropout = new DropoutLayer(options.keepProb);
    this.preactivation = options.preactivation ?? false;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const post = (t: tf.Tensor) => {
      if (this.#norm) t = this.#norm.apply(scope, t);
      if (this.#acti) t = this.#acti.apply(scope, t);
      if (this.#dropout) t = this.#dropout.apply(scope, t);
      return t;
    };
    return this.preactivation ? this.#conv.apply(scope, post(x)) : post(this.#conv.apply(scope, x));
  }
}
