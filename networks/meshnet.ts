/**
 * MeshNet (Fedorov et al. 2017; brainchop's variants): a stack of 3×3×3 dilated convolutions at constant width,
 * each followed by an activation, then a 1×1×1 convolution to the classes. Fully convolutional, "same" padding:
 * any 3D input size.
 *
 * Options cover every brainchop model: `channels`, a per-layer `dilations` list (default 1, 2, 4, 8, 16, 8, 4, 2, 1),
 * `actiFunc` (relu, elu, exact gelu), `withBias` (default true) and `normalization: "instance"` — brainchop's hidden
 * `_gn` layers (mindgrab): bias-free convolutions followed by a per-channel instance normalisation without learnt
 * scale or shift, (x − mean)/√(var + 1e-5), before the activation.
 *
 * Variables: `MeshNet/conv_<i>_relu/conv_/{w,b}` for i = 0…8 and `MeshNet/conv_output/conv_/{w,b}` (the block
 * suffix follows the activation and normalisation: `conv_<i>_in_gelu`); with `withBn`, each block also has
 * `bn_/…` and is named `conv_<i>_bn_relu`. This is the order and layout of brainchop's Keras models, so
 * `import-weights --network meshnet` maps them one to one.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** MeshNet-specific options. */
export interface MeshNetOptions extends NetworkOptions {
  /** Channels of every hidden layer (brainchop: 5 for the small models, 21 for larger ones). */
  readonly channels?: number;
  /** One dilation per hidden layer; the list length is the number of hidden layers. */
  readonly dilations?: readonly number[];
  readonly withBn?: boolean;
  /** Bias in the hidden convolutions (default true; brainchop's `_gn` layers have none). */
  readonly withBias?: boolean;
  /** `"instance"`: plain instance normalisation (no variables) after each hidden convolution. */
  readonly normalization?: "instance" | null;
}

/** One stage of a MeshNet: a layer and how far (in voxels, per side) its output depends on its input. */
export interface MeshNetStage {
  readonly layer: Layer;
  /** Receptive radius of this stage alone (dilation for a 3³ kernel, 0 for the 1³ classifier). */
  readonly radius: number;
  /** False when the stage normalises over the whole volume (instance norm): it cannot run on slabs. */
  readonly local: boolean;
}

/** Brainchop's dilated segmentation network. */
export class MeshNet extends Layer {
  readonly #blocks: ConvolutionalLayer[];
  readonly #output: ConvolutionalLayer;
  readonly #dilations: readonly number[];
  readonly #normalized: boolean;

  constructor(options: MeshNetOptions) {
    super(options.name ?? "MeshNet");
    const { channels = 5, dilations = [1, 2, 4, 8, 16, 8, 4, 2, 1], withBn = false, normalization = null } = options;
    if (dilations.length === 0 || dilations.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`MeshNet: dilations must be a non-empty list of positive integers, got [${dilations}]`);
    }
    if (normalization !== null && normalization !== "instance") {
      throw new Error(`MeshNet: normalization must be "instance" or null, got ${JSON.stringify(normalization)}`);
    }
    if (normalization && withBn) throw new Error("MeshNet: normalization and withBn cannot be combined");
    this.#dilations = dilations;
    this.#normalized = normalization === "instance";
    const shared = {
      withBias: true,
      withBn,
      wInitializer: options.wInitializer ?? "glorot_uniform",
      wRegularizer: options.wRegularizer,
      bInitializer: options.bInitializer,
      bRegularizer: options.bRegularizer,
    };
    this.#blocks = dilations.map((d, i) =>
      new ConvolutionalLayer(channels, {
        ...shared,
        withBias: options.withBias ?? true,
        ...(normalization === "instance" ? { featureNormalization: "instance" as const, normAffine: false } : {}),
        kernelSize: 3,
        dilation: d,
        actiFunc: options.actiFunc ?? "relu",
        name: `conv_${i}`,
      })
    );
    this.#output = new ConvolutionalLayer(options.numClasses, {
      ...shared,
      withBn: false,
      kernelSize: 1,
      name: "conv_output",
    });
  }

  /**
   * The hidden blocks and the classifier in order, for stage-by-stage evaluation (e.g. on slabs of a volume too
   * large for one pass). Applying them in order inside this network's scope equals {@link forward}.
   */
  stages(): readonly MeshNetStage[] {
    return [
      ...this.#blocks.map((layer, i) => ({ layer, radius: this.#dilations[i], local: !this.#normalized })),
      { layer: this.#output, radius: 0, local: true },
    ];
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    if (images.rank !== 5) {
      throw new Error(`MeshNet: expected a 3D input [batch, x, y, z, channels], got [${images.shape}]`);
    }
    return this.#output.apply(scope, this.#blocks.reduce((x, block) => block.apply(scope, x), images));
  }
}
