/**
 * V-Net (Milletari et al., "V-Net: fully convolutional neural networks for volumetric medical image
 * segmentation", 3DV 2016), NiftyNet's `vnet`:
 *
 * L1 (1 conv) ↓ L2 (2) ↓ L3 (3) ↓ L4 (3) ↓ V_ (3) ↑ → [·, L4] → R4 (3) ↑ → [·, L3] → R3 (3) ↑ → [·, L2] → R2 (2) ↑ →
 * [·, L1] → R1 (1) → 1×1×1 conv to the classes → activation.
 * A block runs n 5×5×5 convolutions (`conv_<i>`, no bias, activation between them), adds its bypass input
 * (`residual_sum`, zero-padding channels), then either a 2×2×2 stride-2 conv with bias (`downsample`), a 2×2×2
 * stride-2 transposed conv with bias (`upsample`) or a 1×1×1 conv with bias (`conv_1x1x1`), and an activation
 * (relu by default; NiftyNet applies it to the class scores too). Features [16, 32, 64, 128, 256]; the input is
 * tiled 16 times along channels as L1's bypass.
 *
 * Input constraints: 2D or 3D, every spatial size divisible by 16. NiftyNet's docstring and assertion say 8, but
 * there are four stride-2 downsamplings and the skip concatenations need the upsampled maps to match, so sizes that
 * are multiples of 8 but not of 16 fail inside NiftyNet too.
 *
 * Variables: `VNet/L1/conv_0/w`, `VNet/L1/downsample/{w, b}`, `VNet/V_/upsample/{w, b}`, `VNet/R1/conv_1x1x1/{w, b}`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { ActiLayer, type ActivationName, ConvLayer, DeconvLayer, ElementwiseLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { checkDivisible, checkInputRank } from "./_checks.ts";

/** The final operation of a V-Net block. */
export type VNetBlockOp = "DOWNSAMPLE" | "UPSAMPLE" | "SAME";

/** Options of {@link VNetBlock}. */
export interface VNetBlockOptions {
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
  readonly actiFunc?: ActivationName;
  readonly name?: string;
}

/** NiftyNet's `VNetBlock`; applied to (main flow, bypass flow), returns [residual flow, output]. */
export class VNetBlock extends Layer<[tf.Tensor, tf.Tensor], [tf.Tensor, tf.Tensor]> {
  readonly func: VNetBlockOp;
  readonly #convs: ConvLayer[];
  readonly #actis: ActiLayer[];
  readonly #sum = new ElementwiseLayer("SUM");
  readonly #final: Layer;
  readonly #finalActi: ActiLayer;

  constructor(
    func: VNetBlockOp,
    { nConv, nFeatureChannels, nOutputChannels }: { nConv: number; nFeatureChannels: number; nOutputChannels: number },
    options: VNetBlockOptions = {},
  ) {
    super(options.name ?? "vnet_block");
    this.func = func;
    const acti = options.actiFunc ?? "relu";
    const w = { wInitializer: options.wInitializer, wRegularizer: options.wRegularizer };
    this.#convs = Array.from(
      { length: nConv },
      (_, i) => new ConvLayer(nFeatureChannels, { ...w, kernelSize: 5, name: `conv_${i}` }),
    );
    this.#actis = Array.from({ length: nConv - 1 }, () => new ActiLayer(acti, { regularizer: options.wRegularizer }));
    const two = { ...w, kernelSize: 2, stride: 2, withBias: true };
    this.#final = func === "DOWNSAMPLE"
      ? new ConvLayer(nOutputChannels, { ...two, name: "downsample" })
      : func === "UPSAMPLE"
      ? new DeconvLayer(nOutputChannels, { ...two, name: "upsample" })
      : new ConvLayer(nOutputChannels, {
        ...w,
        bInitializer: options.bInitializer,
        bRegularizer: options.bRegularizer,
        kernelSize: 1,
        withBias: true,
        name: "conv_1x1x1",
      });
    this.#finalActi = new ActiLayer(acti);
  }

  forward(scope: Scope, main: tf.Tensor, bypass: tf.Tensor): [tf.Tensor, tf.Tensor] {
    let flow = main;
    this.#convs.forEach((conv, i) => {
      flow = conv.apply(scope, flow);
      if (i < this.#actis.length) flow = this.#actis[i].apply(scope, flow);
    });
    const res = this.#sum.apply(scope, flow, bypass);
    return [res, this.#finalActi.apply(scope, this.#final.apply(scope, res))];
  }
}

/** Options of {@link VNet}. */
export interface VNetOptions extends NetworkOptions {
  /** Feature counts of the five levels (NiftyNet: [16, 32, 64, 128, 256]); smaller for tests. */
  readonly nFeatures?: readonly [number, number, number, number, number];
}

/** NiftyNet's V-Net. */
export class VNet extends Layer {
  readonly #tiles: number;
  readonly #blocks: VNetBlock[];
  readonly #concat = [0, 1, 2, 3].map(() => new ElementwiseLayer("CONCAT"));

  constructor(options: VNetOptions) {
    super(options.name ?? "VNet");
    const f = options.nFeatures ?? [16, 32, 64, 128, 256];
    this.#tiles = f[0];
    const acti = options.actiFunc ?? "relu";
    const w = { wInitializer: options.wInitializer, wRegularizer: options.wRegularizer, actiFunc: acti };
    const block = (
      func: VNetBlockOp,
      nConv: number,
      nFeatureChannels: number,
      nOutputChannels: number,
      name: string,
      o = w,
    ) => new VNetBlock(func, { nConv, nFeatureChannels, nOutputChannels }, { ...o, name });
    this.#blocks = [
      block("DOWNSAMPLE", 1, f[0], f[1], "L1"),
      block("DOWNSAMPLE", 2, f[1], f[2], "L2"),
      block("DOWNSAMPLE", 3, f[2], f[3], "L3"),
      // NiftyNet builds L4 without the network's initializer and regularizer; kept for identical behaviour.
      block("DOWNSAMPLE", 3, f[3], f[4], "L4", { actiFunc: acti } as typeof w),
      block("UPSAMPLE", 3, f[4], f[4], "V_"),
      block("UPSAMPLE", 3, f[4], f[3], "R4"),
      block("UPSAMPLE", 3, f[3], f[2], "R3"),
      block("UPSAMPLE", 2, f[2], f[1], "R2"),
      new VNetBlock("SAME", { nConv: 1, nFeatureChannels: f[1], nOutputChannels: options.numClasses }, {
        ...w,
        bInitializer: options.bInitializer,
        bRegularizer: options.bRegularizer,
        name: "R1",
      }),
    ];
  }

  /** Throws unless `shape` is a valid input (see the module documentation). */
  checkInput(shape: readonly number[]): void {
    checkInputRank(this.name, shape, [2, 3]);
    checkDivisible(this.name, shape, 16, "four stride-2 downsamplings whose upsampled maps are concatenated");
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const [l1, l2, l3, l4, v, r4, r3, r2, r1] = this.#blocks;
    const padded = tf.tile(images, [...Array(images.rank - 1).fill(1), this.#tiles]);
    const [res1, down1] = l1.apply(scope, images, padded);
    const [res2, down2] = l2.apply(scope, down1, down1);
    const [res3, down3] = l3.apply(scope, down2, down2);
    const [res4, down4] = l4.apply(scope, down3, down3);
    const [, up4] = v.apply(scope, down4, down4);
    const [, up3] = r4.apply(scope, this.#concat[0].apply(scope, up4, res4), up4);
    const [, up2] = r3.apply(scope, this.#concat[1].apply(scope, up3, res3), up3);
    const [, up1] = r2.apply(scope, this.#concat[2].apply(scope, up2, res2), up2);
    const [, out] = r1.apply(scope, this.#concat[3].apply(scope, up1, res1), up1);
    return out;
  }
}
