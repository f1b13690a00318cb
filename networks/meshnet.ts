/**
 * MeshNet (Fedorov et al. 2017; brainchop's variant): a stack of 3×3×3 dilated convolutions with bias and ReLU,
 * dilations 1, 2, 4, 8, 16, 8, 4, 2, 1 at constant width, then a 1×1×1 convolution to the classes. Fully
 * convolutional, "same" padding: any 3D input size.
 *
 * Variables: `MeshNet/conv_<i>_relu/conv_/{w,b}` for i = 0…8 and `MeshNet/conv_output/conv_/{w,b}`; with
 * `withBn`, each block also has `bn_/…` and is named `conv_<i>_bn_relu`. This is the order and layout of
 * brainchop's Keras models, so `import-weights --network meshnet` maps them one to one.
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
  readonly dilations?: readonly number[];
  readonly withBn?: boolean;
}

/** Brainchop's dilated segmentation network. */
export class MeshNet extends Layer {
  readonly #blocks: ConvolutionalLayer[];
  readonly #output: ConvolutionalLayer;

  constructor(options: MeshNetOptions) {
    super(options.name ?? "MeshNet");
    const { channels = 5, dilations = [1, 2, 4, 8, 16, 8, 4, 2, 1], withBn = false } = options;
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

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    if (images.rank !== 5) {
      throw new Error(`MeshNet: expected a 3D input [batch, x, y, z, channels], got [${images.shape}]`);
    }
    return this.#output.apply(scope, this.#blocks.reduce((x, block) => block.apply(scope, x), images));
  }
}
