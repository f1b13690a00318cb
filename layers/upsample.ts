/**
 * Upsampling by an integer `stride` per axis, NiftyNet's `UpSampleLayer` (scope `<func>_<name>`, default
 * `replicate_upsample`) plus the other usual ways:
 *
 * - `REPLICATE` (NiftyNet): each voxel becomes a stride³ (stride²) block — nearest neighbour; needs
 *   kernel size = stride as NiftyNet requires.
 * - `CHANNELWISE_DECONV` (NiftyNet): one single-channel transposed convolution per channel (`deconv_<i>/w`), so
 *   channels are not mixed.
 * - `NEAREST`, `LINEAR`: resize to stride × size (linear with TensorFlow 1's sampling, via `resize3d` in 3D).
 * - `DECONV`: a full transposed convolution (`deconv/w`) to `nOutputChannels` (default: the input's).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { DeconvLayer } from "./deconvolution.ts";
import { linearResize } from "./linear_resize.ts";
import { expandSpatial, spatialRank } from "./_util.ts";

/** Upsampling operations. */
export type UpSampleOp = "REPLICATE" | "CHANNELWISE_DECONV" | "NEAREST" | "LINEAR" | "DECONV";

const OPS: readonly UpSampleOp[] = ["REPLICATE", "CHANNELWISE_DECONV", "NEAREST", "LINEAR", "DECONV"];

/** Options of {@link UpSampleLayer}. */
export interface UpSampleOptions {
  readonly kernelSize?: number | readonly number[];
  readonly stride?: number | readonly number[];
  readonly name?: string;
  readonly nOutputChannels?: number;
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
}

/** Integer-factor upsampling. */
export class UpSampleLayer extends Layer {
  readonly func: UpSampleOp;
  readonly options: UpSampleOptions;
  #deconvs: DeconvLayer[] = [];

  constructor(func: UpSampleOp | Lowercase<UpSampleOp>, options: UpSampleOptions = {}) {
    const op = func.toUpperCase() as UpSampleOp;
    if (!OPS.includes(op)) throw new Error(`unknown upsampling "${func}": expected one of ${OPS.join(", ")}`);
    super(`${op.toLowerCase()}_${options.name ?? "upsample"}`);
    this.func = op;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const rank = spatialRank(x, scope.path);
    const kernel = expandSpatial(this.options.kernelSize ?? 3, rank, `${scope.path}: kernel size`);
    const stride = expandSpatial(this.options.stride ?? 2, rank, `${scope.path}: stride`);
    const size = x.shape.slice(1, -1).map((n, i) => n * stride[i]);
    const o = this.options;
    const deconvOptions = {
      kernelSize: kernel,
      stride,
      padding: "same" as const,
      withBias: o.withBias,
      wInitializer: o.wInitializer,
      wRegularizer: o.wRegularizer,
      bInitializer: o.bInitializer,
      bRegularizer: o.bRegularizer,
    };
    switch (this.func) {
      case "REPLICATE":
        if (kernel.some((k, i) => k !== stride[i])) {
          throw new Error(
            `${scope.path}: REPLICATE needs kernel size = stride, got [${kernel}] and [${stride}]; use CHANNELWISE_DECONV`,
          );
        }
        return linearResize(x, size, { method: "nearest" });
      case "NEAREST":
        return linearResize(x, size, { method: "nearest" });
      case "LINEAR":
        return linearResize(x, size);
      case "CHANNELWISE_DECONV": {
        const channels = x.shape[x.rank - 1];
        while (this.#deconvs.length < channels) {
          this.#deconvs.push(new DeconvLayer(1, { ...deconvOptions, name: `deconv_${this.#deconvs.length}` }));
        }
        const parts = tf.split(x, channels, -1);
        return tf.concat(parts.map((part, i) => this.#deconvs[i].apply(scope, part)), -1);
      }
      case "DECONV":
        if (this.#deconvs.length === 0) {
          this.#deconvs.push(
            new DeconvLayer(o.nOutputChannels ?? x.shape[x.rank - 1], { ...deconvOptions, name: "deconv" }),
          );
        }
        return this.#deconvs[0].apply(scope, x);
    }
  }
}
