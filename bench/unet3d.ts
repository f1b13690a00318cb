/**
 * The small 3D U-Net the benchmark trains, written with the DSL layers; `bench/reference/torch_bench.py` builds the
 * same network in PyTorch (same layers, channels and up-sampling), so the two train steps do the same work.
 *
 * 64³ input: two conv-BN-ReLU at 8 channels, max-pool, two at 16, max-pool, two at 32; up by a 2×2×2 stride-2
 * transposed conv to 16 channels, concat, two at 16; up by trilinear resize, concat, two at 8; 1×1×1 conv with bias
 * to the classes.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import { ConvLayer, ConvolutionalLayer } from "../layers/mod.ts";
import { resize3d } from "../src/kernels/mod.ts";

/** Two 3×3×3 conv → batch norm → ReLU blocks. */
class DoubleConv extends Layer {
  readonly #first: ConvolutionalLayer;
  readonly #second: ConvolutionalLayer;

  constructor(name: string, channels: number) {
    super(name);
    this.#first = new ConvolutionalLayer(channels, { actiFunc: "relu", name: "conv_0" });
    this.#second = new ConvolutionalLayer(channels, { actiFunc: "relu", name: "conv_1" });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return this.#second.apply(scope, this.#first.apply(scope, x));
  }
}

/** A 2×2×2 stride-2 transposed convolution (no bias) doubling each spatial size. */
class UpConv extends Layer {
  readonly channels: number;

  constructor(name: string, channels: number) {
    super(name);
    this.channels = channels;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const cin = x.shape[4]!;
    const w = scope.variable("w", [2, 2, 2, this.channels, cin], { initializer: "he_normal" });
    const [n, d, h, wd] = x.shape;
    return tf.conv3dTranspose(x as tf.Tensor5D, w as tf.Tensor5D, [n, d * 2, h * 2, wd * 2, this.channels], 2, "same");
  }
}

/** The benchmark's U-Net: NDHWC input with sides divisible by 4, output logits `[n, d, h, w, classes]`. */
export class BenchUNet3D extends Layer {
  readonly #enc1: DoubleConv;
  readonly #enc2: DoubleConv;
  readonly #bottom: DoubleConv;
  readonly #up2: UpConv;
  readonly #dec2: DoubleConv;
  readonly #dec1: DoubleConv;
  readonly #head: ConvLayer;

  constructor({ numClasses = 2, base = 8 }: { numClasses?: number; base?: number } = {}) {
    super("BenchUNet3D");
    this.#enc1 = new DoubleConv("enc_1", base);
    this.#enc2 = new DoubleConv("enc_2", base * 2);
    this.#bottom = new DoubleConv("bottom", base * 4);
    this.#up2 = new UpConv("up_2", base * 2);
    this.#dec2 = new DoubleConv("dec_2", base * 2);
    this.#dec1 = new DoubleConv("dec_1", base);
    this.#head = new ConvLayer(numClasses, { kernelSize: 1, withBias: true, name: "head" });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const pool = (t: tf.Tensor) => tf.maxPool3d(t as tf.Tensor5D, 2, 2, "valid");
    const e1 = this.#enc1.apply(scope, x);
    const e2 = this.#enc2.apply(scope, pool(e1));
    const b = this.#bottom.apply(scope, pool(e2));
    const d2 = this.#dec2.apply(scope, tf.concat([e2, this.#up2.apply(scope, b)], 4));
    const [, d, h, w] = e1.shape;
    const u1 = resize3d(d2 as tf.Tensor5D, [d, h, w] as [number, number, number], { halfPixelCenters: true });
    const d1 = this.#dec1.apply(scope, tf.concat([e1, u1], 4));
    return this.#head.apply(scope, d1);
  }
}
