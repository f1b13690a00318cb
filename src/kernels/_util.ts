/**
 * Private helpers shared by the kernel fixes: registry replacement, padding/cropping of spatial axes, and access to
 * the host-memory data of kernel inputs.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** Registers `config`, first removing any kernel of the same name and backend (so tfjs prints no warning). */
export function replaceKernel(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName) !== undefined) {
    tf.unregisterKernel(config.kernelName, config.backendName);
  }
  tf.registerKernel(config);
}

/** Normalises a per-axis parameter given as one number or a tuple to `rank` numbers (default 1 each). */
export function perAxis(value: number | readonly number[] | undefined, rank: number, what = "value"): number[] {
  if (value === undefined) return new Array(rank).fill(1);
  if (typeof value === "number") return new Array(rank).fill(value);
  if (value.length !== rank) {
    throw new Error(`${what}: expected ${rank} values (one per axis), got [${value.join(", ")}]`);
  }
  return [...value];
}

/**
 * Pads (positive amounts) or crops (negative amounts) the spatial axes 1..r of a channels-last tensor with zeros;
 * `before[i]`/`after[i]` apply to spatial axis i.
 */
export function padOrCrop<T extends tf.Tensor>(t: T, before: readonly number[], after: readonly number[]): T {
  return tf.tidy(() => {
    const r = before.length;
    const begin = [0, ...before.map((b) => Math.max(-b, 0)), 0];
    const size = t.shape.map((n, i) =>
      i === 0 || i === r + 1 ? n : n - Math.max(-before[i - 1], 0) - Math.max(-after[i - 1], 0)
    );
    let out: tf.Tensor = t;
    if (begin.some((b) => b > 0) || size.some((n, i) => n !== t.shape[i])) out = tf.slice(out, begin, size);
    const pads = [[0, 0], ...before.map((b, i) => [Math.max(b, 0), Math.max(after[i], 0)]), [0, 0]] as Array<
      [number, number]
    >;
    if (pads.some(([a, b]) => a > 0 || b > 0)) out = tf.pad(out, pads);
    return out as T;
  });
}

/** A kernel input as a Tensor (the engine passes Tensors; plain TensorInfos are wrapped and must be disposed). */
export function asTensor(info: tf.TensorInfo): { tensor: tf.Tensor; owned: boolean } {
  if (info instanceof tf.Tensor) return { tensor: info, owned: false };
  return { tensor: tf.engine().makeTensorFromTensorInfo(info), owned: true };
}

/** Reads a float32 kernel input held by a host-memory backend (cpu, wasm). */
export function readFloat32(backend: tf.KernelBackend, info: tf.TensorInfo, what: string): Float32Array {
  if (info.dtype !== "float32") throw new Error(`${what} must be float32, got ${info.dtype}`);
  return backend.readSync(info.dataId) as Float32Array;
}

/** Hands a host array to `backend` as a new kernel output. */
export function writeOutput(
  backend: tf.KernelBackend,
  values: Float32Array,
  shape: number[],
): tf.TensorInfo {
  return { dataId: backend.write(values, shape, "float32"), shape, dtype: "float32" };
}

/** The kernel input `name`, or a clear error naming the kernel when it is missing. */
export function kernelInput(inputs: tf.NamedTensorInfoMap, name: string, kernel: string): tf.TensorInfo {
  const info = inputs[name];
  if (info === undefined) throw new Error(`${kernel}: missing input "${name}"`);
  return info;
}
