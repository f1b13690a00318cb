/**
 * NiftyNet's `simulator_gan` (a `GANImageBlock` named `simulator_GAN`): a conditional image generator and a
 * residual discriminator, for simulating (e.g. ultrasound) images from noise and an optional conditioning image.
 *
 * Call: `new SimulatorGAN().apply(scope, noise, images, conditioning?)` with `noise` `[N, Z]`, `images`
 * `[N, …spatial, 1]` (2D or 3D) and `conditioning` `[N, …spatial, K]` or undefined. Returns
 * {@link SimulatorGANOutput}: the generated image, then the discriminator's logits `[N, 1]` for the real and the
 * generated images (NiftyNet's order: fake image, real logits, fake logits). One discriminator, applied twice.
 *
 * Generator (`generator/`): channels c₀ = Z + K, c_{i+1} = ⌊c_i / 2⌋ + K (K only where the conditioning is
 * concatenated: levels 0–3), sizes image/16 … image. `G_W1p` `[Z, P·c₀]` (N(0, 0.08)), `G_b1p` (0.001) → relu →
 * reshape; [concat conditioning resized bilinearly]; `conv_bn` (3, bn) → relu; then 4 up blocks: `deconv_bn[_i]`
 * (3, stride 2, bn) → relu → [concat conditioning] → `conv_bn_<i>` → relu; finally `conv` (3, no bn) → 2·tanh.
 * NiftyNet concatenates the conditioning on axis 3, the channel axis only in 2D; here it is always the channel
 * axis.
 * Discriminator (`discriminator/`, channels [32, 64, 128, 256, 512, 1024], kernels N(0, 0.2)): the image
 * [concatenated with the conditioning]; `conv` (5, bias, no bn) → leaky relu (0.2) = s; `conv_bn` → lrelu = r;
 * lrelu(`conv_bn_1`(r) + s); then per further channel count a down block: s = lrelu(stride-2 `conv_bn_<j>`),
 * r = lrelu(`conv_bn_<j+1>`(s)), lrelu(`conv_bn_<j+2>`(r) + s); flatten; `D_Wo`, `D_bo` (0.001) to one logit.
 *
 * Input constraints: noise `[N, Z]` with the images' batch and Z ≥ 16 (the channels halve 4 times); images with 1 channel (the generator makes one) and every
 * spatial size divisible by 16; conditioning, when given, with the images' batch and spatial size.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvolutionalLayer, DeconvolutionalLayer, linearResize } from "../layers/mod.ts";
import { normalInitializer } from "./_gan_init.ts";

/** What {@link SimulatorGAN} returns (NiftyNet's tuple, by name). */
export interface SimulatorGANOutput {
  readonly fakeImage: tf.Tensor;
  readonly realLogits: tf.Tensor2D;
  readonly fakeLogits: tf.Tensor2D;
}

/** Options of {@link SimulatorGAN}. */
export interface SimulatorGANOptions {
  readonly name?: string;
  /** Discriminator channels: the feature level, then one down block each (NiftyNet: 32 … 1024). */
  readonly discriminatorChannels?: readonly number[];
}

const SHORTCUTS = [true, true, true, true, false];

/** The generator's channels per level: c₀ = Z + K, c_{i+1} = ⌊c_i / 2⌋ + K where the conditioning joins. */
function generatorChannels(noiseSize: number, condChannels: number): number[] {
  const ch = [noiseSize + (SHORTCUTS[0] ? condChannels : 0)];
  for (let i = 0; i < 4; i++) ch.push(Math.floor(ch[i] / 2) + (SHORTCUTS[i + 1] ? condChannels : 0));
  return ch;
}
const BIAS_INIT = { type: "constant", value: 0.001 } as const;

function leakyRelu(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(0.6, x), tf.mul(0.4, tf.abs(x)));
}

/** Noise (+ conditioning) → one-channel image of the given spatial size. */
export class SimulatorGANGenerator extends Layer<[tf.Tensor, readonly number[], tf.Tensor | undefined], tf.Tensor> {
  constructor(name = "generator") {
    super(name);
  }

  forward(scope: Scope, noise: tf.Tensor, imageShape: readonly number[], conditioning?: tf.Tensor): tf.Tensor {
    const cond = conditioning ? conditioning.shape[conditioning.rank - 1] : 0;
    const noiseSize = noise.shape[1]!, batch = noise.shape[0];
    const ch = generatorChannels(noiseSize, cond);
    let sizes = [imageShape.slice(0, -1)];
    for (let i = 0; i < 4; i++) sizes = [sizes[0].map((n) => Math.floor(n / 2)), ...sizes];
    const concatCond = (x: tf.Tensor, i: number) =>
      conditioning && SHORTCUTS[i] ? tf.concat([x, linearResize(conditioning, x.shape.slice(1, -1))], -1) : x;
    const convBlock = (c: number, x: tf.Tensor) => {
      const init = normalInitializer(0.08, [...Array(x.rank - 2).fill(3), x.shape[x.rank - 1], c]);
      return tf.relu(new ConvolutionalLayer(c, { kernelSize: 3, wInitializer: init }).apply(scope, x));
    };
    const up = (c: number, x: tf.Tensor) => {
      const init = normalInitializer(0.08, [...Array(x.rank - 2).fill(3), c, x.shape[x.rank - 1]]);
      return tf.relu(new DeconvolutionalLayer(c, { kernelSize: 3, stride: 2, wInitializer: init }).apply(scope, x));
    };
    const p = sizes[0].reduce((a, b) => a * b, 1) * ch[0];
    const w1 = scope.variable("G_W1p", [noiseSize, p], { initializer: normalInitializer(0.08, [noiseSize, p]) });
    const b1 = scope.variable("G_b1p", [p], { initializer: BIAS_INIT });
    let h = tf.relu(tf.add(tf.matMul(noise as tf.Tensor2D, w1 as tf.Tensor2D), b1));
    h = convBlock(ch[0], concatCond(tf.reshape(h, [batch, ...sizes[0], ch[0]]), 0));
    for (let i = 1; i <= 4; i++) h = convBlock(ch[i], concatCond(up(ch[i], h), i));
    const lastInit = normalInitializer(0.08, [...Array(h.rank - 2).fill(3), h.shape[h.rank - 1], 1]);
    const last = new ConvolutionalLayer(1, { kernelSize: 3, withBn: false, wInitializer: lastInit });
    return tf.mul(2, tf.tanh(last.apply(scope, h)));
  }
}

/** Image (+ conditioning) → one logit per batch element. */
export class SimulatorGANDiscriminator extends Layer<[tf.Tensor, tf.Tensor | undefined], tf.Tensor2D> {
  constructor(readonly channels: readonly number[], name = "discriminator") {
    super(name);
  }

  forward(scope: Scope, image: tf.Tensor, conditioning?: tf.Tensor): tf.Tensor2D {
    const k = image.rank - 2;
    const convLayer = (c: number, x: tf.Tensor, o: { size?: number; stride?: number; feature?: boolean } = {}) => {
      const size = o.size ?? 3;
      const init = normalInitializer(0.2, [...Array(k).fill(size), x.shape[x.rank - 1], c]);
      const layer = new ConvolutionalLayer(c, {
        kernelSize: size,
        stride: o.stride ?? 1,
        wInitializer: init,
        ...(o.feature ? { withBias: true, withBn: false, bInitializer: "zeros" } : {}),
      });
      return layer.apply(scope, x);
    };
    const residual = (c: number, s: tf.Tensor) => {
      const r = leakyRelu(convLayer(c, s));
      return leakyRelu(tf.add(convLayer(c, r), s));
    };
    const x = conditioning ? tf.concat([image, conditioning], -1) : image;
    let h = residual(this.channels[0], leakyRelu(convLayer(this.channels[0], x, { size: 5, feature: true })));
    for (const c of this.channels.slice(1)) h = residual(c, leakyRelu(convLayer(c, h, { stride: 2 })));
    const flat = tf.reshape(h, [h.shape[0], -1]);
    const features = flat.shape[1]!;
    const wo = scope.variable("D_Wo", [features, 1], { initializer: normalInitializer(0.2, [features, 1]) });
    const bo = scope.variable("D_bo", [1], { initializer: BIAS_INIT });
    return tf.add(tf.matMul(flat as tf.Tensor2D, wo as tf.Tensor2D), bo) as tf.Tensor2D;
  }
}

/** NiftyNet's SimulatorGAN: generator and discriminator under one scope. */
export class SimulatorGAN extends Layer<[tf.Tensor, tf.Tensor, (tf.Tensor | undefined)?], SimulatorGANOutput> {
  readonly generator = new SimulatorGANGenerator();
  readonly discriminator: SimulatorGANDiscriminator;

  constructor(options: SimulatorGANOptions = {}) {
    super(options.name ?? "simulator_GAN");
    const d = options.discriminatorChannels ?? [32, 64, 128, 256, 512, 1024];
    if (d.length < 1 || d.some((c) => !Number.isInteger(c) || c < 1)) {
      throw new Error(`simulator_GAN: discriminatorChannels must be ≥ 1 positive integers, got [${d}]`);
    }
    this.discriminator = new SimulatorGANDiscriminator(d);
  }

  /** Throws unless the shapes are a valid input. */
  checkInput(noise: readonly number[], images: readonly number[], conditioning?: readonly number[]): void {
    if (noise.length !== 2) throw new Error(`simulator_GAN: noise must be [batch, noise size], got [${noise}]`);
    if (images.length !== 4 && images.length !== 5) {
      throw new Error(`simulator_GAN: images must be a 2D [N, H, W, 1] or 3D [N, D, H, W, 1] batch, got [${images}]`);
    }
    if (images.at(-1) !== 1) {
      throw new Error(`simulator_GAN: images must have 1 channel (the generator makes one), got [${images}]`);
    }
    if (noise[0] !== images[0]) {
      throw new Error(`simulator_GAN: noise batch ${noise[0]} differs from image batch ${images[0]}`);
    }
    const ch = generatorChannels(noise[1], conditioning?.at(-1) ?? 0);
    if (ch[4] < 1) {
      throw new Error(
        `simulator_GAN: noise size ${noise[1]} is too small: the generator halves its channels 4 times ` +
          `([${ch}]); use at least 16 noise channels`,
      );
    }
    if (images.slice(1, -1).some((n) => n % 16 !== 0)) {
      throw new Error(`simulator_GAN: every image spatial size must be divisible by 16, got [${images}]`);
    }
    if (
      conditioning &&
      (conditioning.length !== images.length || conditioning.slice(0, -1).some((n, i) => n !== images[i]))
    ) {
      throw new Error(
        `simulator_GAN: conditioning [${conditioning}] must have the images' batch and spatial size ([${images}]): ` +
          `the discriminator concatenates it to the images`,
      );
    }
  }

  forward(scope: Scope, noise: tf.Tensor, images: tf.Tensor, conditioning?: tf.Tensor): SimulatorGANOutput {
    this.checkInput(noise.shape, images.shape, conditioning?.shape);
    const fakeImage = this.generator.apply(scope, noise, images.shape.slice(1), conditioning);
    const fakeLogits = this.discriminator.apply(scope, fakeImage, conditioning);
    const realLogits = this.discriminator.apply(scope, images, conditioning);
    return { fakeImage, realLogits, fakeLogits };
  }
}
