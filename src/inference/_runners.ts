/**
 * Runs one convolution stage of an inference chain on a slab: oneDNN with bias and activations fused into the
 * convolution, or tfjs ops on whatever backend is active (the fallback, and the reference of the tests).
 *
 * @module
 */
import { tf } from "../deps.ts";
import { type ConvSpec, type FusedConvPlan, fusedConvPlanner } from "../kernels/fast/mod.ts";
import type { ConvStage } from "./_trace.ts";

/** Computes `y = stage(x)` for one slab whose geometry (sizes and pads) is `spec`. */
export interface StageRunner {
  readonly kind: "onednn" | "tfjs";
  run(stage: ConvStage, spec: ConvSpec, x: Float32Array, y: Float32Array): void;
  /** Frees what the runner built (oneDNN plans). */
  dispose(): void;
  /** oneDNN's implementation names, for reports. */
  implementations(): string[];
}

function specKey(spec: ConvSpec): string {
  return `${spec.inChannels},${spec.outChannels}|${spec.inSize}|${spec.outSize}|${spec.kernel}|${spec.dilations}|` +
    `${spec.padsBefore}|${spec.padsAfter}`;
}

/** oneDNN fused convolutions, or null when oneDNN is not active. */
export function onednnRunner(): StageRunner | null {
  const planner = fusedConvPlanner();
  if (planner === null) return null;
  const plans = new Map<ConvStage, Map<string, FusedConvPlan>>();
  return {
    kind: "onednn",
    run(stage, spec, x, y) {
      let perStage = plans.get(stage);
      if (!perStage) plans.set(stage, perStage = new Map());
      const key = specKey(spec);
      let plan = perStage.get(key);
      if (!plan) perStage.set(key, plan = planner(spec, stage.eltwise.map((e) => e.op)));
      plan.run(x, stage.w, stage.bias, y);
    },
    dispose() {
      plans.forEach((m) => m.forEach((p) => p.destroy()));
      plans.clear();
    },
    implementations:
      () => [...new Set([...plans.values()].flatMap((m) => [...m.values()].map((p) => p.implementation)))],
  };
}

function activate(op: ConvStage["eltwise"][number]["op"], t: tf.Tensor): tf.Tensor {
  const alpha = op.alpha ?? 0, beta = op.beta ?? 0;
  switch (op.alg) {
    case "relu":
      return alpha === 0 ? tf.relu(t) : tf.leakyRelu(t, alpha);
    case "elu":
      return alpha === 1 ? tf.elu(t) : tf.where(tf.greater(t, 0), t, tf.mul(alpha, tf.expm1(t)));
    case "tanh":
      return tf.tanh(t);
    case "logistic":
      return tf.sigmoid(t);
    case "linear":
      return tf.add(tf.mul(t, alpha), beta);
    case "boundedRelu":
      return tf.clipByValue(t, 0, alpha);
    case "geluTanh":
    case "geluErf":
      throw new Error(`activation ${op.alg} has no tfjs fallback here`);
  }
}

/** tfjs ops on the active backend: pad, valid convolution, bias, activations. */
export function tfjsRunner(): StageRunner {
  return {
    kind: "tfjs",
    run(stage, spec, x, y) {
      tf.tidy(() => {
        const input = tf.tensor(x, [1, ...spec.inSize, spec.inChannels]);
        const pads = [[0, 0], ...spec.padsBefore.map((p, i) => [p, spec.padsAfter[i]]), [0, 0]] as [number, number][];
        const padded = tf.pad(input, pads);
        const w = tf.tensor(stage.w, [...stage.wShape]);
        let out: tf.Tensor = spec.inSize.length === 3
          ? tf.conv3d(
            padded as tf.Tensor5D,
            w as tf.Tensor5D,
            1,
            "valid",
            "NDHWC",
            spec.dilations as [number, number, number],
          )
          : tf.conv2d(padded as tf.Tensor4D, w as tf.Tensor4D, 1, "valid", "NHWC", spec.dilations as [number, number]);
        out = tf.add(out, tf.tensor1d(stage.bias));
        for (const e of stage.eltwise) out = activate(e.op, out);
        y.set(out.dataSync() as Float32Array);
      });
    },
    dispose() {},
    implementations: () => [],
  };
}
