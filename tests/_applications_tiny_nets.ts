/**
 * Dense-only stand-ins for the generative networks, loaded as plugins by module path in the 200-iteration tensor
 * count tests: they return exactly what the VAE and SimpleGAN return (so the applications run unchanged) at a
 * cost independent of the convolution kernels. The real networks run in the end-to-end tests.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { FunctionLayer, Layer, type Scope } from "../src/dsl/mod.ts";
import type { VAEOutput } from "../networks/vae.ts";
import type { SimpleGANOutput } from "../networks/simple_gan.ts";

function dense(scope: Scope, name: string, x: tf.Tensor2D, units: number): tf.Tensor2D {
  const w = scope.variable(`${name}_w`, [x.shape[1], units], { initializer: "glorot_uniform" });
  const b = scope.variable(`${name}_b`, [units], { initializer: "zeros" });
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b) as tf.Tensor2D;
}

function flat(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [x.shape[0], -1]);
}

/** A two-latent dense VAE returning NiftyNet's eight VAE outputs (the sample is the posterior mean). */
export class TinyVae extends Layer<[tf.Tensor], VAEOutput> {
  constructor() {
    super("TinyVAE");
  }

  forward(scope: Scope, images: tf.Tensor): VAEOutput {
    const x = flat(images), n = x.shape[1];
    const posteriorMeans = dense(scope, "means", x, 2), posteriorLogvars = dense(scope, "logvars", x, 2);
    const dataMeans = tf.reshape(tf.sigmoid(dense(scope, "decode_means", posteriorMeans, n)), images.shape);
    const dataLogvars = tf.reshape(dense(scope, "decode_logvars", posteriorMeans, n), images.shape);
    return {
      posteriorMeans,
      posteriorLogvars,
      dataMeans,
      dataLogvars,
      images,
      dataVariances: tf.exp(dataLogvars),
      posteriorVariances: tf.exp(posteriorLogvars),
      sample: posteriorMeans,
    };
  }
}

/** A dense GAN with `generator` and `discriminator` scopes, returning SimpleGAN's outputs. */
export class TinyGan extends Layer<[tf.Tensor, tf.Tensor], SimpleGANOutput> {
  readonly #discriminator = new FunctionLayer<[tf.Tensor], tf.Tensor2D>(
    "discriminator",
    (scope, image) => dense(scope, "logit", flat(image), 1),
  );

  constructor() {
    super("TinyGAN");
  }

  forward(scope: Scope, noise: tf.Tensor, images: tf.Tensor): SimpleGANOutput {
    const generator = new FunctionLayer<[tf.Tensor], tf.Tensor>(
      "generator",
      (s, z) => tf.reshape(tf.tanh(dense(s, "image", z as tf.Tensor2D, flat(images).shape[1])), images.shape),
    );
    const image = generator.apply(scope, noise);
    const half = tf.div(images, 2);
    return {
      image,
      fakeLogits: this.#discriminator.apply(scope, image),
      realLogits: this.#discriminator.apply(scope, half),
      diff: tf.sub(image, half),
    };
  }
}

/** Factory of {@link TinyVae} (network plugin signature). */
export function tinyVae(): TinyVae {
  return new TinyVae();
}

/** Factory of {@link TinyGan} (network plugin signature). */
export function tinyGan(): TinyGan {
  return new TinyGan();
}
