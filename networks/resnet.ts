/**
 * ResNet with pre-activation bottleneck blocks (He et al., "Identity Mappings in Deep Residual Networks", 2016),
 * NiftyNet's `resnet` classifier: conv → DownResBlock × (len(nFeatures) − 1) → batch norm → ReLU → spatial mean →
 * fully connected to `numClasses` logits `[N, numClasses]`.
 *
 * - Every convolution is NiftyNet's pre-activation `ConvolutionalLayer` (bn → relu → conv, no bias).
 * - `DownResBlock` `downres[_i]`: `nBlocksPerResolution` bottleneck blocks `bottleneck[_j]`; the first has stride 1
 *   in the first block and 2 in the later ones.
 * - Bottleneck with as many input as output channels: `conv_bn_relu` (1, stride) → `conv_bn_relu_1` (3) →
 *   `conv_bn_relu_2` (1) + input. Otherwise: `batch_norm` → relu → `conv` (1, stride) → `conv_bn_relu` (3) →
 *   `conv_bn_relu_1` (1), plus the shortcut `conv_1` (1, stride) of the normalised input.
 *
 * Variables: `ResNet/conv/conv_/w`, `ResNet/downres/bottleneck/batch_norm/…`, `ResNet/batch_norm/…`,
 * `ResNet/fc/{w,b}`. 2D or 3D input, any spatial size (strided "same" convolutions round up); output channels of
 * every block must be divisible by 4 (bottleneck width = channels / 4). NiftyNet averages over axes [1, 2, 3],
 * which is the spatial mean in 3D only; here the mean is over the spatial axes in 2D too.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { BNLayer, ChannelSELayer, ConvolutionalLayer, type ConvolutionalOptions, FCLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** ResNet options (NiftyNet defaults: features [16, 64, 128, 256], 10 blocks per resolution). */
export interface ResNetOptions extends NetworkOptions {
  /** Channels of the first conv, then of each DownResBlock. */
  readonly nFeatures?: readonly number[];
  readonly nBlocksPerResolution?: number;
}

type ConvFactory = (channels: number, options: ConvolutionalOptions) => ConvolutionalLayer;

/** One bottleneck block; with `squeezeExcitation` a channel SE layer rescales the residual branch (SE-ResNet). */
export class BottleneckBlock extends Layer {
  constructor(
    readonly nOutputChannels: number,
    readonly stride: number,
    readonly makeConv: ConvFactory,
    readonly squeezeExcitation = false,
    name = "bottleneck",
  ) {
    super(name);
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const width = this.nOutputChannels / 4;
    const conv = this.makeConv;
    const se = (t: tf.Tensor) => this.squeezeExcitation ? new ChannelSELayer().apply(scope, t) : t;
    if (x.shape[x.rank - 1] === this.nOutputChannels) {
      let out = conv(width, { kernelSize: 1, stride: this.stride }).apply(scope, x);
      out = conv(width, { kernelSize: 3 }).apply(scope, out);
      out = conv(this.nOutputChannels, { kernelSize: 1 }).apply(scope, out);
      return tf.add(se(out), x);
    }
    const normalised = tf.relu(new BNLayer({ name: "batch_norm" }).apply(scope, x));
    const plain = { actiFunc: undefined, withBn: false } as const;
    let out = conv(width, { kernelSize: 1, stride: this.stride, ...plain }).apply(scope, normalised);
    out = conv(width, { kernelSize: 3 }).apply(scope, out);
    out = conv(this.nOutputChannels, { kernelSize: 1 }).apply(scope, out);
    const shortcut = conv(this.nOutputChannels, { kernelSize: 1, stride: this.stride, ...plain });
    return tf.add(shortcut.apply(scope, normalised), se(out));
  }
}

/** `count` bottleneck blocks, the first with `stride`. */
export class DownResBlock extends Layer {
  readonly #blocks: BottleneckBlock[];

  constructor(nOutputChannels: number, count: number, stride: number, makeConv: ConvFactory, se = false) {
    super("downres");
    this.#blocks = [...Array(count).keys()].map((i) =>
      new BottleneckBlock(nOutputChannels, i === 0 ? stride : 1, makeConv, se)
    );
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.#blocks.reduce((t, block) => block.apply(scope, t), x);
  }
}

/** @internal Shared body of ResNet and SE-ResNet. */
export class ResNetBase extends Layer {
  readonly #conv1: ConvolutionalLayer;
  readonly #blocks: DownResBlock[];
  readonly #bn = new BNLayer({ name: "batch_norm" });
  readonly #fc: FCLayer;
  readonly displayName: string;

  constructor(
    options: ResNetOptions,
    defaults: { name: string; nFeatures: readonly number[]; nBlocks: number; se: boolean },
  ) {
    super(options.name ?? defaults.name);
    this.displayName = defaults.name;
    const nFeatures = options.nFeatures ?? defaults.nFeatures;
    const nBlocks = options.nBlocksPerResolution ?? defaults.nBlocks;
    const divisor = defaults.se ? 16 : 4;
    if (nFeatures.length < 2 || nFeatures.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new Error(`${defaults.name}: nFeatures must be ≥ 2 positive integers, got [${nFeatures}]`);
    }
    if (nFeatures.slice(1).some((n) => n % divisor !== 0)) {
      throw new Error(
        `${defaults.name}: block channels must be divisible by ${divisor} (${
          defaults.se ? "squeeze-excitation reduction ratio" : "bottleneck width"
        }), got [${nFeatures.slice(1)}]`,
      );
    }
    if (!Number.isInteger(nBlocks) || nBlocks < 1) {
      throw new Error(`${defaults.name}: nBlocksPerResolution must be a positive integer, got ${nBlocks}`);
    }
    const shared: ConvolutionalOptions = {
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      bInitializer: options.bInitializer,
      bRegularizer: options.bRegularizer,
      preactivation: true,
      actiFunc: options.actiFunc ?? "relu",
    };
    const makeConv: ConvFactory = (channels, o) => new ConvolutionalLayer(channels, { ...shared, ...o });
    this.#conv1 = makeConv(nFeatures[0], { actiFunc: undefined, withBn: false });
    this.#blocks = nFeatures.slice(1).map((n, i) =>
      new DownResBlock(n, nBlocks, i === 0 ? 1 : 2, makeConv, defaults.se)
    );
    this.#fc = new FCLayer(options.numClasses, {
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      bInitializer: options.bInitializer,
      bRegularizer: options.bRegularizer,
    });
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    if (images.rank !== 4 && images.rank !== 5) {
      throw new Error(
        `${this.displayName}: expected a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${images.shape}]`,
      );
    }
    let out = this.#conv1.apply(scope, images);
    for (const block of this.#blocks) out = block.apply(scope, out);
    const spatialAxes = [...Array(images.rank - 2).keys()].map((i) => i + 1);
    return this.#fc.apply(scope, tf.mean(tf.relu(this.#bn.apply(scope, out)), spatialAxes));
  }
}

/** NiftyNet's ResNet classifier: `[N, …spatial, C]` → logits `[N, numClasses]`. */
export class ResNet extends ResNetBase {
  constructor(options: ResNetOptions) {
    super(options, { name: "ResNet", nFeatures: [16, 64, 128, 256], nBlocks: 10, se: false });
  }
}
