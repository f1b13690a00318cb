/**
 * No New-Net (Isensee et al., "No New-Net", MICCAI BrainLes workshop 2018), NiftyNet's `nonewnet`: a 3D U-Net
 * with "same" convolutions (output size = input size), instance normalisation, leaky ReLU, fewer features
 * [30, 60, 120, 240, 480] and linear upsampling instead of transposed convolutions.
 *
 * L1 (30, 30) ↓ L2 (60, 60) ↓ L3 (120, 120) ↓ L4 (240, 240) ↓ bottom (480, 240) ↑ → [L4, ·] → R4 (240, 120) ↑ →
 * [L3, ·] → R3 (120, 60) ↑ → [L2, ·] → R2 (60, 30) ↑ → [L1, ·] → R1_FC (30, 30, classes; kernels 3, 3, 1).
 * 3×3×3 convolutions are `<features>_in_<acti>` (conv, no bias → instance norm → activation); the final 1×1×1
 * is a bare convolution `<classes>`; ↓ is 2×2×2 max pooling `max_down_2x2`, ↑ a linear resize to twice the size
 * (`trilinear_resize`, TensorFlow 1 sampling).
 *
 * Input constraints: 3D only (NiftyNet's upsampling reads three spatial axes), every spatial size divisible by 16
 * (four poolings), as NiftyNet asserts.
 *
 * Variables: `NoNewNet/L1/30_in_leakyrelu/{conv_/w, in_/InstanceNorm/beta, in_/InstanceNorm/gamma}`, …,
 * `NoNewNet/R1_FC/<classes>/conv_/w`.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import {
  FunctionLayer,
  type InitializerName,
  type InitializerSpec,
  Layer,
  type Regularizer,
  type Scope,
} from "../src/dsl/mod.ts";
import {
  type ActivationName,
  ConvolutionalLayer,
  DownSampleLayer,
  ElementwiseLayer,
  linearResize,
} from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { checkDivisible, checkInputRank } from "./_checks.ts";

/** What a No New-Net block does after its convolutions. */
export type NoNewNetBlockOp = "DOWNSAMPLE" | "UPSAMPLE" | "NONE";

/** Options of {@link NoNewNetBlock}. */
export interface NoNewNetBlockOptions {
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly actiFunc?: ActivationName;
  readonly name?: string;
}

/**
 * No New-Net's `UNetBlock`: convolutions (instance norm + activation unless the kernel is 1), then max pooling,
 * 2× linear upsampling or nothing. Returns [output, output before that step].
 */
export class NoNewNetBlock extends Layer<[tf.Tensor], [tf.Tensor, tf.Tensor]> {
  readonly func: NoNewNetBlockOp;
  readonly #convs: ConvolutionalLayer[];
  readonly #after?: Layer;

  constructor(
    func: NoNewNetBlockOp,
    { features, kernels }: { features: readonly number[]; kernels: readonly number[] },
    options: NoNewNetBlockOptions = {},
  ) {
    super(options.name ?? "UNet_block");
    if (features.length !== kernels.length) {
      throw new Error(`${this.name}: ${features.length} feature counts but ${kernels.length} kernel sizes`);
    }
    this.func = func;
    this.#convs = features.map((n, i) => {
      const acti = kernels[i] > 1 ? options.actiFunc ?? "leakyrelu" : undefined;
      return new ConvolutionalLayer(n, {
        kernelSize: kernels[i],
        wInitializer: options.wInitializer,
        wRegularizer: options.wRegularizer,
        actiFunc: acti,
        featureNormalization: acti ? "instance" : null,
        name: `${n}`,
      });
    });
    if (func === "DOWNSAMPLE") this.#after = new DownSampleLayer("MAX", { kernelSize: 2, stride: 2, name: "down_2x2" });
    else if (func === "UPSAMPLE") {
      this.#after = new FunctionLayer("trilinear_resize", (_scope, x: tf.Tensor) => {
        return linearResize(x, x.shape.slice(1, -1).map((n) => 2 * n));
      }, { layerType: "LinearResizeLayer" });
    }
  }

  forward(scope: Scope, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const branch = this.#convs.reduce((t, conv) => conv.apply(scope, t), x);
    return [this.#after ? this.#after.apply(scope, branch) : branch, branch];
  }
}

/** Options of {@link NoNewNet}. */
export interface NoNewNetOptions extends NetworkOptions {
  /** Feature counts of the five levels (NiftyNet: [30, 60, 120, 240, 480]); smaller for tests. */
  readonly nFeatures?: readonly [number, number, number, number, number];
}

/** NiftyNet's No New-Net. */
export class NoNewNet extends Layer {
  readonly #blocks: NoNewNetBlock[];
  readonly #concat = [0, 1, 2, 3].map(() => new ElementwiseLayer("CONCAT"));

  constructor(options: NoNewNetOptions) {
    super(options.name ?? "NoNewNet");
    const f = options.nFeatures ?? [30, 60, 120, 240, 480];
    const o = { wInitializer: options.wInitializer, wRegularizer: options.wRegularizer, actiFunc: options.actiFunc };
    const block = (func: NoNewNetBlockOp, features: number[], kernels: number[], name: string) =>
      new NoNewNetBlock(func, { features, kernels }, { ...o, name });
    this.#blocks = [
      block("DOWNSAMPLE", [f[0], f[0]], [3, 3], "L1"),
      block("DOWNSAMPLE", [f[1], f[1]], [3, 3], "L2"),
      block("DOWNSAMPLE", [f[2], f[2]], [3, 3], "L3"),
      block("DOWNSAMPLE", [f[3], f[3]], [3, 3], "L4"),
      block("UPSAMPLE", [f[4], f[3]], [3, 3], "bottom"),
      block("UPSAMPLE", [f[3], f[2]], [3, 3], "R4"),
      block("UPSAMPLE", [f[2], f[1]], [3, 3], "R3"),
      block("UPSAMPLE", [f[1], f[0]], [3, 3], "R2"),
      block("NONE", [f[0], f[0], options.numClasses], [3, 3, 1], "R1_FC"),
    ];
  }

  /** Throws unless `shape` is a valid input (see the module documentation). */
  checkInput(shape: readonly number[]): void {
    checkInputRank(this.name, shape, [3]);
    checkDivisible(this.name, shape, 16, "four 2× poolings");
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const [l1, l2, l3, l4, bottom, r4, r3, r2, r1] = this.#blocks;
    const [pool1, conv1] = l1.apply(scope, images);
    const [pool2, conv2] = l2.apply(scope, pool1);
    const [pool3, conv3] = l3.apply(scope, pool2);
    const [pool4, conv4] = l4.apply(scope, pool3);
    let [flow] = bottom.apply(scope, pool4);
    [flow] = r4.apply(scope, this.#concat[0].apply(scope, conv4, flow));
    [flow] = r3.apply(scope, this.#concat[1].apply(scope, conv3, flow));
    [flow] = r2.apply(scope, this.#concat[2].apply(scope, conv2, flow));
    [flow] = r1.apply(scope, this.#concat[3].apply(scope, conv1, flow));
    return flow;
  }
}
