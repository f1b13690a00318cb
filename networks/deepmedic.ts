/**
 * DeepMedic (Kamnitsas et al., "Efficient multi-scale 3D CNN with fully connected CRF for accurate brain lesion
 * segmentation", MedIA 2017), NiftyNet's `deepmedic`:
 *
 * ```
 * input ─► crop ──────────► [3×3×3 valid conv] × 8 ─────────────┐
 *   └────► downsample ÷d ─► [3×3×3 valid conv] × 8 ─► replicate ×d ─► concat ─► [1×1×1 conv] × 3 ─► output
 * ```
 *
 * Convolutions are NiftyNet `ConvolutionalLayer`s (conv, batch norm, PReLU by default) with 30, 30, 40, 40, 40,
 * 40, 50, 50 features (`convFeatures`); the 1×1×1 head has 150, 150 (`fcFeatures`), `numClasses` features (the last one also normalised and
 * activated, as in NiftyNet). The normal pathway is the input centre-cropped by 8·(d − 1) voxels per side; the
 * downsampled pathway keeps the centre voxel of every d-block; after the 8 valid convs both are
 * `size − 16·d` wide.
 *
 * Input constraints (checked before any tensor work): each spatial size `n` is odd, divisible by the odd
 * `dFactor` d, and larger than 16·d. Output spatial size `n − 16·d` (57³ with d = 3 gives 9³). 2D or 3D.
 *
 * Variables: `DeepMedic/normal_conv_bn_prelu[_i]/{conv_,bn_,prelu_acti_}/…`,
 * `DeepMedic/downsample_conv_bn_prelu[_i]/…`, `DeepMedic/conv_1x1x1_150_bn_prelu[_1]/…`,
 * `DeepMedic/conv_1x1x1_<numClasses>_bn_prelu/…`.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer, CropLayer, DownSampleLayer, UpSampleLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** DeepMedic options. */
export interface DeepMedicOptions extends NetworkOptions {
  /** Downsampling factor of the second pathway; odd (default 3, NiftyNet's fixed value). */
  readonly dFactor?: number;
  /** Features of the 8 convolutions of each pathway (NiftyNet: 30, 30, 40, 40, 40, 40, 50, 50). */
  readonly convFeatures?: readonly number[];
  /** Features of the 1×1×1 layers before the classifier (NiftyNet: 150, 150). */
  readonly fcFeatures?: readonly number[];
}

/** NiftyNet's two-pathway DeepMedic. */
export class DeepMedic extends Layer {
  readonly dFactor: number;
  readonly #normal: ConvolutionalLayer[];
  readonly #down: ConvolutionalLayer[];
  readonly #head: ConvolutionalLayer[];

  constructor(options: DeepMedicOptions) {
    super(options.name ?? "DeepMedic");
    this.dFactor = options.dFactor ?? 3;
    if (!Number.isInteger(this.dFactor) || this.dFactor < 1 || this.dFactor % 2 !== 1) {
      throw new Error(`DeepMedic: dFactor must be an odd positive integer (centred downsampling), got ${this.dFactor}`);
    }
    const shared = {
      wInitializer: options.wInitializer,
      wRegularizer: options.wRegularizer,
      actiFunc: options.actiFunc ?? "prelu",
    } as const;
    const convFeatures = options.convFeatures ?? [30, 30, 40, 40, 40, 40, 50, 50];
    if (convFeatures.length !== 8) {
      throw new Error(
        `DeepMedic: convFeatures must list 8 feature counts (the receptive field needs 8 convs), got ${convFeatures.length}`,
      );
    }
    const pathway = (name: string) =>
      convFeatures.map((n) => new ConvolutionalLayer(n, { ...shared, kernelSize: 3, padding: "valid", name }));
    this.#normal = pathway("normal_conv");
    this.#down = pathway("downsample_conv");
    this.#head = [...(options.fcFeatures ?? [150, 150]), options.numClasses].map((n) =>
      new ConvolutionalLayer(n, { ...shared, kernelSize: 1, name: `conv_1x1x1_${n}` })
    );
  }

  /** Throws unless `shape` ([N, …spatial, C]) is a valid DeepMedic input. */
  checkInput(shape: readonly number[]): void {
    const d = this.dFactor;
    if (shape.length !== 4 && shape.length !== 5) {
      throw new Error(`DeepMedic: expected a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${shape}]`);
    }
    const spatial = shape.slice(1, -1);
    const bad = spatial.find((n) => n % 2 !== 1 || n % d !== 0 || n <= 16 * d);
    if (bad !== undefined) {
      throw new Error(
        `DeepMedic: every spatial size must be odd, divisible by dFactor ${d} and larger than ${16 * d}; ` +
          `got ${bad} in [${shape}] (e.g. ${17 * d} or ${19 * d})`,
      );
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const d = this.dFactor;
    let normal = new CropLayer(((d - 1) * 16) / 2, { name: "cropping_input" }).apply(scope, images);
    const downsample = new DownSampleLayer("CONSTANT", {
      kernelSize: d,
      stride: d,
      padding: "valid",
      name: "downsample_input",
    });
    let down = downsample.apply(scope, images);
    for (let i = 0; i < this.#normal.length; i++) {
      normal = this.#normal[i].apply(scope, normal);
      down = this.#down[i].apply(scope, down);
    }
    down = new UpSampleLayer("REPLICATE", { kernelSize: d, stride: d }).apply(scope, down);
    let out = tf.concat([normal, down], -1);
    for (const conv of this.#head) out = conv.apply(scope, out);
    return out;
  }
}
