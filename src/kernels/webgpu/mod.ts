/**
 * Fixes for tfjs-backend-webgpu 4.22 under Deno, so that every kernel the layers and networks use gives the cpu
 * backend's answer: rank-5 `PadV2`/`MirrorPad`/`Tile`/`Reverse`/`Select` done as lower-rank ops, resize gradients that honour
 * `halfPixelCenters`, and `Tanh`, `Expm1`, `Elu`, `Selu` and `Log1p` that are accurate near zero. Each is built from device ops (no synchronous readback). Installed by `registerKernelFixes`.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import { mirrorPadConfig, padV2Config, reverseConfig, tileConfig } from "./pad.ts";
import { selectConfig } from "./select.ts";
import { tanhConfig } from "./tanh.ts";
import { eluConfig, expm1Config, log1pConfig, seluConfig } from "./near_zero.ts";
import { resizeBilinearGradConfig, resizeNearestGradConfig } from "./resize_grad.ts";

/** The webgpu kernels to install (each captures the stock kernel it falls back to, so build them once). */
export function webgpuKernelFixes(): tf.KernelConfig[] {
  return [
    padV2Config(),
    mirrorPadConfig(),
    tileConfig(),
    reverseConfig(),
    selectConfig(),
    tanhConfig(),
    expm1Config(),
    eluConfig(),
    seluConfig(),
    log1pConfig(),
    resizeBilinearGradConfig(),
    resizeNearestGradConfig(),
  ];
}
