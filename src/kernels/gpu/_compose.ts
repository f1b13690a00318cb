/**
 * Private helper of the GPU fixes: run a kernel as a composition of tfjs ops on the kernel's own inputs, keeping
 * the stock kernel for the cases it gets right.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { asTensor } from "../_util.ts";

/** A kernel body written with tfjs ops on Tensors; the result becomes the kernel's output. */
export type ComposedKernel = (inputs: Record<string, tf.Tensor>, attrs: tf.NamedAttrMap) => tf.Tensor;

/** The GPU backends these fixes are installed on. */
export type GpuBackend = "webgpu" | "webgl";

/**
 * A kernel config for `backend` that runs `composed` when `applies(inputs, attrs)` and the backend's stock kernel
 * (captured now, before it is replaced) otherwise. Inner ops dispatch to the registry again, so a composed kernel
 * may call its own op on inputs the stock kernel handles.
 */
export function composedKernel(
  kernelName: string,
  applies: (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => boolean,
  composed: ComposedKernel,
  backend: GpuBackend,
): tf.KernelConfig {
  const stock = tf.getKernel(kernelName, backend);
  return {
    kernelName,
    backendName: backend,
    kernelFunc: (args) => {
      if (stock !== undefined && !applies(args.inputs, args.attrs ?? {})) return stock.kernelFunc(args);
      const wrapped = Object.entries(args.inputs).map(([name, info]) => [name, asTensor(info!)] as const);
      try {
        return tf.tidy(() => composed(Object.fromEntries(wrapped.map(([n, w]) => [n, w.tensor])), args.attrs ?? {}));
      } finally {
        wrapped.forEach(([, w]) => w.owned && w.tensor.dispose());
      }
    },
  };
}
