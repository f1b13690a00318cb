/**
 * Observing the kernels a computation runs, through the tfjs engine's public `runKernel` (wrapped only for the call).
 *
 * @module
 */
import { tf } from "../deps.ts";

/** Told about each top-level kernel call: its name, named inputs, attributes and outputs. */
export type KernelObserver = (
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: unknown,
  outputs: tf.Tensor[],
) => void;

type RunKernel = (name: string, inputs: Record<string, tf.Tensor>, attrs?: unknown) => tf.Tensor | tf.Tensor[];

/**
 * Runs `fn` while `observe` is told about every top-level kernel call (kernels that a kernel runs inside itself are
 * not reported); the engine is restored afterwards, also when `fn` throws.
 *
 * @example
 * ```ts
 * const names: string[] = [];
 * withKernelObserver((name) => names.push(name), () => tf.tidy(() => tf.relu(tf.ones([2]))));
 * ```
 */
export function withKernelObserver<T>(observe: KernelObserver, fn: () => T): T {
  const engine = tf.engine() as unknown as { runKernel: RunKernel };
  const original = engine.runKernel;
  let depth = 0;
  engine.runKernel = function (this: unknown, name, inputs, attrs) {
    depth++;
    try {
      const out = original.call(this, name, inputs, attrs);
      if (depth === 1) observe(name, inputs, attrs, Array.isArray(out) ? out : [out]);
      return out;
    } finally {
      depth--;
    }
  };
  try {
    return fn();
  } finally {
    engine.runKernel = original;
  }
}
