/** Shared helpers of the kernel tests: the backends every gradient check runs on, and the PyTorch tolerance. */
import { tf } from "../src/deps.ts";
import { assertClose } from "./_util.ts";

/** Every backend we claim trains correctly gets each check (TFJS_NOTES: cpu-only checks hid wasm bugs). */
export const BACKENDS = ["cpu", "wasm"];

/** Runs synchronous `fn` on backend `name` inside `tf.tidy`, then switches back to cpu. */
export async function onBackend(name: string, fn: () => void): Promise<void> {
  await onBackendAsync(name, () => tf.tidy(fn));
}

/** Runs `fn` (which disposes its own tensors) on backend `name`, then switches back to cpu. */
export async function onBackendAsync(name: string, fn: () => void | Promise<void>): Promise<void> {
  await tf.setBackend(name);
  try {
    await fn();
  } finally {
    await tf.setBackend("cpu");
  }
}

/** float32 vs the float64 reference: rtol 1e-4, plus an absolute floor of 1e-5 of the tensor's scale. */
export function matchesTorch(actual: tf.Tensor, expected: number[], what: string): void {
  const scale = Math.max(...expected.map(Math.abs));
  assertClose(actual, expected, { rtol: 1e-4, atol: 1e-5 * scale, what });
}
