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
import type { InitializerSpec, Scope } from "../src/dsl/mod.ts";
import { registerKernelFixes } from "../src/kernels/mod.ts";
import { CompositeLayer, type CompositeOptions, WeightedLayer, type WeightOptions } from "./_composite.ts";
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
export interface DeconvLayerOptions extends WeightOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly padding?: "same" | "valid";
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
export class DeconvLayer extends WeightedLayer<DeconvLayerOptions> {
  constructor(nOutputChannels: number, options: DeconvLayerOptions & { name?: string } = {}) {
    super(nOutputChannels, options, { name: "deconv", wInitializer: DECONV_DEFAULT_INITIALIZER, withBias: false });
    if (options.padding !== undefined && options.padding !== "same" && options.padding !== "valid") {
      throw new Error(`${this.name}: padding must be "same" or "valid", got ${JSON.stringify(options.padding)}`);
    }
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    registerKernelFixes();
    const o = this.options;
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(o.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const stride = expandSpatial(o.stride ?? 1, rank, `${scope.path}: stride`);
    const padding = o.padding ?? "same";
    const inChannels = x.shape[x.rank - 1];
    const w = this.kernel(scope, [...kernel, this.nOutputChannels, inChannels]);
    const outSize = deconvOutputSize(x.shape.slice(1, -1), kernel, stride, padding);
    const outShape = [x.shape[0], ...outSize, this.nOutputChannels];
    const y: tf.Tensor = rank === 3
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
    return this.addBias(scope, y);
  }
}

/** Options of {@link DeconvolutionalLayer}. */
export interface DeconvolutionalOptions extends DeconvLayerOptions, CompositeOptions {}

/** NiftyNet's composite deconvolution block. */
export class DeconvolutionalLayer extends CompositeLayer {
  constructor(nOutputChannels: number, options: DeconvolutionalOptions = {}) {
    super(options, { name: "deconv", core: () => new DeconvLayer(nOutputChannels, { ...options, name: "deconv_" }) });
  }
}
