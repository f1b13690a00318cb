/**
 * NiftyNet's `ElementwiseLayer` (scope `<name>_sum` / `<name>_concat`, default name `residual`): combines a
 * parametric flow with a bypass flow.
 *
 * - `SUM`: when the bypass has fewer channels, it is zero-padded on the channel axis (⌊diff/2⌋ before, the rest
 *   after); when it has more, it is projected by a 1×1(×1) convolution `proj/w` (no bias) to the flow's channels.
 * - `CONCAT`: channel concatenation [flow, bypass].
 *
 * The spatial shapes must agree.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type InitializerName, type InitializerSpec, Layer, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { ConvLayer } from "./convolution.ts";
import { spatialRank } from "./_util.ts";

/** Operations of {@link ElementwiseLayer}. */
export type ElementwiseOp = "SUM" | "CONCAT";

/** Options of {@link ElementwiseLayer}. */
export interface ElementwiseOptions {
  readonly name?: string;
  /** Initializer of the projection kernel (NiftyNet's conv default when absent). */
  readonly initializer?: InitializerName | InitializerSpec;
  readonly regularizer?: Regularizer;
}

/** Sum or concatenation of two flows with channel-mismatch handling. */
export class ElementwiseLayer extends Layer<[tf.Tensor, tf.Tensor]> {
  readonly func: ElementwiseOp;
  readonly options: ElementwiseOptions;
  #projector?: ConvLayer;

  constructor(func: ElementwiseOp | Lowercase<ElementwiseOp>, options: ElementwiseOptions = {}) {
    const op = func.toUpperCase();
    if (op !== "SUM" && op !== "CONCAT") {
      throw new Error(`unknown elementwise operation "${func}": expected SUM or CONCAT`);
    }
    super(`${options.name ?? "residual"}_${op.toLowerCase()}`);
    this.func = op;
    this.options = options;
  }

  forward(scope: Scope, paramFlow: tf.Tensor, bypassFlow: tf.Tensor): tf.Tensor {
    spatialRank(paramFlow, scope.path);
    const a = paramFlow.shape.slice(0, -1), b = bypassFlow.shape.slice(0, -1);
    if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
      throw new Error(
        `${scope.path}: flows must agree in batch and spatial shape, got [${paramFlow.shape}] and [${bypassFlow.shape}]`,
      );
    }
    if (this.func === "CONCAT") return tf.concat([paramFlow, bypassFlow], -1);
    const nParam = paramFlow.shape[paramFlow.rank - 1], nBypass = bypassFlow.shape[bypassFlow.rank - 1];
    let bypass = bypassFlow;
    if (nParam > nBypass) {
      const before = Math.floor((nParam - nBypass) / 2);
      const pads = bypassFlow.shape.map((): [number, number] => [0, 0]);
      pads[pads.length - 1] = [before, nParam - nBypass - before];
      bypass = tf.pad(bypassFlow, pads);
    } else if (nParam < nBypass) {
      // One projector per layer object, so applying the layer again shares its weights.
      this.#projector ??= new ConvLayer(nParam, {
        name: "proj",
        kernelSize: 1,
        stride: 1,
        padding: "same",
        wInitializer: this.options.initializer,
        wRegularizer: this.options.regularizer,
      });
      bypass = this.#projector.apply(scope, bypassFlow);
    }
    const sum = residualAdd(paramFlow, bypass);
    // a padded bypass is ours and needed by nothing else (the sum and the pad's gradient save nothing)
    if (bypass !== bypassFlow && nParam > nBypass) bypass.dispose();
    return sum;
  }
}

/**
 * `a + b` for two tensors of one shape, saving nothing for the gradient (dy flows to both). tfjs's Add keeps both
 * inputs alive until the backward pass only to read their shapes: a full-size tensor per residual block.
 */
const residualAdd = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => [dy, tf.clone(dy)],
})) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
