/**
 * Fully connected layers with NiftyNet's names.
 *
 * - `FCLayer` (scope `fc_` inside blocks): `w` [in, out] (NiftyNet default truncated normal σ = √(2/in)), bias `b`
 *   (on by default). Inputs of rank > 2 are flattened to [batch, −1] first.
 * - `FullyConnectedLayer`: fc → feature normalisation (batch by default) → activation → dropout, scope
 *   `<name>[_bn|_in|_gn][_<acti>]` (`se_fc_1_relu/fc_/w`).
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { ActiLayer, type ActivationName, DropoutLayer } from "./activation.ts";
import {
  type FeatureNormalization,
  normalizationLayer,
  normalizationSuffix,
  resolveNormalization,
} from "./normalization.ts";

/** Options of {@link FCLayer}. */
export interface FCLayerOptions {
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
}

/** A plain dense layer. */
export class FCLayer extends Layer {
  readonly nOutputChannels: number;
  readonly options: FCLayerOptions;

  constructor(nOutputChannels: number, options: FCLayerOptions & { name?: string } = {}) {
    super(options.name ?? "fc");
    if (!Number.isInteger(nOutputChannels) || nOutputChannels < 1) {
      throw new Error(`${this.name}: output channels must be a positive integer, got ${nOutputChannels}`);
    }
    this.nOutputChannels = nOutputChannels;
    this.options = options;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    if (x.rank < 2) throw new Error(`${scope.path}: expected a [batch, features…] tensor, got [${x.shape}]`);
    const flat = x.rank > 2 ? tf.reshape(x, [x.shape[0], -1]) : x;
    const w = scope.variable("w", [flat.shape[1] as number, this.nOutputChannels], {
      initializer: this.options.wInitializer ?? "niftynet_default",
      regularizer: this.options.wRegularizer,
    });
    let y = tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D) as tf.Tensor;
    if (this.options.withBias ?? true) {
      const b = scope.variable("b", [this.nOutputChannels], {
        initializer: this.options.bInitializer ?? "zeros",
        regularizer: this.options.bRegularizer,
      });
      y = tf.add(y, b);
    }
    return y;
  }
}

/** Options of {@link FullyConnectedLayer}. */
export interface FullyConnectedOptions extends FCLayerOptions {
  readonly name?: string;
  readonly withBn?: boolean;
  readonly featureNormalization?: FeatureNormalization;
  readonly groupSize?: number;
  readonly actiFunc?: ActivationName;
  readonly movingDecay?: number;
  readonly eps?: number;
  readonly keepProb?: number;
}

/** NiftyNet's composite dense block. */
export class FullyConnectedLayer extends Layer {
  readonly #fc: FCLayer;
  readonly #norm?: Layer;
  readonly #acti?: ActiLayer;
  readonly #dropout?: DropoutLayer;

  constructor(nOutputChannels: number, options: FullyConnectedOptions = {}) {
    const base = options.name ?? "fc";
    const norm = resolveNormalization(base, options);
    super(`${base}${normalizationSuffix(norm)}${options.actiFunc ? `_${options.actiFunc}` : ""}`);
    this.#fc = new FCLayer(nOutputChannels, { ...options, name: "fc_" });
    this.#norm = normalizationLayer(norm, {
      regularizer: options.wRegularizer,
      movingDecay: options.movingDecay,
      eps: options.eps,
      groupSize: options.groupSize,
    });
    if (options.actiFunc) {
      this.#acti = new ActiLayer(options.actiFunc, { name: "acti_", regularizer: options.wRegularizer });
    }
    if (options.keepProb !== undefined) this.#dropout = new DropoutLayer(options.keepProb);
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    let t = this.#fc.apply(scope, x);
    if (this.#norm) t = this.#norm.apply(scope, t);
    if (this.#acti) t = this.#acti.apply(scope, t);
    if (this.#dropout) t = this.#dropout.apply(scope, t);
    return t;
  }
}
