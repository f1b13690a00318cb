/**
 * HighRes3DNet (Li et al., "On the compactness, efficiency, and representation of 3D convolutional networks:
 * brain parcellation as a pretext task", IPMI 2017), NiftyNet's `highres3dnet`, `highres3dnet_small` and
 * `highres3dnet_large`:
 *
 * conv_0 (3³, 16, bn, acti) → 3 × res_1 (16 features, dilation 1) → 3 × res_2 (32, dilation 2) → 3 × res_3 (64,
 * dilation 4) → conv_1 (1³, 80, bn, acti) → conv_2 (1³, classes, bn). Each residual block `res_<i>_<j>` is
 * (bn_0 → acti_0 → conv_0 → bn_1 → acti_1 → conv_1) + input (channels zero-padded by `residual_sum`).
 * - small: conv_0 has stride 2, conv_1 is 3³, then a 3³ stride-2 transposed conv block `deconv_bn_<acti>` (80).
 * - large: conv_1 is 3³ with 64 features, then conv_2 (1³, 64, bn, acti) and conv_3 (1³, classes, bn).
 * Default activation: prelu (base), relu (small, large), as NiftyNet.
 *
 * Input constraint: 3D only, every spatial size divisible by 8. That is NiftyNet's own assertion; its dilated
 * context (space-to-batch by 4) needs divisibility by 4 for the base and large variants and by 8 for the small one
 * (after its stride-2 convolution). The dilated convolutions here would take any size; the check keeps NiftyNet's
 * contract.
 *
 * Variables (NiftyNet's names): `HighRes3DNet/conv_0_bn_prelu/{conv_/w, bn_/…, prelu_acti_/alpha}`,
 * `HighRes3DNet/res_1_0/{bn_0/…, prelu_acti_0/alpha, conv_0/w, bn_1/…, prelu_acti_1/alpha, conv_1/w}`, …,
 * `HighRes3DNet/conv_2_bn/{conv_/w, bn_/…}`.
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import {
  ActiLayer,
  type ActivationName,
  BNLayer,
  ConvLayer,
  ConvolutionalLayer,
  DeconvolutionalLayer,
  DilatedTensor,
  ElementwiseLayer,
} from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { checkDivisible, checkInputRank } from "./_checks.ts";

/** Options of {@link HighResBlock}. */
export interface HighResBlockOptions {
  /** Kernel size of each convolution (default [3, 3]: two convolutions). */
  readonly kernels?: readonly number[];
  readonly actiFunc?: ActivationName;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  /** Add the input to the output (default true). */
  readonly withRes?: boolean;
  /** Dilation of the convolutions (the dilated context the block runs in). */
  readonly dilation?: number;
  readonly name?: string;
}

/** NiftyNet's `HighResBlock`: pre-activation convolutions with a residual connection. */
export class HighResBlock extends Layer {
  readonly withRes: boolean;
  readonly #steps: { bn: BNLayer; acti: ActiLayer; conv: ConvLayer }[];
  readonly #sum = new ElementwiseLayer("SUM");

  constructor(nOutputChannels: number, options: HighResBlockOptions = {}) {
    super(options.name ?? "HighResBlock");
    const { kernels = [3, 3], actiFunc = "relu", wInitializer, wRegularizer, dilation = 1 } = options;
    this.withRes = options.withRes ?? true;
    this.#steps = kernels.map((k, i) => ({
      bn: new BNLayer({ name: `bn_${i}`, regularizer: wRegularizer }),
      acti: new ActiLayer(actiFunc, { name: `acti_${i}`, regularizer: wRegularizer }),
      conv: new ConvLayer(nOutputChannels, {
        name: `conv_${i}`,
        kernelSize: k,
        dilation,
        wInitializer,
        wRegularizer,
      }),
    }));
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    let t = x;
    for (const { bn, acti, conv } of this.#steps) t = conv.apply(scope, bn.applyActivated(scope, t, acti));
    if (!this.withRes) return t;
    const sum = this.#sum.apply(scope, t, x);
    // The last convolution's output is needed by nothing else, its gradient by nothing saved (the residual sum keeps
    // no inputs): free it now rather than when the whole forward pass ends.
    if (t !== x && t !== sum) t.dispose();
    return sum;
  }
}

/** The three NiftyNet variants. */
export type HighRes3DNetVariant = "base" | "small" | "large";

/** Options of {@link HighRes3DNet}. */
export interface HighRes3DNetOptions extends NetworkOptions {
  readonly variant?: HighRes3DNetVariant;
  /**
   * Widths [conv_0 and res_1, res_2, res_3, conv_1 (and deconv / conv_2 of the large variant)]; NiftyNet's are
   * [16, 32, 64, 80] ([16, 32, 64, 64] for large). Smaller widths are for tests and experiments.
   */
  readonly nFeatures?: readonly [number, number, number, number];
}

const DEFAULT_NAME: Record<HighRes3DNetVariant, string> = {
  base: "HighRes3DNet",
  small: "HighRes3DNetSmall",
  large: "HighRes3DNet",
};

/** HighRes3DNet and its small / large variants. */
export class HighRes3DNet extends Layer {
  readonly variant: HighRes3DNetVariant;
  readonly #head: ConvolutionalLayer;
  readonly #stages: { dilation: number; blocks: HighResBlock[] }[];
  readonly #tail: Layer[];

  constructor(options: HighRes3DNetOptions) {
    const variant = options.variant ?? "base";
    if (!(variant in DEFAULT_NAME)) throw new Error(`HighRes3DNet: unknown variant "${variant}"`);
    super(options.name ?? DEFAULT_NAME[variant]);
    this.variant = variant;
    const acti = options.actiFunc ?? (variant === "base" ? "prelu" : "relu");
    const w = { wInitializer: options.wInitializer, wRegularizer: options.wRegularizer };
    const f = options.nFeatures ?? [16, 32, 64, variant === "large" ? 64 : 80];
    this.#head = new ConvolutionalLayer(f[0], {
      ...w,
      kernelSize: 3,
      stride: variant === "small" ? 2 : 1,
      actiFunc: acti,
      name: "conv_0",
    });
    this.#stages = [[1, f[0], 1], [2, f[1], 2], [3, f[2], 4]].map(([stage, features, dilation]) => ({
      dilation,
      blocks: [0, 1, 2].map((j) =>
        new HighResBlock(features, { ...w, kernels: [3, 3], actiFunc: acti, dilation, name: `res_${stage}_${j}` })
      ),
    }));
    const conv = (n: number, k: number, name: string, withActi = true) =>
      new ConvolutionalLayer(n, { ...w, kernelSize: k, actiFunc: withActi ? acti : undefined, name });
    if (variant === "base") {
      this.#tail = [conv(f[3], 1, "conv_1"), conv(options.numClasses, 1, "conv_2", false)];
    } else if (variant === "small") {
      this.#tail = [
        conv(f[3], 3, "conv_1"),
        new DeconvolutionalLayer(f[3], { ...w, kernelSize: 3, stride: 2, actiFunc: acti, name: "deconv" }),
        conv(options.numClasses, 1, "conv_2", false),
      ];
    } else {
      this.#tail = [conv(f[3], 3, "conv_1"), conv(f[3], 1, "conv_2"), conv(options.numClasses, 1, "conv_3", false)];
    }
  }

  /** Throws unless `shape` is a valid input: 3D, every spatial size divisible by 8. */
  checkInput(shape: readonly number[]): void {
    checkInputRank(this.name, shape, [3]);
    checkDivisible(this.name, shape, 8, "NiftyNet's HighRes3DNet contract");
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    let flow = this.#head.apply(scope, images);
    for (const { dilation, blocks } of this.#stages) {
      const dilated = new DilatedTensor(flow, dilation, { where: `${scope.path} (dilation ${dilation})` });
      for (const block of blocks) dilated.tensor = block.apply(scope, dilated.tensor);
      flow = dilated.tensor;
    }
    return this.#tail.reduce((t, layer) => layer.apply(scope, t), flow);
  }
}
