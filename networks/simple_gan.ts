/**
 * NiftyNet's `simple_gan`: a generator that grows an image from noise by repeated ×2 resize + convolution, and a
 * discriminator that shrinks it by ÷2 resize + convolution, applied as one layer (`simple_GAN`) with the
 * sub-scopes `generator` and `discriminator` (NiftyNet's `GenericGAN`).
 *
 * Call: `new SimpleGAN().apply(scope, noise, images)` with `noise` `[N, Z]` and `images` `[N, …spatial, C]`
 * (2D or 3D). Returns {@link SimpleGANOutput}: the generated image (tanh, `images`' shape), the discriminator's
 * logits `[N, 1]` for the real images (scaled by ½ as NiftyNet does) and for the generated ones, and
 * `diff = image − images/2`. The discriminator is one set of weights applied twice.
 *
 * Generator (`hidden` channels [128, 64, 32, 16]; sizes halve from the image size per level): `G_fcW1`
 * `[1, P, Z]` and `G_fcb1` `[1, P, 1]` map the noise to the coarsest `P`-voxel map; then per level i: bilinear
 * resize ×2 (TF1 sampling), conv with `G_Wt<i>` (stored `[k…, out, in]` and transposed, as NiftyNet) → batch norm
 * → relu, conv with `G_W<i>` → batch norm → relu (the last level: conv only); finally `× G_scale + G_shift`, tanh.
 * Discriminator (channels [16, 32, 64, 128]): per level conv `D_W<i>` → bn → relu, resize ÷2, conv `D_Ws<i>` → bn →
 * relu; flatten; `dense/{kernel, bias}` to one logit.
 *
 * Batch norm is TensorFlow's contrib `batch_norm` as NiftyNet calls it: `BatchNorm[_i]/beta` (no gamma),
 * `moving_mean`, `moving_variance`, decay 0.999, ε 0.001. NiftyNet leaves it in training mode always; here it
 * follows the training flag. Kernels use contrib's `variance_scaling_initializer` (he_normal), biases zeros, the
 * dense kernel glorot_uniform.
 *
 * Input constraints: noise `[N, Z]` with the images' batch size; images 2D or 3D with every spatial size divisible
 * by 2^(generator levels) (16 by default).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, MOVING_STATISTICS, type Scope } from "../src/dsl/mod.ts";
import { conv } from "../src/kernels/mod.ts";
import { linearResize } from "../layers/mod.ts";

/** What {@link SimpleGAN} returns (NiftyNet's tuple, by name). */
export interface SimpleGANOutput {
  readonly image: tf.Tensor;
  readonly realLogits: tf.Tensor2D;
  readonly fakeLogits: tf.Tensor2D;
  readonly diff: tf.Tensor;
}

/** Channel options of {@link SimpleGAN} (defaults NiftyNet's). */
export interface SimpleGANOptions {
  readonly name?: string;
  readonly generatorChannels?: readonly number[];
  readonly discriminatorChannels?: readonly number[];
}

/** TensorFlow contrib `batch_norm(x)` with its defaults: learned shift only. */
class ContribBatchNorm extends Layer {
  constructor() {
    super("BatchNorm");
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const c = [x.shape[x.rank - 1]];
    const beta = scope.variable("beta", c, { initializer: "zeros" });
    const state = { trainable: false, collections: [MOVING_STATISTICS] };
    const movingMean = scope.variable("moving_mean", c, { initializer: "zeros", ...state });
    const movingVariance = scope.variable("moving_variance", c, { initializer: "ones", ...state });
    let mean: tf.Tensor, variance: tf.Tensor;
    if (scope.training) {
      ({ mean, variance } = tf.moments(x, [...Array(x.rank - 1).keys()]));
      const [m, v] = [mean, variance];
      tf.tidy(() => {
        movingMean.assign(tf.sub(movingMean, tf.mul(0.001, tf.sub(movingMean, m))));
        movingVariance.assign(tf.sub(movingVariance, tf.mul(0.001, tf.sub(movingVariance, v))));
      });
    } else {
      [mean, variance] = [movingMean, movingVariance];
    }
    return tf.add(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 0.001))), beta);
  }
}

function convSame(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return conv(x as tf.Tensor4D | tf.Tensor5D, w, { padding: "same" });
}

/** Moves the last two axes of a kernel: `[k…, a, b]` → `[k…, b, a]`. */
function swapLast(w: tf.Tensor): tf.Tensor {
  const perm = [...Array(w.rank).keys()];
  [perm[w.rank - 2], perm[w.rank - 1]] = [perm[w.rank - 1], perm[w.rank - 2]];
  return tf.transpose(w, perm);
}

/** Noise `[N, Z]` → image of `imageShape` (spatial + channels). */
export class SimpleGANGenerator extends Layer<[tf.Tensor, readonly number[]], tf.Tensor> {
  constructor(readonly channels: readonly number[], name = "generator") {
    super(name);
  }

  forward(scope: Scope, noise: tf.Tensor, imageShape: readonly number[]): tf.Tensor {
    const levels = this.channels.length, rank = imageShape.length - 1, batch = noise.shape[0];
    const sizes: number[][] = Array(levels + 1);
    sizes[levels] = [...imageShape];
    for (let it = levels; it > 0; it--) {
      sizes[it - 1] = [...sizes[it].slice(0, -1).map((n) => Math.round(n / 2)), this.channels[it - 1]];
    }
    const p = sizes[0].reduce((a, b) => a * b, 1);
    const fcW = scope.variable("G_fcW1", [1, p, noise.shape[1]!], { initializer: "he_normal" });
    const fcB = scope.variable("G_fcb1", [1, p, 1], { initializer: "zeros" });
    let image = tf.reshape(
      tf.add(
        tf.matMul(noise as tf.Tensor2D, tf.reshape(fcW, [p, noise.shape[1]!]), false, true),
        tf.reshape(fcB, [1, p]),
      ),
      [batch, ...sizes[0]],
    );
    const k = Array(rank).fill(3);
    const bn = (t: tf.Tensor) => new ContribBatchNorm().apply(scope, t);
    for (let it = 0; it < levels; it++) {
      const [cIn, cOut] = [sizes[it].at(-1)!, sizes[it + 1].at(-1)!];
      const wt = scope.variable(`G_Wt${it}`, [...k, cOut, cIn], { initializer: "he_normal" });
      const w = scope.variable(`G_W${it}`, [...k, cOut, cOut], { initializer: "he_normal" });
      image = tf.relu(bn(convSame(linearResize(image, sizes[it + 1].slice(0, -1)), swapLast(wt))));
      image = convSame(image, w);
      if (it < levels - 1) image = tf.relu(bn(image));
    }
    const c = imageShape.at(-1)!;
    const scale = scope.variable("G_scale", [...Array(rank + 1).fill(1), c], {
      initializer: { type: "constant", value: 0.1 },
    });
    const shift = scope.variable("G_shift", [1, ...imageShape], { initializer: "zeros" });
    return tf.tanh(tf.add(tf.mul(image, scale), shift));
  }
}

/** Image → one real/fake logit per batch element. */
export class SimpleGANDiscriminator extends Layer<[tf.Tensor], tf.Tensor2D> {
  constructor(readonly channels: readonly number[], name = "discriminator") {
    super(name);
  }

  forward(scope: Scope, image: tf.Tensor): tf.Tensor2D {
    const rank = image.rank - 2;
    const k = Array(rank).fill(3);
    const bn = (t: tf.Tensor) => new ContribBatchNorm().apply(scope, t);
    let x = image;
    for (let it = 0; it < this.channels.length - 1; it++) {
      const cIn = it === 0 ? image.shape[image.rank - 1] : this.channels[it];
      const w = scope.variable(`D_W${it}`, [...k, cIn, this.channels[it]], { initializer: "he_normal" });
      const ws = scope.variable(`D_Ws${it}`, [...k, this.channels[it], this.channels[it + 1]], {
        initializer: "he_normal",
      });
      x = tf.relu(bn(convSame(x, w)));
      x = tf.relu(bn(convSame(linearResize(x, x.shape.slice(1, -1).map((n) => Math.floor(n / 2))), ws)));
    }
    return new DenseLogit().apply(scope, tf.reshape(x, [x.shape[0], -1]));
  }
}

/** `tf.layers.dense(x, 1)`: scope `dense`, `kernel` (glorot uniform) and `bias` (zeros). */
class DenseLogit extends Layer<[tf.Tensor], tf.Tensor2D> {
  constructor() {
    super("dense");
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor2D {
    const kernel = scope.variable("kernel", [x.shape[1]!, 1], { initializer: "glorot_uniform" });
    const bias = scope.variable("bias", [1], { initializer: "zeros" });
    return tf.add(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), bias) as tf.Tensor2D;
  }
}

/** NiftyNet's SimpleGAN: generator and discriminator under one scope. */
export class SimpleGAN extends Layer<[tf.Tensor, tf.Tensor], SimpleGANOutput> {
  readonly generator: SimpleGANGenerator;
  readonly discriminator: SimpleGANDiscriminator;

  constructor(options: SimpleGANOptions = {}) {
    super(options.name ?? "simple_GAN");
    const g = options.generatorChannels ?? [128, 64, 32, 16];
    const d = options.discriminatorChannels ?? [16, 32, 64, 128];
    if (g.length < 1 || d.length < 2 || [...g, ...d].some((c) => !Number.isInteger(c) || c < 1)) {
      throw new Error(
        `simple_GAN: generatorChannels needs ≥ 1 and discriminatorChannels ≥ 2 positive integers, got [${g}] and [${d}]`,
      );
    }
    this.generator = new SimpleGANGenerator(g);
    this.discriminator = new SimpleGANDiscriminator(d);
  }

  /** Throws unless `noise` and `images` shapes are a valid input pair. */
  checkInput(noiseShape: readonly number[], imageShape: readonly number[]): void {
    if (noiseShape.length !== 2) throw new Error(`simple_GAN: noise must be [batch, noise size], got [${noiseShape}]`);
    if (imageShape.length !== 4 && imageShape.length !== 5) {
      throw new Error(`simple_GAN: images must be a 2D [N, H, W, C] or 3D [N, D, H, W, C] batch, got [${imageShape}]`);
    }
    if (noiseShape[0] !== imageShape[0]) {
      throw new Error(`simple_GAN: noise batch ${noiseShape[0]} differs from image batch ${imageShape[0]}`);
    }
    const factor = 2 ** this.generator.channels.length;
    if (imageShape.slice(1, -1).some((n) => n % factor !== 0)) {
      throw new Error(
        `simple_GAN: every image spatial size must be divisible by ${factor} (2^generator levels), got [${imageShape}]`,
      );
    }
  }

  forward(scope: Scope, noise: tf.Tensor, images: tf.Tensor): SimpleGANOutput {
    this.checkInput(noise.shape, images.shape);
    const image = this.generator.apply(scope, noise, images.shape.slice(1));
    const fakeLogits = this.discriminator.apply(scope, image);
    const half = tf.div(images, 2);
    const realLogits = this.discriminator.apply(scope, half);
    return { image, realLogits, fakeLogits, diff: tf.sub(image, half) };
  }
}
