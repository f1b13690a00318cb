/**
 * ScaleNet (Fidon et al., "Scalable multimodal convolutional networks for brain tumour segmentation", MICCAI 2017),
 * NiftyNet's `scalenet`: a back end that treats the imaging modalities as an unordered set, then HighRes3DNet.
 *
 * ```
 * M modalities ─► conv_<m>_bn_<acti> (16 features each) ─► stack [N, …, 16, M] ─► scaleblock ─► HighRes3DNet ─► logits
 * ```
 *
 * `scaleblock` (ScaleBlock "AVERAGE", one layer): for each of the 16 features f, HighRes block `M_F_0_<f>`
 * (kernels 3 and 1, relu, M channels) mixes the modalities; then for each modality m, `F_M_0_<m>` (16 channels)
 * mixes the features; finally the mean over modalities gives `[N, …, 16]`, independent of the modality order and
 * count. The front end is NiftyNet's HighRes3DNet (`ScaleNet/HighRes3DNet/…`, prelu, default initializers).
 *
 * Input constraints: 3D `[N, D, H, W, M]` with M ≥ 2 modalities (one per channel) and, with the default front end,
 * every spatial size divisible by 8 (HighRes3DNet's contract).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";
import { HighRes3DNet, HighResBlock } from "./highres3dnet.ts";

/** Mixes features across modalities and modalities across features, then averages the modalities out. */
class ScaleBlock extends Layer {
  constructor() {
    super("scaleblock");
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const modalities = x.shape[x.rank - 1], features = x.shape[x.rank - 2];
    const block = (n: number, name: string) =>
      new HighResBlock(n, { kernels: [3, 1], actiFunc: "relu", withRes: true, name });
    // [N, …, F, M] → per feature f: [N, …, M]
    const perFeature = tf.unstack(x, x.rank - 2).map((t, f) => block(modalities, `M_F_0_${f}`).apply(scope, t));
    // back to [N, …, F, M] → per modality m: [N, …, F]
    const perModality = tf.unstack(tf.stack(perFeature, -2), x.rank - 1).map((t, m) =>
      block(features, `F_M_0_${m}`).apply(scope, t)
    );
    return tf.mean(tf.stack(perModality, -1), -1);
  }
}

/** ScaleNet options. */
export interface ScaleNetOptions extends NetworkOptions {
  /**
   * The network after the scale block, fed `[N, …, 16]` (default NiftyNet's `HighRes3DNet(numClasses)`; another
   * front end, e.g. a small one for tests, keeps its own scope name and input checks).
   */
  readonly frontEnd?: Layer;
  /** Features per modality (NiftyNet: 16); the scale block has one modality-mixing block per feature. */
  readonly nFeatures?: number;
}

/** NiftyNet's multimodal ScaleNet. */
export class ScaleNet extends Layer {
  readonly #options: NetworkOptions;
  readonly #scaleBlock = new ScaleBlock();
  readonly #frontEnd: Layer;
  readonly #defaultFrontEnd: boolean;
  readonly #features: number;

  constructor(options: ScaleNetOptions) {
    super(options.name ?? "ScaleNet");
    this.#options = options;
    this.#defaultFrontEnd = options.frontEnd === undefined;
    this.#features = options.nFeatures ?? 16;
    this.#frontEnd = options.frontEnd ?? new HighRes3DNet({ numClasses: options.numClasses });
  }

  /** Throws unless `shape` is a valid input: 3D, ≥ 2 modalities, spatial sizes divisible by 8. */
  checkInput(shape: readonly number[]): void {
    if (shape.length !== 5) {
      throw new Error(`ScaleNet: expected a 3D [N, D, H, W, modalities] batch, got [${shape}]`);
    }
    if (shape[4] < 2) {
      throw new Error(`ScaleNet: needs at least 2 modalities (input channels), got [${shape}]`);
    }
    if (this.#defaultFrontEnd && shape.slice(1, -1).some((n) => n % 8 !== 0)) {
      throw new Error(`ScaleNet: every spatial size must be divisible by 8 (HighRes3DNet front end), got [${shape}]`);
    }
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    this.checkInput(images.shape);
    const o = this.#options;
    const roots = tf.split(images, images.shape[4]!, -1).map((root, m) =>
      new ConvolutionalLayer(this.#features, {
        kernelSize: 3,
        actiFunc: o.actiFunc ?? "prelu",
        wInitializer: o.wInitializer,
        wRegularizer: o.wRegularizer,
        name: `conv_${m}`,
      }).apply(scope, root)
    );
    return this.#frontEnd.apply(scope, this.#scaleBlock.apply(scope, tf.stack(roots, -1)));
  }
}
