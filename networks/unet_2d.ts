/**
 * 2D U-Net (Ronneberger et al., "U-Net: convolutional networks for biomedical image segmentation", MICCAI 2015),
 * NiftyNet's `unet_2d` (`UNet2D`):
 *
 * 4 × (TwoConv → 2×2 max pool) → TwoConv → 4 × (2×2 stride-2 transposed conv → crop-and-concat → TwoConv) →
 * 1×1 conv to the classes. Features [64, 128, 256, 512, 1024]; every conv and transposed conv has a bias, batch norm
 * and the activation (relu by default), "valid" padding; TwoConv is two 3×3 `conv_bn_relu`s. Crop-and-concat crops
 * the encoder map by ⌊(its size − decoder size)/2⌋ on every axis (taken from the first axis, as NiftyNet does),
 * resizes it linearly to the decoder map's size and concatenates [encoder, decoder]. Poolings use "same" padding.
 *
 * Input constraints: 2D only; every size must keep all feature maps non-empty and every crop non-negative — the
 * smallest square input is 173×173 (output 4×4); the classic 572×572 gives 388×388. Sizes are checked before any
 * tensor work by {@link unet2dOutputSize}.
 *
 * Variables: `UNet2D/TwoConv/conv_bn_relu/{conv_/w, conv_/b, bn_/…}`, `…/conv_bn_relu_1/…`, `UNet2D/TwoConv_1/…`,
 * `UNet2D/deconv_bn_relu/{deconv_/w, deconv_/b, bn_/…}`, …, `UNet2D/conv/conv_/{w, b}`.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { FunctionLayer, Layer, type Scope } from "../src/dsl/mod.ts";
import {
  ConvolutionalLayer,
  type ConvolutionalOptions,
  CropLayer,
  DeconvolutionalLayer,
  DownSampleLayer,
  ElementwiseLayer,
  LinearResizeLayer,
} from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { checkInputRank } from "./_checks.ts";

/** Options of {@link UNet2D}. */
export interface UNet2DOptions extends NetworkOptions {
  /** Feature counts of the five levels (NiftyNet: [64, 128, 256, 512, 1024]); smaller for tests. */
  readonly nFeatures?: readonly [number, number, number, number, number];
}

/**
 * Output spatial size of UNet2D for an input spatial size, or an error message naming the first map that would be
 * empty or the first negative crop.
 */
export function unet2dOutputSize(spatial: readonly number[]): { size: number[] } | { error: string } {
  let sizes = [...spatial];
  const skips: number[][] = [];
  const conv2 = (s: number[]) => s.map((n) => n - 4);
  const check = (s: number[], what: string) =>
    s.some((n) => n < 1) ? `the ${what} would be [${s}] (every two valid 3×3 convs remove 4)` : undefined;
  for (let level = 1; level <= 4; level++) {
    sizes = conv2(sizes);
    const problem = check(sizes, `level ${level} encoder output`);
    if (problem) return { error: problem };
    skips.push(sizes);
    sizes = sizes.map((n) => Math.ceil(n / 2));
  }
  sizes = conv2(sizes);
  const bottom = check(sizes, "bottleneck output");
  if (bottom) return { error: bottom };
  for (let level = 4; level >= 1; level--) {
    const up = sizes.map((n) => 2 * n);
    const skip = skips[level - 1];
    const border = Math.floor((skip[0] - up[0]) / 2);
    if (border < 0 || skip.some((n) => n - 2 * border < 1)) {
      return { error: `the level ${level} skip map [${skip}] cannot be cropped to the upsampled map [${up}]` };
    }
    sizes = conv2(up);
    const problem = check(sizes, `level ${level} decoder output`);
    if (problem) return { error: problem };
  }
  return { size: sizes };
}

/** NiftyNet's `TwoLayerConv`: two identical convolution blocks in a `TwoConv` scope. */
class TwoLayerConv extends Layer {
  readonly #convs: ConvolutionalLayer[];

  constructor(nChannels: number, params: ConvolutionalOptions) {
    super("TwoConv");
    this.#convs = [new ConvolutionalLayer(nChannels, params), new ConvolutionalLayer(nChannels, params)];
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.#convs[1].apply(scope, this.#convs[0].apply(scope, x));
  }
}

/** NiftyNet's `CropConcat` (scope `crop_concat`): crop and resize `a` to `b`'s size, then concatenate [a, b]. */
class CropConcat extends Layer<[tf.Tensor, tf.Tensor]> {
  // The crop border and the target size depend on the inputs, so these sub-scopes are function layers.
  readonly #crop = new FunctionLayer<[tf.Tensor, number]>("crop", (scope, a, border) => {
    return new CropLayer(border).forward(scope, a);
  }, { layerType: "CropLayer" });
  readonly #resize = new FunctionLayer<[tf.Tensor, number[]]>("trilinear_resize", (scope, a, size) => {
    return new LinearResizeLayer(size).forward(scope, a);
  }, { layerType: "LinearResizeLayer" });
  readonly #concat = new ElementwiseLayer("CONCAT");

  constructor() {
    super("crop_concat");
  }

  forward(scope: Scope, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    const border = Math.floor(((a.shape[1] as number) - (b.shape[1] as number)) / 2);
    const cropped = this.#crop.apply(scope, a, border);
    return this.#concat.apply(scope, this.#resize.apply(scope, cropped, b.shape.slice(1, -1)), b);
  }
}

/** NiftyNet's 2D U-Net. */
export class UNet2D extends Layer {
  readonly #down: TwoLayerConv[];
  readonly #pool: DownSampleLayer[];
  readonly #up: DeconvolutionalLayer[];
  readonly #cropConcat: CropConcat[];
  readonly #decode: TwoLayerConv[];
  readonly #classifier: ConvolutionalLayer;

  constructor(options: UNet2DOptions) {
    super(options.name ?? "UNet2D");
    const f = options.nFeatures ?? [64, 128, 256, 512, 1024];
    const net = {
      padding: "valid" as const,
      withBias: true,
      featureNormalization: "batch" as const,
      actiFunc: options.actiFunc ?? "relu",
      wInitializer: options.wInitializer,
      bInitializer: options.bInitializer,
      wRegularizer: options.wRegularizer,
      bRegularizer: options.bRegularizer,
    };
    const conv = { ...net, kernelSize: 3, stride: 1 };
    const deconv = { ...net, kernelSize: 2, stride: 2 };
    this.#down = f.map((n) => new TwoLayerConv(n, conv));
    this.#pool = [0, 1, 2, 3].map(() => new DownSampleLayer("MAX", { kernelSize: 2, stride: 2 }));
    this.#up = [3, 2, 1, 0].map((i) => new DeconvolutionalLayer(f[i], deconv));
    this.#cropConcat = [0, 1, 2, 3].map(() => new CropConcat());
    this.#decode = [3, 2, 1, 0].map((i) => new TwoLayerConv(f[i], conv));
    this.#classifier = new ConvolutionalLayer(options.numClasses, {
      kernelSize: 1,
      withBias: true,
      featureNormalization: null,
    });
  }

  /** Throws unless `shape` is a valid input (see the module documentation). */
  checkInput(shape: readonly number[]): void {
    checkInputRank(this.name, shape, [2]);
    const result = unet2dOutputSize(shape.slice(1, -1));
    if ("error" in result) {
      throw new Error(`${this.name}: input [${shape}] is too small or unbalanced: ${result.error}`);
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const skips: tf.Tensor[] = [];
    let flow = images;
    for (let i = 0; i < 4; i++) {
      skips.push(this.#down[i].apply(scope, flow));
      flow = this.#pool[i].apply(scope, skips[i]);
    }
    flow = this.#down[4].apply(scope, flow);
    for (let i = 0; i < 4; i++) {
      const up = this.#up[i].apply(scope, flow);
      flow = this.#decode[i].apply(scope, this.#cropConcat[i].apply(scope, skips[3 - i], up));
    }
    return this.#classifier.apply(scope, flow);
  }
}
