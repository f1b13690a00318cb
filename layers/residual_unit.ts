/**
 * NiftyNet's `ResidualUnit` (He et al. 2016a/b; scope default `res-downsample`): two convolutions (no bias, no
 * norm: `conv/conv_/w`, `conv_1/conv_/w`), two batch norms (`batch_norm`, `batch_norm_1`) and two activations,
 * ordered by `typeString`, plus an identity bypass summed by `residual_sum` (which pads or projects channels):
 *
 * - `original`: x → conv → bn → acti → conv → bn → (+x) → acti
 * - `conv_bn_acti`: (conv → bn → acti) × 2, then + x
 * - `acti_conv_bn`: (acti → conv → bn) × 2, then + x
 * - `bn_acti_conv` (default, full pre-activation): (bn → acti → conv) × 2, then + x
 *
 * @module
 */
import type { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { ActiLayer, type ActivationName } from "./activation.ts";
import { BNLayer } from "./bn.ts";
import { ConvolutionalLayer } from "./convolution.ts";
import { ElementwiseLayer } from "./elementwise.ts";

/** Orders of a residual unit's operations. */
export type ResidualUnitType = "original" | "conv_bn_acti" | "acti_conv_bn" | "bn_acti_conv";

const TYPES: readonly ResidualUnitType[] = ["original", "conv_bn_acti", "acti_conv_bn", "bn_acti_conv"];

/** Options of {@link ResidualUnit}. */
export interface ResidualUnitOptions {
  readonly nOutputChannels?: number;
  readonly kernelSize?: number | readonly number[];
  readonly dilation?: number | readonly number[];
  readonly actiFunc?: ActivationName;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly movingDecay?: number;
  readonly eps?: number;
  readonly typeString?: ResidualUnitType;
  readonly name?: string;
}

/** A two-convolution residual unit. */
export class ResidualUnit extends Layer {
  readonly typeString: ResidualUnitType;
  readonly #bn: [BNLayer, BNLayer];
  readonly #acti: [ActiLayer, ActiLayer];
  readonly #conv: [ConvolutionalLayer, ConvolutionalLayer];
  readonly #sum: ElementwiseLayer;

  constructor(options: ResidualUnitOptions = {}) {
    super(options.name ?? "res-downsample");
    const type = (options.typeString ?? "bn_acti_conv").toLowerCase() as ResidualUnitType;
    if (!TYPES.includes(type)) {
      throw new Error(`${this.name}: unknown residual unit type "${options.typeString}": expected ${TYPES.join(", ")}`);
    }
    this.typeString = type;
    const bn = () =>
      new BNLayer({
        name: "batch_norm",
        regularizer: options.wRegularizer,
        movingDecay: options.movingDecay,
        eps: options.eps,
      });
    const acti = () => new ActiLayer(options.actiFunc ?? "relu");
    const conv = () =>
      new ConvolutionalLayer(options.nOutputChannels ?? 1, {
        kernelSize: options.kernelSize ?? 3,
        dilation: options.dilation ?? 1,
        withBias: false,
        featureNormalization: null,
        wInitializer: options.wInitializer,
        wRegularizer: options.wRegularizer,
      });
    this.#bn = [bn(), bn()];
    this.#acti = [acti(), acti()];
    this.#conv = [conv(), conv()];
    this.#sum = new ElementwiseLayer("SUM", { initializer: options.wInitializer, regularizer: options.wRegularizer });
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const bn = (i: number, t: tf.Tensor) => this.#bn[i].apply(scope, t);
    const acti = (i: number, t: tf.Tensor) => this.#acti[i].apply(scope, t);
    const conv = (i: number, t: tf.Tensor) => this.#conv[i].apply(scope, t);
    let t = x;
    switch (this.typeString) {
      case "original":
        t = acti(0, bn(0, conv(0, t)));
        t = bn(1, conv(1, t));
        return acti(1, this.#sum.apply(scope, t, x));
      case "conv_bn_acti":
        t = acti(0, bn(0, conv(0, t)));
        t = acti(1, bn(1, conv(1, t)));
        break;
      case "acti_conv_bn":
        t = bn(0, conv(0, acti(0, t)));
        t = bn(1, conv(1, acti(1, t)));
        break;
      case "bn_acti_conv":
        t = conv(0, acti(0, bn(0, t)));
        t = conv(1, acti(1, bn(1, t)));
        break;
    }
    return this.#sum.apply(scope, t, x);
  }
}
