/**
 * One entry point that installs every tfjs 4.22 fix of this folder through tfjs's public registries.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { replaceKernel } from "./_util.ts";
import { registerConvGradients } from "./conv_grads.ts";
import { conv3dBackpropInputGradConfig } from "./conv_transpose.ts";
import { maxPool3dConfig, maxPoolGradConfig } from "./max_pool.ts";
import { batchNormTrainingConfig, batchNormTrainingGradConfig } from "./batch_norm.ts";
import { sparseSoftmaxXentConfig, sparseSoftmaxXentGradConfig } from "./softmax_xent.ts";
import { adamUpdateConfig } from "./adam.ts";
import { resizeBilinearGradConfig, resizeNearestGradConfig } from "./resize.ts";
import {
  wasmConv2dBackpropFilterConfig,
  wasmConv3dBackpropFilterConfig,
  wasmConv3dBackpropInputConfig,
} from "./wasm_conv.ts";
import { gpuKernelFixes } from "./gpu/mod.ts";
import "./fast/install.ts"; // oneDNN conv kernels on cpu (issue 8), stock kernels as fallback
import { withFastBatchNorm } from "./fast/register.ts";

/** Kernels replaced per backend: each backend's are installed once its package has registered its own kernels. */
const BACKEND_KERNELS: Readonly<Record<string, () => tf.KernelConfig[]>> = {
  cpu: () => [
    resizeBilinearGradConfig("cpu"),
    resizeNearestGradConfig("cpu"),
    // on oneDNN while the fast kernels are active, the TypeScript kernels otherwise
    withFastBatchNorm(batchNormTrainingConfig("cpu")),
    withFastBatchNorm(batchNormTrainingGradConfig("cpu")),
    sparseSoftmaxXentConfig("cpu"),
    sparseSoftmaxXentGradConfig("cpu"),
    adamUpdateConfig("cpu"),
  ],
  wasm: () => [
    batchNormTrainingConfig("wasm"),
    batchNormTrainingGradConfig("wasm"),
    sparseSoftmaxXentConfig("wasm"),
    sparseSoftmaxXentGradConfig("wasm"),
    adamUpdateConfig("wasm"),
    resizeBilinearGradConfig("wasm"),
    resizeNearestGradConfig("wasm"),
    wasmConv3dBackpropInputConfig,
    wasmConv3dBackpropFilterConfig,
    wasmConv2dBackpropFilterConfig,
    maxPool3dConfig("wasm"),
    maxPoolGradConfig("MaxPool3DGrad", "wasm"),
    maxPoolGradConfig("MaxPoolGrad", "wasm"),
  ],
  webgpu: () => gpuKernelFixes("webgpu"),
  webgl: () => gpuKernelFixes("webgl"),
};

let gradientsRegistered = false;
const patchedBackends = new Set<string>();

/**
 * Installs the NiftyTS fixes for tfjs 4.22, idempotently and without warnings on repeated calls:
 *
 * - gradients (all backends): `Conv3DBackpropInputV2` (so `tf.conv3dTranspose` trains); Conv2D/Conv3D with
 *   dilation > 1 (dilation 1 keeps tfjs's gradient);
 * - cpu and wasm: fused training batch norm and sparse softmax cross-entropy (forward and gradient kernels), and
 *   the Adam update as one kernel;
 * - cpu: `ResizeBilinearGrad` and `ResizeNearestNeighborGrad` that honour `halfPixelCenters` and have the right
 *   output shape;
 * - wasm: the same two resize gradients; `Conv3DBackpropInputV2` (conv3d dx, conv3dTranspose),
 *   `Conv3DBackpropFilterV2` (wrong with stride 2) and the missing `Conv2DBackpropFilter`, all rebuilt from the
 *   forward convolutions; `MaxPool3D`, `MaxPool3DGrad` and `MaxPoolGrad` that handle windows whose maximum is
 *   negative (wasm's return 1.18e−38 and drop their gradient).
 *
 * - webgpu and webgl (browsers): rank-5 `PadV2`, `MirrorPad`, `Tile`, `Reverse` and `Select` as lower-rank ops,
 *   resize gradients that honour `halfPixelCenters`, and `Tanh`, `Expm1`, `Elu`, `Selu`, `Log1p` accurate near zero
 *   (`gpu/mod.ts`).
 *
 * A backend's kernels are replaced only once its package has been imported (else its own registration, coming
 * later, would win), so call this after loading and selecting a backend; later calls patch newly loaded ones.
 *
 * @example
 * ```ts
 * await tf.setBackend("wasm");
 * registerKernelFixes();
 * ```
 */
export function registerKernelFixes(): void {
  if (!gradientsRegistered) {
    gradientsRegistered = true;
    registerConvGradients();
    tf.registerGradient(conv3dBackpropInputGradConfig);
  }
  for (const [backend, kernels] of Object.entries(BACKEND_KERNELS)) {
    if (patchedBackends.has(backend) || tf.getKernel("Conv3D", backend) === undefined) continue;
    kernels().forEach(replaceKernel);
    patchedBackends.add(backend);
  }
}

/** Backends whose kernels `registerKernelFixes` has replaced so far (for the backend selector's report). */
export function fixedBackends(): string[] {
  return [...patchedBackends].sort();
}

/**
 * Whether the current backend has kernel `name` once the fixes are installed: the fused NiftyTS kernels exist on the
 * host-memory backends (cpu, wasm) only, and callers fall back to the op formula elsewhere.
 */
export function backendHasKernel(name: string): boolean {
  registerKernelFixes();
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}
