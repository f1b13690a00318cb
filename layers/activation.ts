/**
 * Element-wise activations, NiftyNet's `ActiLayer` (plus the exact, erf-based `gelu` brainchop's mindgrab uses): the scope is named `<func>_<name>` (`relu_acti_`), and
 * `prelu` owns a per-channel variable `alpha` initialized to 0.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";
import type { Regularizer } from "../src/dsl/mod.ts";

/** Activation names NiftyNet accepts (`acti_func`). */
export type ActivationName =
  | "relu"
  | "relu6"
  | "elu"
  | "gelu"
  | "softplus"
  | "softsign"
  | "sigmoid"
  | "tanh"
  | "prelu"
  | "selu"
  | "leakyrelu";

/** Every activation name, for validation. */
export const ACTIVATIONS: readonly ActivationName[] = [
  "relu",
  "relu6",
  "elu",
  "gelu",
  "softplus",
  "softsign",
  "sigmoid",
  "tanh",
  "prelu",
  "selu",
  "leakyrelu",
];

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Applies an activation without scope (prelu needs its alpha passed in). */
export function activate(func: Exclude<ActivationName, "prelu">, x: tf.Tensor): tf.Tensor {
  switch (func) {
    case "relu":
      return tf.relu(x);
    case "relu6":
      return tf.relu6(x);
    case "elu":
      return tf.elu(x);
    case "gelu":
      // The exact GELU (Keras's default, approximate=False): x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.div(x, Math.SQRT2))));
    case "softplus":
      return tf.softplus(x);
    case "softsign":
      return tf.div(x, tf.add(1, tf.abs(x)));
    case "sigmoid":
      return tf.sigmoid(x);
    case "tanh":
      return tf.tanh(x);
    case "selu":
      return tf.mul(SELU_SCALE, tf.where(tf.greaterEqual(x, 0), x, tf.mul(SELU_ALPHA, tf.elu(x))));
    case "leakyrelu":
      // NiftyNet's leaky relu: (0.5 + 0.01)·x + (0.5 − 0.01)·|x|, i.e. slope 0.02 below zero.
      return tf.add(tf.mul(0.51, x), tf.mul(0.49, tf.abs(x)));
  }
}

/** An activation layer; `prelu` learns one negative slope per channel. */
export class ActiLayer extends Layer {
  readonly func: ActivationName;
  readonly regularizer?: Regularizer;

  constructor(
    func: ActivationName,
    { name = "activation", regularizer }: { name?: string; regularizer?: Regularizer } = {},
  ) {
    if (!ACTIVATIONS.includes(func)) {
      throw new Error(`unknown activation "${func}": expected one of ${ACTIVATIONS.join(", ")}`);
    }
    super(`${func}_${name}`);
    this.func = func;
    this.regularizer = regularizer;
  }

  /** Set while {@link ActiLayer.slopes} has the scope opened only to reach `alpha`. */
  #capture?: (alpha: tf.Variable) => void;

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    if (this.func !== "prelu") return activate(this.func, x);
    const alpha = scope.variable("alpha", [x.shape[x.rank - 1]], {
      initializer: "zeros",
      regularizer: this.regularizer,
    });
    if (this.#capture) {
      this.#capture(alpha);
      return x;
    }
    // relu(x) + alpha·(x − |x|)/2, the NiftyNet formulation.
    return tf.add(tf.relu(x), tf.mul(alpha, tf.mul(0.5, tf.sub(x, tf.abs(x)))));
  }

  /**
   * The prelu slopes `alpha` this layer uses in `parent` for input `x` (created on first use), without applying
   * the activation: for ops that fuse it (batch norm + prelu, `BNLayer.applyActivated`).
   */
  slopes(parent: Scope, x: tf.Tensor): tf.Variable {
    if (this.func !== "prelu") throw new Error(`${this.name}: only prelu has slopes, this is ${this.func}`);
    let alpha: tf.Variable | undefined;
    this.#capture = (found) => alpha = found;
    try {
      this.apply(parent, x);
    } finally {
      this.#capture = undefined;
    }
    return alpha!;
  }
}

/** Dropout with keep probability `keepProb`, active only in training mode (seeded per application). */
export class DropoutLayer extends Layer {
  constructor(readonly keepProb: number, { name = "dropout_", seed }: { name?: string; seed?: number } = {}) {
    if (!(keepProb > 0 && keepProb <= 1)) {
      throw new Error(`dropout keep probability must be in (0, 1], got ${keepProb}`);
    }
    super(name);
    this.seed = seed;
  }
  readonly seed?: number;

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    return scope.training && this.keepProb < 1 ? tf.dropout(x, 1 - this.keepProb, undefined, this.seed) : x;
  }
}
