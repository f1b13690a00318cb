/**
 * Batch normalisation, NiftyNet's `BNLayer`: variables `beta` (0), `gamma` (1) and non-trainable `moving_mean`
 * (0), `moving_variance` (1). Training uses the batch's mean and (biased) variance over every axis but the last and
 * updates the moving averages as `m ← m − (1 − decay)(m − batch)`; inference uses the moving averages.
 * Written out as (x − mean)·rsqrt(var + eps) because tfjs's batchNorm gradient fails on rank-5 inputs; in training
 * mode as one op with a hand-written gradient (the textbook batch-norm backward pass) that keeps only x and the
 * per-channel mean and 1/std, computed by fused kernels (src/kernels/batch_norm.ts) where the backend has them: the
 * op formula's full-size temporaries were most of the difference between tfjs's and PyTorch's peak memory on a 64³
 * U-Net step (1287 → ~780 MiB).
 *
 * `applyActivated` runs batch norm and the relu/prelu after it as one op in training mode (same scopes, variables
 * and values as the two layers): the normalised tensor is never kept, the op saves only x and the statistics, and
 * the backward pass needs no activation mask — three full-size tensors fewer per block in a training step.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { Layer, MOVING_STATISTICS, type Regularizer, type Scope } from "../src/dsl/mod.ts";
import { backendHasKernel, BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD } from "../src/kernels/mod.ts";
import type { ActiLayer } from "./activation.ts";

/** Options of {@link BNLayer}. */
export interface BNOptions {
  readonly name?: string;
  readonly regularizer?: Regularizer;
  readonly movingDecay?: number;
  readonly eps?: number;
}

/** Batch normalisation over all axes but channels. */
export class BNLayer extends Layer {
  readonly regularizer?: Regularizer;
  readonly movingDecay: number;
  readonly eps: number;

  constructor({ name = "bn_", regularizer, movingDecay = 0.9, eps = 1e-5 }: BNOptions = {}) {
    super(name);
    this.regularizer = regularizer;
    this.movingDecay = movingDecay;
    this.eps = eps;
  }

  /** Set while {@link BNLayer.applyActivated} has the scope opened only to reach the variables. */
  #capture?: (v: BNVariables) => void;

  forward(scope: Scope, x: tf.Tensor): tf.Tensor {
    const v = this.#variables(scope, x.shape[x.rank - 1]);
    if (this.#capture) {
      this.#capture(v);
      return x;
    }
    if (!scope.training) {
      // inference: one per-channel scale and shift (computed on the small statistics), two passes over x, not four
      const scale = tf.mul(tf.rsqrt(tf.add(v.movingVariance, this.eps)), v.gamma);
      const shift = tf.sub(v.beta, tf.mul(v.movingMean, scale));
      return tf.add(tf.mul(x, scale), shift);
    }
    const { y, mean, variance } = batchNormTraining(x, v.gamma, v.beta, this.eps);
    this.#updateMoving(v, mean, variance);
    return y;
  }

  /**
   * `acti.apply(scope, this.apply(scope, x))`, as one fused op in training mode where the backend has the fused
   * kernels and the activation is relu or prelu (the same scopes and variables either way).
   */
  applyActivated(scope: Scope, x: tf.Tensor, acti: ActiLayer): tf.Tensor {
    if (!scope.training || (acti.func !== "relu" && acti.func !== "prelu") || !fusedKernels()) {
      return acti.apply(scope, this.apply(scope, x));
    }
    let v: BNVariables | undefined;
    this.#capture = (found) => v = found;
    try {
      this.apply(scope, x);
    } finally {
      this.#capture = undefined;
    }
    const alpha = acti.func === "prelu" ? acti.slopes(scope, x) : undefined;
    const { y, mean, variance } = batchNormTraining(x, v!.gamma, v!.beta, this.eps, { alpha, relu: !alpha });
    this.#updateMoving(v!, mean, variance);
    return y;
  }

  #variables(scope: Scope, channels: number): BNVariables {
    const shape = [channels];
    const beta = scope.variable("beta", shape, { initializer: "zeros", regularizer: this.regularizer });
    const gamma = scope.variable("gamma", shape, { initializer: "ones", regularizer: this.regularizer });
    const state = { trainable: false, collections: [MOVING_STATISTICS] };
    const movingMean = scope.variable("moving_mean", shape, { initializer: "zeros", ...state });
    const movingVariance = scope.variable("moving_variance", shape, { initializer: "ones", ...state });
    return { beta, gamma, movingMean, movingVariance };
  }

  #updateMoving({ movingMean, movingVariance }: BNVariables, mean: tf.Tensor, variance: tf.Tensor): void {
    const decay = 1 - this.movingDecay;
    tf.tidy(() => {
      movingMean.assign(tf.sub(movingMean, tf.mul(decay, tf.sub(movingMean, mean))));
      movingVariance.assign(tf.sub(movingVariance, tf.mul(decay, tf.sub(movingVariance, variance))));
    });
    tf.dispose([mean, variance]);
  }
}

interface BNVariables {
  beta: tf.Variable;
  gamma: tf.Variable;
  movingMean: tf.Variable;
  movingVariance: tf.Variable;
}

/** Whether the current backend has the fused training kernels (cpu, wasm). */
function fusedKernels(): boolean {
  return backendHasKernel(BATCH_NORM_TRAINING);
}

/**
 * Training-mode batch norm over every axis but the last: `y = (x − mean)·rstd·gamma + beta` with the batch's mean
 * and biased variance. Returns the batch statistics too (kept; the caller disposes them). The gradient, with
 * x̂ = (x − mean)·rstd and N elements per channel: dβ = Σdy, dγ = Σdy·x̂, dx = γ·rstd/N·(N·dy − dβ − x̂·dγ).
 *
 * `relu: true`, or prelu slopes `alpha` (one per channel), apply that activation to y inside the same op (only
 * where the backend has the fused kernels: {@link BNLayer.applyActivated} checks).
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  { relu = false, alpha }: { relu?: boolean; alpha?: tf.Tensor } = {},
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (alpha || relu) return batchNormActivation(x, gamma, beta, eps, alpha);
  const axes = [...Array(x.rank - 1).keys()];
  const count = x.size / x.shape[x.rank - 1];
  const stats: { mean?: tf.Tensor; variance?: tf.Tensor } = {};
  // One pass over the data per direction where the backend has our fused kernels (cpu, wasm), else the op formula.
  const fused = fusedKernels();
  const engine = tf.engine();
  const op = tf.customGrad((input, g, b, save) => {
    const [xs, gs, bs] = [input, g, b] as tf.Tensor[];
    let value: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, rstd: tf.Tensor;
    if (fused) {
      [value, mean, variance, rstd] = engine.runKernel(BATCH_NORM_TRAINING, { x: xs, gamma: gs, beta: bs }, {
        eps,
      }) as tf.Tensor[];
    } else {
      ({ mean, variance } = tf.moments(xs, axes));
      rstd = tf.rsqrt(tf.add(variance, eps));
      value = tf.add(tf.mul(tf.mul(tf.sub(xs, mean), rstd), gs), bs);
    }
    // The statistics leave the op for the moving averages; keep() exempts them from the op's own tidy.
    stats.mean = tf.keep(mean);
    stats.variance = tf.keep(variance);
    (save as tf.GradSaveFunc)([xs, mean, rstd, gs]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sRstd, sGamma] = saved;
        if (fused) {
          return engine.runKernel(BATCH_NORM_TRAINING_GRAD, {
            dy,
            x: sx,
            mean: sMean,
            rstd: sRstd,
            gamma: sGamma,
          }) as tf.Tensor[];
        }
        const xhat = tf.mul(tf.sub(sx, sMean), sRstd);
        const dBeta = tf.sum(dy, axes);
        const dGamma = tf.sum(tf.mul(dy, xhat), axes);
        const dx = tf.mul(
          tf.mul(sGamma, tf.div(sRstd, count)),
          tf.sub(tf.sub(tf.mul(dy, count), dBeta), tf.mul(xhat, dGamma)),
        );
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: stats.mean!, variance: stats.variance! };
}

/** Batch norm + relu (no `alpha`) or + prelu as one op on the fused kernels; saves x, the statistics and parameters. */
function batchNormActivation(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  alpha: tf.Tensor | undefined,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  if (!fusedKernels()) {
    throw new Error(`batch norm with an activation needs fused kernels (backend ${tf.getBackend()})`);
  }
  const activation = alpha ? "prelu" : "relu";
  const engine = tf.engine();
  const stats: { mean?: tf.Tensor; variance?: tf.Tensor } = {};
  const inputs = alpha ? [x, gamma, beta, alpha] : [x, gamma, beta];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xs, gs, bs, as] = args as tf.Tensor[];
    const named: tf.NamedTensorMap = as ? { x: xs, gamma: gs, beta: bs, alpha: as } : { x: xs, gamma: gs, beta: bs };
    const [value, mean, variance, rstd] = engine.runKernel(BATCH_NORM_TRAINING, named, {
      eps,
      activation,
    }) as tf.Tensor[];
    stats.mean = tf.keep(mean);
    stats.variance = tf.keep(variance);
    save(as ? [xs, mean, rstd, gs, bs, as] : [xs, mean, rstd, gs, bs]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sRstd, sGamma, sBeta, sAlpha] = saved;
        const grads = engine.runKernel(BATCH_NORM_TRAINING_GRAD, {
          dy,
          x: sx,
          mean: sMean,
          rstd: sRstd,
          gamma: sGamma,
          beta: sBeta,
          ...(sAlpha ? { alpha: sAlpha } : {}),
        }, { activation }) as tf.Tensor[];
        return grads; // [dx, dGamma, dBeta(, dAlpha)], in the order of the inputs
      },
    };
  });
  const y = op(...inputs);
  return { y, mean: stats.mean!, variance: stats.variance! };
}
