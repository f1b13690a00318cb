/**
 * A tiny classifier network plugin for the classification tests (loaded by module path from the config):
 * per-channel spatial mean and max → dense layer → `[batch, numClasses]` logits.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, type Scope } from "../src/dsl/mod.ts";

/** The plugin network (default export, constructed with NiftyNet's network options). */
export default class TinyClassifier extends Layer<[tf.Tensor], tf.Tensor> {
  readonly #classes: number;

  constructor(options: { numClasses: number }) {
    super("TinyClassifier");
    this.#classes = options.numClasses;
  }

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const axes = Array.from({ length: x.rank - 2 }, (_, i) => i + 1);
    const features = tf.concat([tf.mean(x, axes), tf.max(x, axes)], 1) as tf.Tensor2D;
    const w = scope.variable("w", [features.shape[1], this.#classes], { initializer: "glorot_uniform" });
    const b = scope.variable("b", [this.#classes], { initializer: "zeros" });
    return tf.add(tf.matMul(features, w as tf.Tensor2D), b);
  }
}
