/**
 * NiftyNet's `DownSampleLayer` (scope `<func>_<name>`, default `max_pooling`): max or average pooling, `CONSTANT`
 * subsampling (NiftyNet's per-channel "valid"/"same" convolution with a one-hot centre kernel, i.e. it keeps the
 * window's centre voxel), or `CONV`, a strided convolution (`conv/w`) — the learnt downsampling of V-Net-like
 * networks. Defaults as NiftyNet: kernel 3, stride 2, "same" padding.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { conv } from "../src/kernels/mod.ts";
import { ConvLayer } from "./convolution.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

/** Downsampling operations. */
export type DownSampleOp = "MAX" | "AVG" | "CONSTANT" | "CONV";

/** Options of {@link DownSampleLayer}. */
export interface DownSampleOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly padding?: "same" | "valid";
  readonly name?: string;
  /** Output channels of `CONV` (default: the input's). */
  readonly nOutputChannels?: number;
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
}

const OPS: readonly DownSampleOp[] = ["MAX", "AVG", "CONSTANT", "CONV"];

/** Pooling / subsampling / strided-convolution downsampling. */
export class DownSampleLayer extends Layer {
  readonly func: DownSampleOp;
  readonly options: DownSampleOptions;
  #conv?: ConvLayer;

  constructor(func: DownSampleOp | Lowercase<DownSampleOp>, options: DownSampleOptions = {}) {
    const op = func.toUpperCase() as DownSampleOp;
    if (!OPS.includes(op)) throw new Error(`unknown downsampling "${func}": expected one of ${OPS.join(", ")}`);
    if (options.padding !== undefined && options.padding !== "same" && options.padding !== "valid") {
      throw new Error(`downsampling: padding must be "same" or "valid", got ${JSON.stringify(options.padding)}`);
    }
    super(`${op.toLowerCase()}_${options.name ?? "pooling"}`);
    this.func = op;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(this.options.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const stride = expandSpatial(this.options.stride ?? 2, rank, `${scope.path}: stride`);
    const padding = this.options.padding ?? "same";
    const spatial = x.shape.slice(1, -1);
    if (padding === "valid" && spatial.some((n, i) => n < kernel[i])) {
      throw new Error(`${scope.path}: "valid" window [${kernel}] is larger than the input's spatial size [${spatial}]`);
    }
    switch (this.func) {
      case "MAX":
      case "AVG":
        return pool(this.func, x, kernel, stride, padding);
      case "CONSTANT":
        return centreSubsample(x, kernel, stride, padding);
      case "CONV":
        this.#conv ??= new ConvLayer(this.options.nOutputChannels ?? x.shape[x.rank - 1], {
          name: "conv",
          kernelSize: kernel,
          stride,
          padding,
          withBias: this.options.withBias,
          wInitializer: this.options.wInitializer,
          wRegularizer: this.options.wRegularizer,
        });
        return this.#conv.apply(scope, x);
    }
  }
}

/** Max or average pooling, 2D or 3D from the input's rank. */
function pool(
  op: "MAX" | "AVG",
  x: tf.Tensor,
  kernel: number[],
  stride: number[],
  padding: "same" | "valid",
): tf.Tensor {
  if (x.rank === 5) {
    const pool3d = op === "MAX" ? tf.maxPool3d : tf.avgPool3d;
    return pool3d(x as tf.Tensor5D, kernel as [number, number, number], stride as [number, number, number], padding);
  }
  const pool2d = op === "MAX" ? tf.maxPool : tf.avgPool;
  return pool2d(x as tf.Tensor4D, kernel as [number, number], stride as [number, number], padding);
}

/** Convolves every channel with a one-hot kernel whose 1 sits at the window centre (NiftyNet's trivial kernel). */
function centreSubsample(x: tf.Tensor, kernel: number[], stride: number[], padding: "same" | "valid"): tf.Tensor {
  const size = kernel.reduce((a, b) => a * b, 1);
  const oneHot = new Float32Array(size);
  // Row-major index of the centre voxel (⌊k/2⌋ on each axis).
  let centre = 0;
  for (const k of kernel) centre = centre * k + Math.floor(k / 2);
  oneHot[centre] = 1;
  const w = tf.tensor(oneHot, [...kernel, 1, 1]);
  const c = x.shape[x.rank - 1];
  // Channels to the batch axis: one single-channel convolution serves them all.
  const perm = [x.rank - 1, ...Array.from({ length: x.rank - 1 }, (_, i) => i)];
  const stacked = tf.reshape(tf.transpose(x, perm), [c * x.shape[0], ...x.shape.slice(1, -1), 1]);
  const y = conv(stacked as tf.Tensor4D | tf.Tensor5D, w, { strides: stride, padding });
  const back = tf.reshape(y, [c, x.shape[0], ...y.shape.slice(1, -1)]);
  return tf.transpose(back, [...Array.from({ length: x.rank - 1 }, (_, i) => i + 1), 0]);
}
