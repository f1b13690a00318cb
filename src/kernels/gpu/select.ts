/**
 * webgpu and webgl `Select` (`tf.where`) for rank > 4: tfjs-backend-webgpu 4.22 throws "Where for rank 5 is not yet
 * supported" (tfjs-backend-webgl too), which breaks e.g. the gradients of leaky ReLU and SELU on 3D feature maps. `Select` is elementwise,
 * so the tensors are flattened (to rank 1 when the condition has the values' shape, to [n, rest] when it is the
 * rank-1 per-row condition) and the result reshaped back.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { composedKernel, type GpuBackend } from "./_compose.ts";

/** `Select` on a GPU backend. */
export function selectConfig(backend: GpuBackend): tf.KernelConfig {
  return composedKernel("Select", (inputs) => inputs.t!.shape.length > 4, ({ condition, t, e }) => {
    const flat = condition.rank === 1 ? [t.shape[0], -1] : [-1];
    return tf.reshape(
      tf.where(tf.reshape(condition, condition.rank === 1 ? [-1] : flat), tf.reshape(t, flat), tf.reshape(e, flat)),
      t.shape,
    );
  }, backend);
}
