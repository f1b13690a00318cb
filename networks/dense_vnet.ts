/**
 * Dense V-Network (Gibson et al., "Automatic multi-organ segmentation on abdominal CT with dense V-networks",
 * IEEE TMI 2018), NiftyNet's `dense_vnet`:
 *
 * ```
 * input ─► avg-pool 3, stride 2 ─► batch_norm ───────────────────────────────────────────┐
 *   └────► conv_bn (5, stride 2) ─┴─ concat ─► DFS block 1 ─► skip 1 (resized) ──────────┤
 *                                                  └─down─► DFS block 2 ─► skip 2 ───────┤─► concat ─► conv ─► (+ log prior) ─► ×2 resize
 *                                                               └─down─► DFS block 3 ─► skip 3 ┘
 * ```
 *
 * A dense feature stack (`dense_feature_stack_block/dense_feature_stack_block`) holds the block input and the
 * outputs of `nDenseLayers[i]` 3×3(×3) `conv_bn_relu[_j]` layers, each seeing the concatenation of all before it;
 * the block's skip output is `conv_bn_relu` (nSegChannels) and its downsampled output `conv_bn_relu_1` (stride 2,
 * next block's nInputChannels) of the whole stack. Dropout keeps `pChannelsSelected` of the channels in training
 * (not after a stack's last layer). Skips are resized to the pooled input size with TF1's bilinear rule (no half
 * pixel offset), concatenated with the pooled image, and `conv` (finalKernel, bias, no bn) gives the logits, which are
 * resized back to the input size.
 *
 * Prior: with `usePrior`, a learned `spatial_prior_block/prior` of shape `[priorSize…, numClasses]` (initialised
 * to 1) is resized to the logits' size and its log added. NiftyNet declares a class-less `[12, 12, 12]` prior but
 * never applies it (it adds the layer object itself); the per-class prior follows the paper.
 *
 * Not implemented: NiftyNet's in-network random affine augmentation (`augmentation_scale`, default 0.1); use the
 * data augmentation layers instead. Dilation rates other than 1, BDO and coordinate features are rejected by
 * NiftyNet too.
 *
 * `wInitializer` / `wRegularizer` apply to every convolution (NiftyNet's DenseVNet ignores them).
 *
 * Input constraints: 2D or 3D; every spatial size divisible by 2^(number of blocks) (8 by default). Output: logits
 * `[N, …input spatial, numClasses]`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { BNLayer, ConvolutionalLayer, DenseFeatureStackBlock, linearResize } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** Dense V-Net hyper-parameters (defaults: NiftyNet's `__hyper_params__`). */
export interface DenseVNetOptions extends NetworkOptions {
  readonly priorSize?: number;
  readonly pChannelsSelected?: number;
  readonly nDenseChannels?: readonly number[];
  readonly nSegChannels?: readonly number[];
  readonly nInputChannels?: readonly number[];
  /** Convolutions per dense feature stack (NiftyNet: the lengths of `dilation_rates`, 5, 10, 10). */
  readonly nDenseLayers?: readonly number[];
  readonly finalKernel?: number;
  readonly usePrior?: boolean;
}

/** Dense feature stack, then the skip conv and (except in the last block) the strided downsampling conv. */
class DenseFeatureStackBlockWithSkipAndDownsample extends Layer<[tf.Tensor], [tf.Tensor, tf.Tensor | undefined]> {
  readonly #stack: DenseFeatureStackBlock;
  readonly #seg: ConvolutionalLayer;
  readonly #down?: ConvolutionalLayer;

  constructor(
    dense: number,
    layers: number,
    seg: number,
    down: number | undefined,
    keepProb: number,
    o: NetworkOptions,
  ) {
    super("dense_feature_stack_block");
    const shared = {
      kernelSize: 3,
      actiFunc: "relu",
      keepProb,
      wInitializer: o.wInitializer,
      wRegularizer: o.wRegularizer,
    } as const;
    this.#stack = new DenseFeatureStackBlock(dense, { kernelSize: 3, dilationRates: Array(layers).fill(1) }, {
      actiFunc: "relu",
      keepProb,
      wInitializer: o.wInitializer,
      wRegularizer: o.wRegularizer,
    });
    this.#seg = new ConvolutionalLayer(seg, shared);
    if (down !== undefined) this.#down = new ConvolutionalLayer(down, { ...shared, stride: 2 });
  }

  forward(scope: Scope, x: tf.Tensor): [tf.Tensor, tf.Tensor | undefined] {
    const all = tf.concat(this.#stack.apply(scope, x), -1);
    return [this.#seg.apply(scope, all), this.#down?.apply(scope, all)];
  }
}

/** NiftyNet's Dense V-Net segmentation network. */
export class DenseVNet extends Layer {
  readonly #bn = new BNLayer({ name: "batch_norm" });
  readonly #initialConv: ConvolutionalLayer;
  readonly #blocks: DenseFeatureStackBlockWithSkipAndDownsample[];
  readonly #segLayer: ConvolutionalLayer;
  readonly #usePrior: boolean;
  readonly #priorSize: number;
  readonly #numClasses: number;

  constructor(options: DenseVNetOptions) {
    super(options.name ?? "DenseVNet");
    const {
      priorSize = 12,
      pChannelsSelected = 0.5,
      nDenseChannels = [4, 8, 16],
      nSegChannels = [12, 24, 24],
      nInputChannels = [24, 24, 24],
      nDenseLayers = [5, 10, 10],
      finalKernel = 3,
    } = options;
    const n = nDenseChannels.length;
    if (n === 0 || nSegChannels.length !== n || nInputChannels.length !== n || nDenseLayers.length !== n) {
      throw new Error(
        `DenseVNet: nDenseChannels, nSegChannels, nInputChannels and nDenseLayers need one equal, non-zero length, ` +
          `got ${n}, ${nSegChannels.length}, ${nInputChannels.length}, ${nDenseLayers.length}`,
      );
    }
    this.#usePrior = options.usePrior ?? false;
    this.#priorSize = priorSize;
    this.#numClasses = options.numClasses;
    this.#initialConv = new ConvolutionalLayer(nInputChannels[0], {
      kernelSize: 5,
      stride: 2,
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
    });
    const downChannels = [...nInputChannels.slice(1), undefined];
    this.#blocks = nDenseChannels.map((d, i) =>
      new DenseFeatureStackBlockWithSkipAndDownsample(
        d,
        nDenseLayers[i],
        nSegChannels[i],
        downChannels[i],
        pChannelsSelected,
        options,
      )
    );
    this.#segLayer = new ConvolutionalLayer(options.numClasses, {
      kernelSize: finalKernel,
      withBn: false,
      withBias: true,
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      bInitializer: options.bInitializer,
      bRegularizer: options.bRegularizer,
    });
  }

  /** Throws unless `shape` is a valid input (2D/3D, spatial sizes divisible by 2^blocks). */
  checkInput(shape: readonly number[]): void {
    if (shape.length !== 4 && shape.length !== 5) {
      throw new Error(`DenseVNet: expected a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${shape}]`);
    }
    const modulo = 2 ** this.#blocks.length;
    if (shape.slice(1, -1).some((n) => n % modulo !== 0)) {
      throw new Error(`DenseVNet: spatial sizes must be divisible by ${modulo}, got [${shape}]`);
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const spatial = images.shape.slice(1, -1);
    const pooled = images.rank === 5
      ? tf.avgPool3d(images as tf.Tensor5D, 3, 2, "same")
      : tf.avgPool(images as tf.Tensor4D, 3, 2, "same");
    const downsampled = this.#bn.apply(scope, pooled);
    const outputSize = downsampled.shape.slice(1, -1);
    const features = [downsampled];
    let down: tf.Tensor | undefined = tf.concat([downsampled, this.#initialConv.apply(scope, images)], -1);
    for (const block of this.#blocks) {
      const [skip, next]: [tf.Tensor, tf.Tensor | undefined] = block.apply(scope, down!);
      features.push(linearResize(skip, outputSize));
      down = next;
    }
    let seg = this.#segLayer.apply(scope, tf.concat(features, -1));
    if (this.#usePrior) seg = tf.add(seg, new SpatialPriorBlock(this.#priorSize, this.#numClasses).apply(scope, seg));
    return linearResize(seg, spatial);
  }
}

/** A learned per-class prior probability map, returned as its log resized to the logits' spatial size. */
class SpatialPriorBlock extends Layer {
  constructor(readonly size: number, readonly classes: number) {
    super("spatial_prior_block");
  }

  forward(scope: Scope, logits: tf.Tensor): tf.Tensor {
    const spatial = logits.shape.slice(1, -1);
    const prior = scope.variable("prior", [...spatial.map(() => this.size), this.classes], { initializer: "ones" });
    return tf.log(linearResize(tf.expandDims(prior, 0), spatial));
  }
}
