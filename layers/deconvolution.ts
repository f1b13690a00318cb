/**
 * Transposed convolutions with NiftyNet's structure and names.
 *
 * - `DeconvLayer` (scope `deconv_` inside blocks): kernel `w` of shape `[k…, out, in]` (TensorFlow's
 *   conv_transpose layout), default initializer NiftyNet's truncated normal with σ = √(2 / (∏k · in)), optional
 *   bias `b`. Output size per axis: `in·stride` ("same") or `in·stride + max(k − stride, 0)` ("valid").
 * - `DeconvolutionalLayer`: deconv → feature normalisation (batch by default) → activation → dropout, scope
 *   `<name>[_bn|_in|_gn][_<acti>]` (`up_2x2_bn_relu/deconv_/w`).
 *
 * 2D and 3D from the input's rank (channels-last). 3D training needs the `Conv3DBackpropInputV2` gradient that
 * `registerKernelFixes` installs (called here).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { registerKernelFixes } from "../src/kernels/mod.ts";
import { ActiLayer, type ActivationName, DropoutLayer } from "./activation.ts";
import {
  type FeatureNormalization,
  normalizationLayer,
  normalizationSuffix,
  resolveNormalization,
} from "./normalization.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

// Standard deviation of a unit normal cut at ±2: variance_scaling divides by it, NiftyNet's deconv default does not.
const TRUNCATED_STDDEV = 0.87962566103423978;

/**
 * NiftyNet's deconvolution default: truncated N(0, √(2 / (∏k · in))) cut at 2σ, i.e. TensorFlow's variance scaling
 * on fan_out (= ∏k · in for a `[k…, out, in]` kernel) with the truncation correction undone.
 */
export const DECONV_DEFAULT_INITIALIZER: InitializerSpec = {
  type: "variance_scaling",
  scale: 2 * TRUNCATED_STDDEV * TRUNCATED_STDDEV,
  mode: "fan_out",
  distribution: "truncated_normal",
};

/** Options of {@link DeconvLayer}. */
export interface DeconvLayerOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly padding?: "same" | "valid";
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
}

/** Output spatial size of a transposed convolution, NiftyNet's `infer_output_dims`. */
export function deconvOutputSize(
  inputSize: readonly number[],
  kernel: readonly number[],
  stride: readonly number[],
  padding: "same" | "valid",
): number[] {
  return inputSize.map((n, i) =>
    padding === "valid" ? n * stride[i] + Math.max(kernel[i] - stride[i], 0) : n * stride[i]
  );
}

/** A plain transposed convolution with optional bias. */
export class DeconvLayer extends Layer {
  readonly nOutputChannels: number;
  readonly options: DeconvLayerOptions;

  constructor(nOutputChannels: number, options: DeconvLayerOptions & { name?: string } = {}) {
    super(options.name ?? "deconv");
    if (!Number.isInteger(nOutputChannels) || nOutputChannels < 1) {
      throw new Error(`${this.name}: output channels must be a positive integer, got ${nOutputChannels}`);
    }
    if (options.padding !== undefined && options.padding !== "same" && options.padding !== "valid") {
      throw new Error(`${this.name}: padding must be "same" or "valid", got ${JSON.stringify(options.padding)}`);
    }
    this.nOutputChannels = nOutputChannels;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    registerKernelFixes();
    const o = this.options;
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(o.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const stride = expandSpatial(o.stride ?? 1, rank, `${scope.path}: stride`);
    const padding = o.padding ?? "same";
    const inChannels = x.shape[x.rank - 1];
    const w = scope.variable("w", [...kernel, this.nOutputChannels, inChannels], {
      initializer: o.wInitializer ?? DECONV_DEFAULT_INITIALIZER,
      regularizer: o.wRegularizer,
    });
    const outSize = deconvOutputSize(x.shape.slice(1, -1), kernel, stride, padding);
    const outShape = [x.shape[0], ...outSize, this.nOutputChannels];
    let y: tf.Tensor = rank === 3
      ? tf.conv3dTranspose(
        x as tf.Tensor5D,
        w as tf.Tensor5D,
        outShape as [number, number, number, number, number],
        stride as [number, number, number],
        padding,
      )
      : tf.conv2dTranspose(
        x as tf.Tensor4D,
        w as tf.Tensor4D,
        outShape as [number, number, number, number],
        stride as [number, number],
        padding,
      );
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

/** Options of {@link DeconvolutionalLayer}. */
export interface DeconvolutionalOptions extends DeconvLayerOptions {
  readonly name?: string;
  /** Batch norm after the deconvolution (default true); `featureNormalization` takes precedence. */
  readonly withBn?: boolean;
  readonly featureNormalization?: FeatureNormalization;
  readonly groupSize?: number;
  readonly actiFunc?: ActivationName;
  readonly movingDecay?: number;
  readonly eps?: number;
  readonly keepProb?: number;
}

/** NiftyNet's composite deconvolution block. */
export class DeconvolutionalLayer extends Layer {
  readonly #deconv: DeconvLayer;
  readonly #norm?: Layer;
  readonly #acti?: ActiLayer;
  readonly #dropout?: DropoutLayer;

  constructor(nOutputChannels: number, options: DeconvolutionalOptions = {}) {
    const base = options.name ?? "deconv";
    const norm = resolveNormalization(base, options);
    super(`${base}${normalizationSuffix(norm)}${options.actiFunc ? `_${options.actiFunc}` : ""}`);
    this.#deconv = new DeconvLayer(nOutputChannels, { ...options, name: "deconv_" });
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
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    let t = this.#deconv.apply(scope, x);
    if (this.#norm) t = this.#norm.apply(scope, t);
    if (this.#acti) t = this.#acti.apply(scope, t);
    if (this.#dropout) t = this.#dropout.apply(scope, t);
    return t;
  }
}
