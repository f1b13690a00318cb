/**
 * NiftyNet's ToyNet: conv 3×3(×3) with 10 features, batch norm and ReLU, then a 1×1(×1) conv with batch norm to
 * `numClasses` channels. Any 2D or 3D input.
 *
 * Variables: `ToyNet/conv_input_bn_relu/conv_/w`, `…/bn_/{beta,gamma,moving_mean,moving_variance}`,
 * `ToyNet/conv_output_bn/conv_/w`, `…/bn_/…`.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** The smallest useful segmentation network, for tests and demos. */
export class ToyNet extends Layer {
  readonly hiddenFeatures = 10;
  readonly #convInput: ConvolutionalLayer;
  readonly #convOutput: ConvolutionalLayer;

  constructor(options: NetworkOptions) {
    super(options.name ?? "ToyNet");
    const shared = {
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      bInitializer: options.bInitializer,
      bRegularizer: options.bRegularizer,
    };
    this.#convInput = new ConvolutionalLayer(this.hiddenFeatures, {
      ...shared,
      kernelSize: 3,
      actiFunc: options.actiFunc ?? "relu",
      name: "conv_input",
    });
    this.#convOutput = new ConvolutionalLayer(options.numClasses, { ...shared, kernelSize: 1, name: "conv_output" });
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    return this.#convOutput.apply(scope, this.#convInput.apply(scope, images));
  }
}
