/**
 * webgpu and webgl `Tanh` accurate near zero. tfjs-backend-webgpu 4.22 computes sign(a)·(1 − e)/(1 + e) with e = exp(−2|a|),
 * which cancels for small |a|: at |a| ≈ 5e−7 the result is off by ~7% (measured: −5.36e−7 for cpu's −4.90e−7), so
 * a generator whose last layer sees small activations gives wrong images. Below |a| = 1/16 the Taylor series
 * a·(1 − a²/3 + 2a⁴/15 − 17a⁶/315) is used instead (next term < 1e−12 relative there); above, the stock kernel
 * (which then loses at most 3 bits).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { composedKernel, type GpuBackend } from "./_compose.ts";

/** Where the series takes over from the stock kernel. */
const SERIES_BELOW = 1 / 16;

/** `Tanh` on a GPU backend. */
export function tanhConfig(backend: GpuBackend): tf.KernelConfig {
  const stock = tf.getKernel("Tanh", backend);
  return composedKernel("Tanh", () => true, ({ x }) => {
    const big = stock!.kernelFunc({ inputs: { x }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo;
    const far = tf.engine().makeTensorFromTensorInfo(big);
    const x2 = tf.square(x);
    const poly = tf.sub(1, tf.mul(x2, tf.sub(1 / 3, tf.mul(x2, tf.sub(2 / 15, tf.mul(x2, 17 / 315))))));
    return tf.where(tf.less(tf.abs(x), SERIES_BELOW), tf.mul(x, poly), far);
  }, backend);
}
