/**
 * Fixes for tfjs-backend-webgpu 4.22 (Deno, browsers) and tfjs-backend-webgl 4.22 (browsers), so that every kernel
 * the layers and networks use gives the cpu backend's answer: rank-5 `PadV2`/`MirrorPad`/`Tile`/`Reverse`/`Select`
 * done as lower-rank ops, resize gradients that honour `halfPixelCenters`, and `Tanh`, `Expm1`, `Elu`, `Selu` and
 * `Log1p` that are accurate near zero. Each is built from device ops (no synchronous readback). Installed by
 * `registerKernelFixes`.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import type { GpuBackend } from "./_compose.ts";
import { mirrorPadConfig, padV2Config, reverseConfig, tileConfig } from "./pad.ts";
import { selectConfig } from "./select.ts";
import { tanhConfig } from "./tanh.ts";
import { eluConfig, expm1Config, log1pConfig, seluConfig } from "./near_zero.ts";
import { resizeBilinearGradConfig, resizeNearestGradConfig } from "./resize_grad.ts";

export type { GpuBackend } from "./_compose.ts";

/** The kernels to install on `backend` (each captures the stock kernel it falls back to, so build them once). */
export function gpuKernelFixes(backend: GpuBackend): tf.KernelConfig[] {
  return [
    padV2Config(backend),
    mirrorPadConfig(backend),
    tileConfig(backend),
    reverseConfig(backend),
    selectConfig(backend),
    tanhConfig(backend),
    expm1Config(backend),
    eluConfig(backend),
    seluConfig(backend),
    log1pConfig(backend),
    resizeBilinearGradConfig(backend),
    resizeNearestGradConfig(backend),
  ];
}
