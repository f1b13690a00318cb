/**
 * Choosing a backend to train on in the browser. Stock tfjs wasm computes conv3d input gradients wrongly, and
 * webgl/webgpu need NiftyTS's kernel fixes (`src/kernels/gpu`); a wrong gradient trains silently to nonsense. So
 * before training, the asked backend (with the fixes installed by {@link useBrowserBackend}) must reproduce cpu's
 * gradients of a small dilated 3D convolution stack (MeshNet's layer: conv3d with dilation, bias, ReLU) for the
 * input and the filters; if it does not, or does not start, training runs on cpu, whose gradients are correct.
 *
 * @module
 */
import { tf } from "../src/deps.ts";
import { type BrowserBackend, useBrowserBackend } from "./backend.ts";

/** The backend training uses and why (shown in the page). */
export interface TrainingBackend {
  readonly backend: BrowserBackend;
  readonly note: string;
}

/** Largest gradient difference to cpu's, relative to cpu's largest gradient, that still counts as equal. */
const TOLERANCE = 1e-3;

/** The gradients of a conv3d → bias → ReLU → dilated conv3d stack for its input and both filters, concatenated. */
async function probe(): Promise<number[]> {
  const all = tf.tidy(() => {
    const x = tf.tensor5d(Float32Array.from({ length: 6 ** 3 * 2 }, (_, i) => Math.sin(i * 0.7)), [1, 6, 6, 6, 2]);
    const w1 = tf.tensor5d(Float32Array.from({ length: 27 * 6 }, (_, i) => Math.cos(i * 1.3) * 0.3), [3, 3, 3, 2, 3]);
    const w2 = tf.tensor5d(Float32Array.from({ length: 27 * 9 }, (_, i) => Math.sin(i * 0.9) * 0.3), [3, 3, 3, 3, 3]);
    const b = tf.tensor1d([0.1, -0.2, 0.05]);
    const weights = tf.tensor5d(Float32Array.from({ length: 6 ** 3 * 3 }, (_, i) => Math.cos(i)), [1, 6, 6, 6, 3]);
    const f = (a: tf.Tensor, k1: tf.Tensor, k2: tf.Tensor) => {
      const h = tf.relu(tf.add(tf.conv3d(a as tf.Tensor5D, k1 as tf.Tensor5D, 1, "same"), b));
      const y = tf.conv3d(h as tf.Tensor5D, k2 as tf.Tensor5D, 1, "same", "NDHWC", [2, 2, 2]);
      return tf.sum(tf.mul(y, weights));
    };
    return tf.concat(tf.grads(f)([x, w1, w2]).map((g) => tf.reshape(g, [-1])));
  });
  try {
    return Array.from(await all.data());
  } finally {
    all.dispose();
  }
}

/**
 * Switches to `asked` when its gradients match cpu's, else to cpu; returns the backend in use and a line saying
 * which and why.
 */
export async function useTrainingBackend(asked: BrowserBackend): Promise<TrainingBackend> {
  await useBrowserBackend("cpu");
  const reference = await probe();
  if (asked === "cpu") return { backend: "cpu", note: "training on cpu (reference gradients)" };
  let reason: string;
  try {
    await useBrowserBackend(asked);
    const got = await probe();
    const scale = Math.max(...reference.map(Math.abs));
    const diff = Math.max(...got.map((v, i) => Math.abs(v - reference[i])));
    if (diff <= TOLERANCE * scale) {
      return {
        backend: asked,
        note: `training on ${asked}: its conv3d gradients match cpu's (max difference ${diff.toExponential(1)})`,
      };
    }
    reason = `its conv3d gradients differ from cpu's by ${diff.toExponential(1)}`;
  } catch (e) {
    reason = (e as Error).message;
  }
  await useBrowserBackend("cpu");
  return { backend: "cpu", note: `training on cpu: ${asked} cannot be trusted to train (${reason})` };
}
