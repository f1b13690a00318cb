/**
 * HolisticNet (Fidon et al., "Generalised Wasserstein Dice Score for Imbalanced Multi-class Segmentation using
 * Holistic Convolutional Networks", BrainLes 2017), NiftyNet's `holisticnet`:
 *
 * ```
 * conv_1_1 ─► res_1_* (×3) ─► ScoreLayer ─────────────────────────────► score 1 ─┐
 *               └─► res_2_* (×3, dilation 2) ─► ScoreLayer_1 ─────────► score 2 ─┤
 *                     └─► avg pool ÷2 ─► res_3_* (×3) ─► ScoreLayer_2 ─► ×2 ─► score 3 ─┤─► softmax each ─► MergeLayer ─► fused
 *                                          └─► res_4_* (×3, dilation 2) ─► ScoreLayer_3 ─► ×2 ─► score 4 ┘
 * ```
 *
 * - 70 features everywhere; `conv_1_1` is conv → bn → acti; `res_<s>_<j>` are HighRes3DNet blocks (acti ELU by
 *   default). Dilated blocks use dilated convolutions where NiftyNet uses a space-to-batch view (same numbers).
 * - `ScoreLayer[_i]`: `conv_fc_0_bn_elu` (3³, 140) → `conv_bn` (1³, classes): logits.
 * - Scores 3 and 4 are upsampled per channel by `channelwise_deconv_upsample[_1]` (`deconv_<c>/w`, initialised
 *   to 1; kernel 2 and kernel 1, stride 2, as NiftyNet).
 * - `MergeLayer` (WEIGHTED_AVERAGE): per class c, a 1×1 `conv[_c]` (no bias) mixes the four scales' softmax
 *   probabilities of that class.
 *
 * Output: the fused map `[N, …spatial, numClasses]`. With `outputs: "all"`, training mode returns the five maps
 * NiftyNet returns in training (scores 1–4 as logits, then the fused map) stacked on a new last axis,
 * `[N, …spatial, numClasses, 5]`, for a multi-scale loss; inference always returns the fused map.
 *
 * NiftyNet passes its 4th ScoreLayer the feature list as `is_training` (so that layer's batch norm always uses
 * batch statistics); here every layer follows the training flag.
 *
 * `wInitializer` / `wRegularizer` also reach the score layers' hidden convolutions (NiftyNet builds those without
 * them).
 *
 * Input constraints: 2D or 3D; every spatial size even (the half-resolution scores are upsampled ×2 and merged
 * with the full-resolution ones).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { type ActivationName, ConvLayer, ConvolutionalLayer, DownSampleLayer, UpSampleLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { HighResBlock } from "./highres3dnet.ts";

/** HolisticNet options. */
export interface HolisticNetOptions extends NetworkOptions {
  /** "fused" (default): the fused map; "all": in training, all five maps stacked on a new last axis. */
  readonly outputs?: "fused" | "all";
  /** Features of the trunk (NiftyNet: 70). */
  readonly nFeatures?: number;
  /** Features of each ScoreLayer's hidden convolution (NiftyNet: 140). */
  readonly nScoreFeatures?: number;
  /** Residual blocks per scale (NiftyNet: 3). */
  readonly nResBlocks?: number;
}

/** conv_fc_0 (3, bn, elu) → conv (1, bn): class logits. */
class ScoreLayer extends Layer {
  readonly #hidden: ConvolutionalLayer;
  readonly #last: ConvolutionalLayer;

  constructor(features: number, classes: number, o: NetworkOptions) {
    super("ScoreLayer");
    const w = { wInitializer: o.wInitializer, wRegularizer: o.wRegularizer };
    this.#hidden = new ConvolutionalLayer(features, { ...w, kernelSize: 3, actiFunc: "elu", name: "conv_fc_0" });
    this.#last = new ConvolutionalLayer(classes, { kernelSize: 1 });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.#last.apply(scope, this.#hidden.apply(scope, x));
  }
}

/** Weighted average of the scales, per class: a 1×1 convolution over the scale axis. */
class MergeLayer extends Layer<[tf.Tensor[]], tf.Tensor> {
  constructor() {
    super("MergeLayer");
  }

  forward(scope: Scope, roots: tf.Tensor[]): tf.Tensor {
    const stacked = tf.stack(roots, -1); // [N, …, classes, scales]
    const perClass = tf.unstack(stacked, stacked.rank - 2); // classes × [N, …, scales]
    return tf.concat(perClass.map((t) => new ConvLayer(1, { kernelSize: 1 }).apply(scope, t)), -1);
  }
}

/** NiftyNet's multi-scale HolisticNet. */
export class HolisticNet extends Layer {
  readonly outputs: "fused" | "all";
  readonly #conv: ConvolutionalLayer;
  readonly #scales: HighResBlock[][];
  readonly #scores: ScoreLayer[];
  readonly #pool = new DownSampleLayer("AVG", { kernelSize: 2, stride: 2 });
  readonly #up3: UpSampleLayer;
  readonly #up4: UpSampleLayer;
  readonly #merge = new MergeLayer();

  constructor(options: HolisticNetOptions) {
    super(options.name ?? "HolisticNet");
    this.outputs = options.outputs ?? "fused";
    if (this.outputs !== "fused" && this.outputs !== "all") {
      throw new Error(`HolisticNet: outputs must be "fused" or "all", got ${JSON.stringify(this.outputs)}`);
    }
    const { nFeatures = 70, nScoreFeatures = 140, nResBlocks = 3 } = options;
    const acti: ActivationName = options.actiFunc ?? "elu";
    const w = { wInitializer: options.wInitializer, wRegularizer: options.wRegularizer };
    this.#conv = new ConvolutionalLayer(nFeatures, { ...w, kernelSize: 3, actiFunc: acti, name: "conv_1_1" });
    this.#scales = [1, 2, 1, 2].map((dilation, s) =>
      [...Array(nResBlocks).keys()].map((j) =>
        new HighResBlock(nFeatures, { ...w, actiFunc: acti, dilation, name: `res_${s + 1}_${j}` })
      )
    );
    this.#scores = [0, 1, 2, 3].map(() => new ScoreLayer(nScoreFeatures, options.numClasses, options));
    const ones = { type: "constant", value: 1 } as const;
    this.#up3 = new UpSampleLayer("CHANNELWISE_DECONV", { kernelSize: 2, stride: 2, wInitializer: ones });
    this.#up4 = new UpSampleLayer("CHANNELWISE_DECONV", { kernelSize: 1, stride: 2, wInitializer: ones });
  }

  /** Throws unless `shape` is a valid input: 2D/3D with even spatial sizes. */
  checkInput(shape: readonly number[]): void {
    if (shape.length !== 4 && shape.length !== 5) {
      throw new Error(`HolisticNet: expected a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${shape}]`);
    }
    if (shape.slice(1, -1).some((n) => n % 2 !== 0)) {
      throw new Error(`HolisticNet: every spatial size must be even (scales 3 and 4 run at half size), got [${shape}]`);
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const run = (blocks: HighResBlock[], x: tf.Tensor) => blocks.reduce((t, b) => b.apply(scope, t), x);
    let flow = run(this.#scales[0], this.#conv.apply(scope, images));
    const score1 = this.#scores[0].apply(scope, flow);
    flow = run(this.#scales[1], flow);
    const score2 = this.#scores[1].apply(scope, flow);
    flow = run(this.#scales[2], this.#pool.apply(scope, flow));
    const score3 = this.#up3.apply(scope, this.#scores[2].apply(scope, flow));
    flow = run(this.#scales[3], flow);
    const score4 = this.#up4.apply(scope, this.#scores[3].apply(scope, flow));
    const scores = [score1, score2, score3, score4];
    const fused = this.#merge.apply(scope, scores.map((s) => tf.softmax(s)));
    return this.outputs === "all" && scope.training ? tf.stack([...scores, fused], -1) : fused;
  }
}
