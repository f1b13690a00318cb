/**
 * What NiftyNet's conv, deconv and dense layers share, written once:
 *
 * - `WeightedLayer`: a core layer with a kernel `w` (`wInitializer` else the layer's default, `wRegularizer`) and
 *   an optional bias `b` of shape `[nOutputChannels]` (`bInitializer` else zeros, `bRegularizer`), checked output
 *   channel count.
 * - `CompositeLayer`: core → feature normalisation (batch by default, or instance / group / none) → activation →
 *   dropout, or with pre-activation norm → activation → dropout → core; scope `<name>[_bn|_in|_gn][_<acti>]` with
 *   the parts named `bn_`/`in_`/`gn_` and `acti_` inside, as NiftyNet names them.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { ActiLayer, type ActivationName, DropoutLayer } from "./activation.ts";
import { BNLayer } from "./bn.ts";
import {
  type FeatureNormalization,
  normalizationLayer,
  normalizationSuffix,
  resolveNormalization,
} from "./normalization.ts";

/** Kernel and bias options of the core layers (conv, deconv, dense). */
export interface WeightOptions {
  /** Add a bias `b` (default off for conv/deconv, on for dense). */
  readonly withBias?: boolean;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
}

/** How a {@link WeightedLayer} subclass names itself and its defaults. */
export interface WeightedLayerDefaults {
  /** Scope name when the options give none. */
  readonly name: string;
  /** Initializer of `w` when the options give none. */
  readonly wInitializer: InitializerName | InitializerSpec;
  /** Whether a bias is added when `withBias` is absent. */
  readonly withBias: boolean;
}

/** A core layer with kernel `w` and optional bias `b`; subclasses do the product between them. */
export abstract class WeightedLayer<O extends WeightOptions> extends Layer {
  readonly nOutputChannels: number;
  readonly options: O;
  readonly #defaults: WeightedLayerDefaults;

  constructor(nOutputChannels: number, options: O & { name?: string }, defaults: WeightedLayerDefaults) {
    super(options.name ?? defaults.name);
    if (!Number.isInteger(nOutputChannels) || nOutputChannels < 1) {
      throw new Error(`${this.name}: output channels must be a positive integer, got ${nOutputChannels}`);
    }
    this.nOutputChannels = nOutputChannels;
    this.options = options;
    this.#defaults = defaults;
  }

  /** The kernel `w` of `shape` in `scope`, created on first use. */
  protected kernel(scope: Scope, shape: readonly number[]): tf.Variable {
    return scope.variable("w", shape, {
      initializer: this.options.wInitializer ?? this.#defaults.wInitializer,
      regularizer: this.options.wRegularizer,
    });
  }

  /** `y + b` when the layer has a bias, else `y`. */
  protected addBias(scope: Scope, y: tf.Tensor): tf.Tensor {
    if (!(this.options.withBias ?? this.#defaults.withBias)) return y;
    const b = scope.variable("b", [this.nOutputChannels], {
      initializer: this.options.bInitializer ?? "zeros",
      regularizer: this.options.bRegularizer,
    });
    return tf.add(y, b);
  }
}

/** Normalisation, activation and dropout options of a {@link CompositeLayer}. */
export interface CompositeOptions {
  /** Block name before the suffixes (default: the layer's, e.g. "conv"). */
  readonly name?: string;
  /** Batch norm after the core layer (default true, as NiftyNet); `featureNormalization` takes precedence. */
  readonly withBn?: boolean;
  /** NiftyNet 0.6's `feature_normalization` (default "batch"; null for none). */
  readonly featureNormalization?: FeatureNormalization;
  /** Number of groups for group norm (NiftyNet's `group_size`; only with `featureNormalization: "group"`). */
  readonly groupSize?: number;
  /** With instance norm: false normalises without learnt gamma/beta (brainchop's `_gn` layers). Default true. */
  readonly normAffine?: boolean;
  readonly actiFunc?: ActivationName;
  /** Also regularizes the normalisation's and the activation's parameters. */
  readonly wRegularizer?: Regularizer;
  readonly movingDecay?: number;
  readonly eps?: number;
  /** Dropout keep probability; no dropout when absent. */
  readonly keepProb?: number;
}

/** What a {@link CompositeLayer} subclass wraps. */
export interface CompositeParts {
  /** Block name when the options give none. */
  readonly name: string;
  /** Builds the core layer (called once, after the block's name is checked). */
  readonly core: () => Layer;
  /** norm → activation → dropout → core instead of core → norm → activation → dropout. */
  readonly preactivation?: boolean;
}

/** NiftyNet's composite block around a core layer. */
export abstract class CompositeLayer extends Layer {
  /** Whether normalisation, activation and dropout come before the core layer. */
  readonly preactivation: boolean;
  readonly #core: Layer;
  readonly #norm?: Layer;
  readonly #acti?: ActiLayer;
  readonly #dropout?: DropoutLayer;

  constructor(options: CompositeOptions, parts: CompositeParts) {
    const base = options.name ?? parts.name;
    const norm = resolveNormalization(base, options);
    super(`${base}${normalizationSuffix(norm)}${options.actiFunc ? `_${options.actiFunc}` : ""}`);
    this.#core = parts.core();
    this.#norm = normalizationLayer(norm, {
      regularizer: options.wRegularizer,
      movingDecay: options.movingDecay,
      eps: options.eps,
      groupSize: options.groupSize,
      affine: options.normAffine,
    });
    if (options.actiFunc) {
      this.#acti = new ActiLayer(options.actiFunc, { name: "acti_", regularizer: options.wRegularizer });
    }
    if (options.keepProb !== undefined) this.#dropout = new DropoutLayer(options.keepProb);
    this.preactivation = parts.preactivation ?? false;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const post = (t: tf.Tensor) => {
      if (this.#norm instanceof BNLayer && this.#acti) t = this.#norm.applyActivated(scope, t, this.#acti);
      else {
        if (this.#norm) t = this.#norm.apply(scope, t);
        if (this.#acti) t = this.#acti.apply(scope, t);
      }
      if (this.#dropout) t = this.#dropout.apply(scope, t);
      return t;
    };
    return this.preactivation ? this.#core.apply(scope, post(x)) : post(this.#core.apply(scope, x));
  }
}
