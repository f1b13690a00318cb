/**
 * NiftyNet's `vae`: a denoising, convolutional variational autoencoder (Kingma & Welling 2014).
 *
 * ```
 * images ─► ConvEncoder ─► gaussian_sampler ─► sample ─► FCDecoder ─► ConvDecoder_means ─► data means
 *                               │                 └──────────────────► ConvDecoder_logvars ─► data log-variances
 *                               └─► posterior means, log-variances
 * ```
 *
 * - `ConvEncoder`: in training, Gaussian noise with standard deviation `denoisingVariance` is added to the input
 *   (NiftyNet passes the "variance" as the standard deviation; kept). Then per level i:
 *   `encoder_conv_<k>_<c>_bn_<acti>` (bias + bn) and the strided `encoder_downsampler_<p>_<p>_bn_<acti>`; flatten;
 *   `encoder_fc_<n>_bn_<acti>` layers.
 * - `gaussian_sampler`: `encoder_fc_means_<L>`, `encoder_fc_logvars_<L>` (log-variances clipped to ±50); sample =
 *   mean + exp(logvar / 2)·ε, ε the mean of `numberOfSamplesFromPosterior` standard normals (drawn directly as
 *   N(0, 1/√n), the same distribution). Sampling happens in inference too, as in NiftyNet.
 * - `FCDecoder` (`FCDecoder_fc_<n>_bn_<acti>`) feeds `ConvDecoder_means` only; `ConvDecoder_logvars` decodes the
 *   sample itself (NiftyNet's layout). Each ConvDecoder: `decoder_fc_<n>_bn_<acti>` layers back to the serialised
 *   encoder shape, reshape, then per level `decoder_upsampler_<p>_<p>_bn` (transposed conv, kernel = stride = p)
 *   and `decoder_trans_conv_<k>_<c>_bn[_<acti>]`. The means end with a sigmoid; the log-variances are clipped.
 *
 * Returns {@link VAEOutput}, the eight tensors NiftyNet's autoencoder application takes, in its order
 * `[posterior_means, posterior_logvars, data_means, data_logvars, images, data_variances, posterior_variances,
 * sample]`. Only the "DECONV" upsampling mode is implemented.
 *
 * Decoding codes alone (NiftyNet's `shared_decoder` + `decoder_means`, for generating images): `vae.decoder(imageShape)`
 * or `new VAEDecoder(imageShape, options)` is a layer named like the VAE holding the same decoders (built by the same
 * code), so applied at the root of the trained VAE's variable store it reads the trained decoder weights by path.
 *
 * Input constraints: 2D or 3D batch; every spatial size divisible by ∏ convPoolingFactors (8 by default).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { type ActivationName, ConvolutionalLayer, DeconvolutionalLayer, FullyConnectedLayer } from "../layers/mod.ts";
import type { NetworkOptions } from "./base.ts";

/** What the VAE returns (NiftyNet's list, by name). */
export interface VAEOutput {
  readonly posteriorMeans: tf.Tensor2D;
  readonly posteriorLogvars: tf.Tensor2D;
  readonly dataMeans: tf.Tensor;
  readonly dataLogvars: tf.Tensor;
  readonly images: tf.Tensor;
  readonly dataVariances: tf.Tensor;
  readonly posteriorVariances: tf.Tensor2D;
  readonly sample: tf.Tensor2D;
}

/** The outputs in NiftyNet's order. */
export function vaeOutputList(o: VAEOutput): tf.Tensor[] {
  return [
    o.posteriorMeans,
    o.posteriorLogvars,
    o.dataMeans,
    o.dataLogvars,
    o.images,
    o.dataVariances,
    o.posteriorVariances,
    o.sample,
  ];
}

/** VAE options; defaults are NiftyNet's. `numClasses` is ignored (the VAE reconstructs its input). */
export interface VAEOptions extends Partial<NetworkOptions> {
  readonly denoisingVariance?: number;
  readonly convOutputChannels?: readonly number[];
  readonly convKernelSizes?: readonly number[];
  readonly convPoolingFactors?: readonly number[];
  readonly actiFuncConv?: readonly ActivationName[];
  readonly layerSizesEncoder?: readonly number[];
  readonly actiFuncEncoder?: readonly ActivationName[];
  readonly numberOfLatentVariables?: number;
  readonly numberOfSamplesFromPosterior?: number;
  readonly layerSizesDecoderShared?: readonly number[];
  readonly actiFuncDecoderShared?: readonly ActivationName[];
  readonly logvarsBound?: number;
}

type Resolved = Required<
  Omit<VAEOptions, keyof NetworkOptions>
>;

function resolve(o: VAEOptions): Resolved {
  const r: Resolved = {
    denoisingVariance: o.denoisingVariance ?? 0.001,
    convOutputChannels: o.convOutputChannels ?? [32, 64, 96],
    convKernelSizes: o.convKernelSizes ?? [3, 3, 3],
    convPoolingFactors: o.convPoolingFactors ?? [2, 2, 2],
    actiFuncConv: o.actiFuncConv ?? ["selu", "selu", "selu"],
    layerSizesEncoder: o.layerSizesEncoder ?? [256, 128],
    actiFuncEncoder: o.actiFuncEncoder ?? ["selu", "selu"],
    numberOfLatentVariables: o.numberOfLatentVariables ?? 64,
    numberOfSamplesFromPosterior: o.numberOfSamplesFromPosterior ?? 100,
    layerSizesDecoderShared: o.layerSizesDecoderShared ?? [128],
    actiFuncDecoderShared: o.actiFuncDecoderShared ?? ["selu"],
    logvarsBound: o.logvarsBound ?? 50,
  };
  const n = r.convOutputChannels.length;
  if (n === 0 || r.convKernelSizes.length !== n || r.convPoolingFactors.length !== n || r.actiFuncConv.length !== n) {
    throw new Error(
      `VAE: convOutputChannels, convKernelSizes, convPoolingFactors and actiFuncConv must have one equal, non-zero ` +
        `length, got ${n}, ${r.convKernelSizes.length}, ${r.convPoolingFactors.length}, ${r.actiFuncConv.length}`,
    );
  }
  if (r.layerSizesEncoder.length !== r.actiFuncEncoder.length) {
    throw new Error(`VAE: layerSizesEncoder and actiFuncEncoder must have equal lengths`);
  }
  if (r.layerSizesDecoderShared.length !== r.actiFuncDecoderShared.length) {
    throw new Error(`VAE: layerSizesDecoderShared and actiFuncDecoderShared must have equal lengths`);
  }
  return r;
}

/** Fully connected blocks `<prefix>_<n>_bn_<acti>` (fc with bias → batch norm → activation). */
function fcStack(
  sizes: readonly number[],
  actis: readonly (ActivationName | undefined)[],
  prefix: string,
  o: VAEOptions,
) {
  return sizes.map((n, i) =>
    new FullyConnectedLayer(n, {
      name: `${prefix}_${n}`,
      actiFunc: actis[i],
      wInitializer: o.wInitializer,
      wRegularizer: o.wRegularizer,
    })
  );
}

/** {convolution, strided downsampling} per level, flatten, fully connected layers. */
class ConvEncoder extends Layer<[tf.Tensor], tf.Tensor> {
  readonly #convs: ConvolutionalLayer[];
  readonly #downs: ConvolutionalLayer[];
  readonly #fcs: FullyConnectedLayer[];

  constructor(readonly r: Resolved, o: VAEOptions) {
    super("ConvEncoder");
    this.#convs = r.convOutputChannels.map((c, i) =>
      new ConvolutionalLayer(c, {
        name: `encoder_conv_${r.convKernelSizes[i]}_${c}`,
        kernelSize: r.convKernelSizes[i],
        withBias: true,
        actiFunc: r.actiFuncConv[i],
        wInitializer: o.wInitializer,
      })
    );
    this.#downs = r.convOutputChannels.map((c, i) =>
      new ConvolutionalLayer(c, {
        name: `encoder_downsampler_${r.convPoolingFactors[i]}_${r.convPoolingFactors[i]}`,
        kernelSize: r.convPoolingFactors[i],
        stride: r.convPoolingFactors[i],
        actiFunc: r.actiFuncConv[i],
        wInitializer: o.wInitializer,
      })
    );
    this.#fcs = fcStack(r.layerSizesEncoder, r.actiFuncEncoder, "encoder_fc", o);
  }

  forward(scope: Scope, images: tf.Tensor): tf.Tensor {
    let flow = scope.training && this.r.denoisingVariance > 0
      ? tf.add(images, tf.randomNormal(images.shape, 0, this.r.denoisingVariance))
      : images;
    for (let i = 0; i < this.#convs.length; i++) flow = this.#downs[i].apply(scope, this.#convs[i].apply(scope, flow));
    flow = tf.reshape(flow, [flow.shape[0], -1]);
    return this.#fcs.reduce((t, fc) => fc.apply(scope, t), flow);
  }
}

/** Posterior means and clipped log-variances, and one reparameterised sample. */
class GaussianSampler extends Layer<[tf.Tensor], [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]> {
  readonly #means: FullyConnectedLayer;
  readonly #logvars: FullyConnectedLayer;

  constructor(readonly r: Resolved, o: VAEOptions) {
    super("gaussian_sampler");
    const latent = r.numberOfLatentVariables;
    const fc = (what: string) =>
      new FullyConnectedLayer(latent, {
        name: `encoder_fc_${what}_${latent}`,
        withBn: false,
        wInitializer: o.wInitializer,
        wRegularizer: o.wRegularizer,
      });
    this.#means = fc("means");
    this.#logvars = fc("logvars");
  }

  forward(scope: Scope, codes: tf.Tensor): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
    const bound = this.r.logvarsBound;
    const means = this.#means.apply(scope, codes) as tf.Tensor2D;
    const logvars = tf.clipByValue(this.#logvars.apply(scope, codes), -bound, bound) as tf.Tensor2D;
    const noise = tf.randomNormal(means.shape, 0, 1 / Math.sqrt(this.r.numberOfSamplesFromPosterior));
    return [tf.add(means, tf.mul(tf.exp(tf.mul(0.5, logvars)), noise)), means, logvars];
  }
}

/** Fully connected layers to the serialised encoder shape, then {upsampler, transposed conv} per level. */
class ConvDecoder extends Layer<[tf.Tensor], tf.Tensor> {
  readonly #fcs: FullyConnectedLayer[];
  readonly #ups: DeconvolutionalLayer[];
  readonly #convs: DeconvolutionalLayer[];

  constructor(
    name: string,
    readonly r: Resolved,
    readonly downsampledShape: readonly number[],
    inputChannels: number,
    lastActi: ActivationName | undefined,
    o: VAEOptions,
  ) {
    super(name);
    const serialised = downsampledShape.reduce((a, b) => a * b, 1);
    const sizes = [...[...r.layerSizesEncoder].reverse(), serialised];
    const actis = [...[...r.actiFuncEncoder].reverse(), "selu" as const];
    this.#fcs = fcStack(sizes, actis, "decoder_fc", o);
    const channels = [...r.convOutputChannels.slice(0, -1).reverse(), inputChannels];
    const kernels = [...r.convKernelSizes].reverse();
    const factors = [...r.convPoolingFactors].reverse();
    const actis2 = [...r.actiFuncConv.slice(0, -1).reverse(), lastActi];
    this.#ups = channels.map((c, i) =>
      new DeconvolutionalLayer(c, {
        name: `decoder_upsampler_${factors[i]}_${factors[i]}`,
        kernelSize: factors[i],
        stride: factors[i],
        withBias: true,
        wInitializer: o.wInitializer,
      })
    );
    this.#convs = channels.map((c, i) =>
      new DeconvolutionalLayer(c, {
        name: `decoder_trans_conv_${kernels[i]}_${c}`,
        kernelSize: kernels[i],
        withBias: true,
        actiFunc: actis2[i],
        wInitializer: o.wInitializer,
      })
    );
  }

  forward(scope: Scope, codes: tf.Tensor): tf.Tensor {
    let flow = this.#fcs.reduce((t, fc) => fc.apply(scope, t), codes);
    flow = tf.reshape(flow, [codes.shape[0], ...this.downsampledShape]);
    for (let i = 0; i < this.#ups.length; i++) flow = this.#convs[i].apply(scope, this.#ups[i].apply(scope, flow));
    return flow;
  }
}

/** The fully connected layers shared in front of the means decoder. */
class FCDecoder extends Layer {
  constructor(readonly fcs: readonly FullyConnectedLayer[]) {
    super("FCDecoder");
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.fcs.reduce((t, fc) => fc.apply(scope, t), x);
  }
}

/** The shared fully connected decoder in front of the means decoder, or none when its size list is empty. */
function sharedDecoder(r: Resolved, o: VAEOptions): FCDecoder | undefined {
  if (r.layerSizesDecoderShared.length === 0) return undefined;
  return new FCDecoder(fcStack(r.layerSizesDecoderShared, r.actiFuncDecoderShared, "FCDecoder_fc", o));
}

/** Throws unless `shape` is a valid batch shape: 2D/3D, spatial sizes divisible by the total pooling factor. */
function checkBatchShape(r: Resolved, shape: readonly number[]): void {
  if (shape.length !== 4 && shape.length !== 5) {
    throw new Error(`VAE: expected a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${shape}]`);
  }
  const pool = r.convPoolingFactors.reduce((a, b) => a * b, 1);
  const spatial = shape.slice(1, -1);
  if (spatial.some((n) => n % pool !== 0)) {
    throw new Error(`VAE: spatial sizes must be divisible by the total pooling factor ${pool}, got [${shape}]`);
  }
}

/** The means and log-variance decoders for batches of `shape` (their shapes depend on it, their names do not). */
function convDecoders(r: Resolved, o: VAEOptions, shape: readonly number[]): [ConvDecoder, ConvDecoder] {
  const pool = r.convPoolingFactors.reduce((a, b) => a * b, 1);
  const downsampled = [...shape.slice(1, -1).map((n) => n / pool), r.convOutputChannels.at(-1)!];
  const channels = shape[shape.length - 1];
  return [
    new ConvDecoder("ConvDecoder_means", r, downsampled, channels, "sigmoid", o),
    new ConvDecoder("ConvDecoder_logvars", r, downsampled, channels, undefined, o),
  ];
}

/** The decoding half of the VAE, applied in the VAE's own scope: sample → (data means, clipped log-variances). */
function decodeSample(
  scope: Scope,
  parts: { shared?: FCDecoder; means: ConvDecoder; logvars: ConvDecoder; bound: number },
  sample: tf.Tensor,
): VAEDecoded {
  const partial = parts.shared ? parts.shared.apply(scope, sample) : sample;
  const dataMeans = parts.means.apply(scope, partial);
  const dataLogvars = tf.clipByValue(parts.logvars.apply(scope, sample), -parts.bound, parts.bound);
  return { dataMeans, dataLogvars };
}

/** What {@link VAEDecoder} returns: the decoded images' means (NiftyNet's generated images) and log-variances. */
export interface VAEDecoded {
  readonly dataMeans: tf.Tensor;
  readonly dataLogvars: tf.Tensor;
}

/**
 * A network that can decode latent codes into images of a given shape (what the autoencoder application's
 * `sample` and `linear_interpolation` inference need). {@link VAE} is one.
 */
export interface CodeDecodingNetwork {
  /** A layer decoding `[N, latentSize]` codes to `[N, …imageShape]` images with the trained weights. */
  decoder(imageShape: readonly number[]): Layer<[tf.Tensor], VAEDecoded> & { readonly latentSize: number };
}

/** Whether `network` has a {@link CodeDecodingNetwork.decoder} method. */
export function isCodeDecodingNetwork(network: unknown): network is CodeDecodingNetwork {
  return typeof (network as Partial<CodeDecodingNetwork> | null)?.decoder === "function";
}

/**
 * The VAE's decoders alone: `[N, numberOfLatentVariables]` codes → {@link VAEDecoded} images of `imageShape`
 * (`[H, W, C]` or `[D, H, W, C]`, the shape the VAE was trained on). Its scope name and children are the VAE's, so
 * applied at the root of the VAE's variable store it reuses the trained `FCDecoder`, `ConvDecoder_means` and
 * `ConvDecoder_logvars` weights by path: decoding a forward pass's `sample` gives that pass's data means.
 */
export class VAEDecoder extends Layer<[tf.Tensor], VAEDecoded> {
  /** Length of the codes it decodes. */
  readonly latentSize: number;
  /** Shape of one decoded image (no batch axis). */
  readonly imageShape: readonly number[];
  readonly #bound: number;
  readonly #shared?: FCDecoder;
  readonly #means: ConvDecoder;
  readonly #logvars: ConvDecoder;

  constructor(imageShape: readonly number[], options: VAEOptions = {}) {
    super(options.name ?? "VAE");
    const r = resolve(options);
    checkBatchShape(r, [1, ...imageShape]);
    this.latentSize = r.numberOfLatentVariables;
    this.imageShape = [...imageShape];
    this.#bound = r.logvarsBound;
    this.#shared = sharedDecoder(r, options);
    [this.#means, this.#logvars] = convDecoders(r, options, [1, ...imageShape]);
  }

  forward(scope: Scope, codes: tf.Tensor): VAEDecoded {
    if (codes.rank !== 2 || codes.shape[1] !== this.latentSize) {
      throw new Error(`VAEDecoder: expected codes of shape [N, ${this.latentSize}], got [${codes.shape}]`);
    }
    return decodeSample(
      scope,
      { shared: this.#shared, means: this.#means, logvars: this.#logvars, bound: this.#bound },
      codes,
    );
  }
}

/** NiftyNet's convolutional VAE: `[N, …spatial, C]` → {@link VAEOutput}. */
export class VAE extends Layer<[tf.Tensor], VAEOutput> implements CodeDecodingNetwork {
  readonly #r: Resolved;
  readonly #options: VAEOptions;
  readonly #encoder: ConvEncoder;
  readonly #sampler: GaussianSampler;
  readonly #shared?: FCDecoder;

  constructor(options: VAEOptions = {}) {
    super(options.name ?? "VAE");
    this.#r = resolve(options);
    this.#options = options;
    this.#encoder = new ConvEncoder(this.#r, options);
    this.#sampler = new GaussianSampler(this.#r, options);
    this.#shared = sharedDecoder(this.#r, options);
  }

  /** Throws unless `shape` is a valid input: 2D/3D, spatial sizes divisible by the total pooling factor. */
  checkInput(shape: readonly number[]): void {
    checkBatchShape(this.#r, shape);
  }

  /** This VAE's decoders for images of `imageShape` (`[H, W, C]` or `[D, H, W, C]`), see {@link VAEDecoder}. */
  decoder(imageShape: readonly number[]): VAEDecoder {
    return new VAEDecoder(imageShape, this.#options);
  }

  forward(scope: Scope, images: tf.Tensor): VAEOutput {
    this.checkInput(images.shape);
    // Built per application because their shapes depend on the input; their names (so variables) do not.
    const [means, logvars] = convDecoders(this.#r, this.#options, images.shape);
    const [sample, posteriorMeans, posteriorLogvars] = this.#sampler.apply(scope, this.#encoder.apply(scope, images));
    const { dataMeans, dataLogvars } = decodeSample(
      scope,
      { shared: this.#shared, means, logvars, bound: this.#r.logvarsBound },
      sample,
    );
    return {
      posteriorMeans,
      posteriorLogvars,
      dataMeans,
      dataLogvars,
      images,
      dataVariances: tf.exp(dataLogvars),
      posteriorVariances: tf.exp(posteriorLogvars),
      sample,
    };
  }
}
