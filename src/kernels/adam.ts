/**
 * One Adam update (PyTorch's rule, NiftyTS's `AdamOptimizer`) as one kernel for host-memory backends (cpu, wasm):
 * new weights and both moment slots in one pass. The op formula runs eleven kernels per variable, each with its own
 * dispatch and full-size temporary; on a small network that was about a seventh of the training step.
 *
 * Bit-identical to the op formula on cpu: every operation is rounded to float32 where the formula's kernel stores
 * its result, and every scalar operand is the float32 the formula's scalar tensor holds.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { kernelInput, readFloat32, writeOutput } from "./_util.ts";

/** Kernel name (ours). */
export const ADAM_UPDATE = "NiftyAdamUpdate";

/** Hyper-parameters of one update; `step` counts from 1. */
export interface AdamStep {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly step: number;
}

const f32 = Math.fround;

/** The update on host arrays: returns new weights, m and v (inputs untouched). */
export function adamUpdateHost(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  { learningRate, beta1, beta2, epsilon, step }: AdamStep,
): { w: Float32Array; m: Float32Array; v: Float32Array } {
  // the scalars exactly as the formula's scalar tensors hold them
  const b1 = f32(beta1), c1 = f32(1 - beta1), b2 = f32(beta2), c2 = f32(1 - beta2), eps = f32(epsilon);
  const rootBias2 = f32(Math.sqrt(1 - beta2 ** step)), rate = f32(learningRate / (1 - beta1 ** step));
  const wOut = new Float32Array(w.length), mOut = new Float32Array(w.length), vOut = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = f32(f32(b1 * m[i]) + f32(c1 * gi));
    const vi = f32(f32(b2 * v[i]) + f32(c2 * f32(gi * gi)));
    const denominator = f32(f32(f32(Math.sqrt(vi)) / rootBias2) + eps);
    mOut[i] = mi;
    vOut[i] = vi;
    wOut[i] = f32(w[i] - f32(rate * f32(mi / denominator)));
  }
  return { w: wOut, m: mOut, v: vOut };
}

/** The kernel: inputs w, g, m, v (float32, one shape); attrs {@link AdamStep}; outputs [w, m, v]. */
export function adamUpdateConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: ADAM_UPDATE,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const be = backend as tf.KernelBackend;
      const input = (name: string) => kernelInput(inputs, name, ADAM_UPDATE);
      const w = input("w");
      const read = (name: string) => {
        const info = input(name);
        if (info.shape.join() !== w.shape.join()) {
          throw new Error(`${ADAM_UPDATE}: ${name} has shape [${info.shape}], the weights [${w.shape}]`);
        }
        return readFloat32(be, info, name);
      };
      const r = adamUpdateHost(read("w"), read("g"), read("m"), read("v"), attrs as unknown as AdamStep);
      return [
        writeOutput(be, r.w, [...w.shape]),
        writeOutput(be, r.m, [...w.shape]),
        writeOutput(be, r.v, [...w.shape]),
      ];
    },
  };
}
