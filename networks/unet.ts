/**
 * 3D U-Net (Çiçek et al., "3D U-Net: learning dense volumetric segmentation from sparse annotation", MICCAI
 * 2016), NiftyNet's `unet` (`UNet3D`):
 *
 * L1 (32, 64) ↓ L2 (64, 128) ↓ L3 (128, 256) ↓ L4 (256, 512) ↑ → [L3, ·] → R3 (256, 256) ↑ → [L2, ·] →
 * R2 (128, 128) ↑ → [L1, ·] → R1_FC (64, 64, classes; kernels 3, 3, 1) → crop 44.
 * Every convolution is conv → batch norm → activation (prelu by default) with "same" padding, including the
 * final 1×1×1 one (NiftyNet's choice); ↓ is 2×2×2 max pooling `max_down_2x2`, ↑ is a 2×2×2 stride-2 transposed
 * conv with batch norm and no activation, `up_2x2_bn`. The skip connections are concatenated as
 * [encoder, decoder].
 *
 * Note: NiftyNet 0.6's UNet3D pads its convolutions ("same") and crops a fixed 44-voxel border from the output
 * (`crop-88`) instead of using valid convolutions; we follow the code, so converted checkpoints and outputs match.
 *
 * Input constraints (NiftyNet's assertions): 2D or 3D, every spatial size divisible by 8 (three poolings) and larger
 * than twice the crop border (≥ 89 with the default border 44). The output is the input size minus 2·border.
 *
 * Variables: `UNet/L1/32_bn_prelu/{conv_/w, bn_/…, prelu_acti_/alpha}`, `UNet/L4/up_2x2_bn/{deconv_/w, bn_/…}`,
 * `UNet/R1_FC/<classes>_bn_prelu/…`.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import {
  type ActivationName,
  ConvolutionalLayer,
  CropLayer,
  DeconvolutionalLayer,
  DownSampleLayer,
  ElementwiseLayer,
} from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { checkDivisible, checkInputRank } from "./_checks.ts";

/** What a U-Net block does after its convolutions. */
export type UNetBlockOp = "DOWNSAMPLE" | "UPSAMPLE" | "NONE";

/** Options of {@link UNetBlock}. */
export interface UNetBlockOptions {
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly actiFunc?: ActivationName;
  readonly name?: string;
}

/**
 * NiftyNet's `UNetBlock`: convolutions `<features>_bn_<acti>` (kernel i, features i), then max pooling, a
 * transposed convolution to the last feature count, or nothing. Returns [output, output before that step].
 */
export class UNetBlock extends Layer<[tf.Tensor], [tf.Tensor, tf.Tensor]> {
  readonly func: UNetBlockOp;
  readonly #convs: ConvolutionalLayer[];
  readonly #after?: Layer;

  constructor(
    func: UNetBlockOp,
    { features, kernels }: { features: readonly number[]; kernels: readonly number[] },
    options: UNetBlockOptions = {},
  ) {
    super(options.name ?? "UNet_block");
    if (features.length !== kernels.length) {
      throw new Error(`${this.name}: ${features.length} feature counts but ${kernels.length} kernel sizes`);
    }
    this.func = func;
    this.#convs = features.map((n, i) =>
      new ConvolutionalLayer(n, {
        kernelSize: kernels[i],
        wInitializer: options.wInitializer,
        wRegularizer: options.wRegularizer,
        actiFunc: options.actiFunc ?? "relu",
        name: `${n}`,
      })
    );
    if (func === "DOWNSAMPLE") this.#after = new DownSampleLayer("MAX", { kernelSize: 2, stride: 2, name: "down_2x2" });
    else if (func === "UPSAMPLE") {
      // NiftyNet builds this deconvolution with its own default initializer (w_initializer is not passed).
      this.#after = new DeconvolutionalLayer(features[features.length - 1], {
        kernelSize: 2,
        stride: 2,
        name: "up_2x2",
      });
    }
  }

  forward(scope: Scope, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    const branch = this.#convs.reduce((t, conv) => conv.apply(scope, t), x);
    return [this.#after ? this.#after.apply(scope, branch) : branch, branch];
  }
}

/** Options of {@link UNet3D}. */
export interface UNet3DOptions extends NetworkOptions {
  /** Feature counts of the five levels (NiftyNet: [32, 64, 128, 256, 512]); smaller for tests. */
  readonly nFeatures?: readonly [number, number, number, number, number];
  /** Voxels cropped from each side of the output (NiftyNet: 44). */
  readonly border?: number;
}

/** NiftyNet's 3D U-Net. */
export class UNet3D extends Layer {
  readonly border: number;
  readonly #blocks: UNetBlock[];
  readonly #concat = [0, 1, 2].map(() => new ElementwiseLayer("CONCAT"));
  readonly #crop: CropLayer;

  constructor(options: UNet3DOptions) {
    super(options.name ?? "UNet");
    const f = options.nFeatures ?? [32, 64, 128, 256, 512];
    this.border = options.border ?? 44;
    const o = {
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      actiFunc: options.actiFunc ?? "prelu",
    };
    const block = (func: UNetBlockOp, features: number[], kernels: number[], name: string) =>
      new UNetBlock(func, { features, kernels }, { ...o, name });
    this.#blocks = [
      block("DOWNSAMPLE", [f[0], f[1]], [3, 3], "L1"),
      block("DOWNSAMPLE", [f[1], f[2]], [3, 3], "L2"),
      block("DOWNSAMPLE", [f[2], f[3]], [3, 3], "L3"),
      block("UPSAMPLE", [f[3], f[4]], [3, 3], "L4"),
      block("UPSAMPLE", [f[3], f[3]], [3, 3], "R3"),
      block("UPSAMPLE", [f[2], f[2]], [3, 3], "R2"),
      block("NONE", [f[1], f[1], options.numClasses], [3, 3, 1], "R1_FC"),
    ];
    this.#crop = new CropLayer(this.border, { name: `crop-${2 * this.border}` });
  }

  /** Throws unless `shape` is a valid input (see the module documentation). */
  checkInput(shape: readonly number[]): void {
    checkInputRank(this.name, shape, [2, 3]);
    checkDivisible(this.name, shape, 8, "three 2× poolings");
    const spatial = shape.slice(1, -1);
    if (spatial.some((n) => n <= 2 * this.border)) {
      throw new Error(
        `${this.name}: every spatial size must exceed twice the crop border (${2 * this.border}), got [${spatial}]`,
      );
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const [l1, l2, l3, l4, r3, r2, r1] = this.#blocks;
    const [pool1, conv1] = l1.apply(scope, images);
    const [pool2, conv2] = l2.apply(scope, pool1);
    const [pool3, conv3] = l3.apply(scope, pool2);
    const [up3] = l4.apply(scope, pool3);
    const [up2] = r3.apply(scope, this.#concat[0].apply(scope, conv3, up3));
    const [up1] = r2.apply(scope, this.#concat[1].apply(scope, conv2, up2));
    const [, out] = r1.apply(scope, this.#concat[2].apply(scope, conv1, up1));
    return this.#crop.apply(scope, out);
  }
}
