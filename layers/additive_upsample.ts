/**
 * Upsampling from Wojna et al., "The devil is in the decoder" (NiftyNet's `additive_upsample.py`):
 *
 * - `AdditiveUpsampleLayer` (scope `linear_additive_upsample`): linear resize to `newSize`, then the channels are
 *   cut into `nSplits` consecutive groups which are summed: output channel j = Σₖ resized[k·C/n + j]. No variables.
 * - `ResidualUpsampleLayer` (scope `residual_additive_upsample`): a `DeconvolutionalLayer` (no bias, batch norm,
 *   activation; `deconv_bn_relu/…`) to C/nSplits channels, plus the additive upsampling of the input to the
 *   deconvolution's size, summed by `residual_sum`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import {
  FunctionLayer,
  type InitializerName,
  type InitializerSpec,
  Layer,
  type Regularizer,
  type Scope,
} from "../src/dsl/mod.ts";
import type { ActivationName } from "./activation.ts";
import { DeconvolutionalLayer } from "./deconvolution.ts";
import { ElementwiseLayer } from "./elementwise.ts";
import { linearResize } from "./linear_resize.ts";
import { spatialRank } from "./_util.ts";

function splitChannels(x: tf.Tensor, nSplits: number, where: string): number {
  const c = x.shape[x.rank - 1];
  if (!Number.isInteger(nSplits) || nSplits < 1 || c % nSplits !== 0) {
    throw new Error(`${where}: ${c} input channels cannot be split into ${nSplits} equal groups`);
  }
  return c / nSplits;
}

/** Additive upsampling as a function: linear resize to `size`, then the sum of `nSplits` channel groups. */
export function additiveUpsample(x: tf.Tensor, size: number | readonly number[], nSplits: number): tf.Tensor {
  const perGroup = splitChannels(x, nSplits, "additive upsampling");
  const resized = linearResize(x, size);
  // [..., nSplits, C/n] then sum the groups.
  return tf.sum(tf.reshape(resized, [...resized.shape.slice(0, -1), nSplits, perGroup]), -2);
}

/** Linear resize followed by a sum over channel groups. */
export class AdditiveUpsampleLayer extends Layer {
  readonly newSize: number | readonly number[];
  readonly nSplits: number;

  constructor(
    newSize: number | readonly number[],
    nSplits: number,
    { name = "linear_additive_upsample" }: { name?: string } = {},
  ) {
    super(name);
    this.newSize = newSize;
    this.nSplits = nSplits;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    splitChannels(x, this.nSplits, scope.path);
    return additiveUpsample(x, this.newSize, this.nSplits);
  }
}

/** Options of {@link ResidualUpsampleLayer}. */
export interface ResidualUpsampleOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly nSplits?: number;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly actiFunc?: ActivationName;
  readonly name?: string;
}

/** Transposed convolution plus additive upsampling, summed. */
export class ResidualUpsampleLayer extends Layer {
  readonly nSplits: number;
  readonly options: ResidualUpsampleOptions;
  #deconv?: DeconvolutionalLayer;
  readonly #sum = new ElementwiseLayer("SUM");
  // The target size is the deconvolution's output, known only per application.
  readonly #additive = new FunctionLayer<[tf.Tensor, number[]]>(
    "linear_additive_upsample",
    (_scope, x, size) => additiveUpsample(x, size, this.nSplits),
    { layerType: "AdditiveUpsampleLayer" },
  );

  constructor(options: ResidualUpsampleOptions = {}) {
    super(options.name ?? "residual_additive_upsample");
    this.nSplits = options.nSplits ?? 2;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    spatialRank(x, scope.path);
    const nOut = splitChannels(x, this.nSplits, scope.path);
    this.#deconv ??= new DeconvolutionalLayer(nOut, {
      kernelSize: this.options.kernelSize ?? 3,
      stride: this.options.stride ?? 2,
      withBias: false,
      featureNormalization: "batch",
      actiFunc: this.options.actiFunc ?? "relu",
      wInitializer: this.options.wInitializer,
      wRegularizer: this.options.wRegularizer,
    });
    const deconv = this.#deconv.apply(scope, x);
    const additive = this.#additive.apply(scope, x, deconv.shape.slice(1, -1));
    return this.#sum.apply(scope, deconv, additive);
  }
}
