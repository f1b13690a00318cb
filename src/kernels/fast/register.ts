/**
 * Installs the oneDNN convolution kernels on tfjs's cpu backend through the public kernel registry, keeping the
 * kernels they replace as their fallback, and reports what is installed.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { type Dnnl, DNNL_LIBRARY, openDnnl } from "./_dnnl_ffi.ts";
import {
  ConvPlanCache,
  dilatedFilterGradKernelConfig,
  FAST_CONV_KERNELS,
  fastConvKernelConfig,
} from "./cpu_conv_kernels.ts";
import { DILATED_FILTER_GRAD } from "../conv_grads.ts";
import { FAST_HOST_KERNELS, fastHostKernelConfig, type KernelCounts } from "./host_kernels.ts";
import { DnnlPasses } from "./dnnl_passes.ts";
import {
  buildConvPlan,
  buildFusedConvPlan,
  type ConvPlan,
  type ConvSpec,
  type EltwiseOp,
  type FusedConvOptions,
  type FusedConvPlan,
} from "./dnnl_conv.ts";
import {
  buildConcatPlan,
  buildPoolPlan,
  buildResamplePlan,
  type LayerPlan,
  type PoolSpec,
  type ResampleSpec,
} from "./dnnl_layers.ts";
import { BatchNormPlanCache } from "./dnnl_batch_norm.ts";
import { fastBatchNormKernelConfig } from "./cpu_batch_norm_kernels.ts";

/** Environment switch: `NIFTYTS_FAST_KERNELS=off` (or `0`, `stock`) keeps tfjs's stock cpu kernels. */
export const FAST_KERNELS_ENV = "NIFTYTS_FAST_KERNELS";

/** Options of {@link registerFastCpuKernels}. */
export interface FastKernelOptions {
  /** Shared object to open (default Debian's `libdnnl.so.2`). */
  readonly library?: string;
  /** Also install the TypeScript kernels for arithmetic, reductions, slicing and pooling (default true). */
  readonly host?: boolean;
}

/** What {@link registerFastCpuKernels} achieved. */
export interface FastKernelStatus {
  /** True when the cpu backend's convolutions run through oneDNN. */
  readonly active: boolean;
  /** Convolutions: `"onednn"` when active, else `"stock"` (tfjs's own kernels). */
  readonly kernel: "onednn" | "stock";
  readonly library: string;
  /** Why the oneDNN convolutions are not active. */
  readonly reason?: string;
  /** Kernel names currently replaced (convolutions and TypeScript host kernels). */
  readonly kernels: readonly string[];
}

interface Opened {
  dnnl: Dnnl;
  plans: ConvPlanCache;
  bnPlans: BatchNormPlanCache;
  passes: DnnlPasses;
}

const opened = new Map<string, Opened | Error>();
const warned = new Set<string>();
const installed = new Map<string, { ours: tf.KernelConfig; previous: tf.KernelConfig }>();
const counts: KernelCounts = Object.fromEntries(
  [...FAST_CONV_KERNELS, ...FAST_HOST_KERNELS].map((k) => [k, { fast: 0, fallback: 0 }]),
);
let status: FastKernelStatus = { active: false, kernel: "stock", library: DNNL_LIBRARY, kernels: [] };

function open(library: string): Opened | Error {
  let entry = opened.get(library);
  if (entry === undefined) {
    try {
      const dnnl = openDnnl(library);
      entry = {
        dnnl,
        plans: new ConvPlanCache(dnnl),
        bnPlans: new BatchNormPlanCache(dnnl),
        passes: new DnnlPasses(dnnl),
      };
    } catch (e) {
      entry = e instanceof Error ? e : new Error(String(e));
    }
    opened.set(library, entry);
  }
  return entry;
}

function disabledByEnv(): boolean {
  try {
    return ["off", "0", "false", "stock"].includes((Deno.env.get(FAST_KERNELS_ENV) ?? "").toLowerCase());
  } catch {
    return false; // no --allow-env: keep the default
  }
}

/** Installs `make(previous)` over the registered cpu kernel `name`, unless ours is already the registered one. */
function install(name: string, make: (previous: tf.KernelConfig) => tf.KernelConfig, fresh: boolean): void {
  const current = tf.getKernel(name, "cpu");
  if (current === undefined) return; // cpu backend not loaded yet: a later call installs
  const mine = installed.get(name);
  if (mine?.ours === current && !fresh) return;
  const previous = mine?.ours === current ? mine.previous : current;
  const ours = make(previous);
  tf.unregisterKernel(name, "cpu");
  tf.registerKernel(ours);
  installed.set(name, { ours, previous });
}

function uninstall(names: readonly string[]): void {
  for (const name of names) {
    const mine = installed.get(name);
    if (mine === undefined) continue;
    if (tf.getKernel(name, "cpu") === mine.ours) {
      tf.unregisterKernel(name, "cpu");
      tf.registerKernel(mine.previous);
    }
    installed.delete(name);
  }
}

/**
 * Makes tfjs's cpu backend fast for 3D training: Conv3D, Conv3DBackpropInputV2, Conv3DBackpropFilterV2, Conv2D,
 * Conv2DBackpropInput and Conv2DBackpropFilter run on oneDNN (Debian `libdnnl2`, PyTorch's CPU convolution
 * library; needs `--allow-ffi`); Add, Sub, Multiply, RealDiv, Sum, Mean, Slice, SplitV, Concat, PadV2, Transpose,
 * Reverse, MaxPool3DGrad, Relu, Step and Softmax get TypeScript loops without tfjs's per-element index arithmetic
 * (training batch norm goes to oneDNN too, through {@link withFastBatchNorm}; large float32 Add/Sub/Multiply/RealDiv,
 * Slice, SplitV, Concat, PadV2 and the dilated filter gradient's gathers run on oneDNN, on all cores). Every replaced kernel keeps the one it
 * replaced as fallback for calls it
 * does not take. Idempotent; installs again where something re-registered the stock kernels since. When oneDNN
 * cannot be opened the stock convolutions stay and one line says so (once per library). `NIFTYTS_FAST_KERNELS=off`
 * keeps every stock kernel.
 *
 * @example
 * ```ts
 * const status = registerFastCpuKernels();
 * console.log(status.kernel); // "onednn" where Debian's libdnnl2 is installed
 * ```
 */
export function registerFastCpuKernels(options: FastKernelOptions = {}): FastKernelStatus {
  const library = options.library ?? DNNL_LIBRARY;
  if (disabledByEnv()) {
    unregisterFastCpuKernels();
    status = { ...status, library, reason: `disabled by ${FAST_KERNELS_ENV}` };
    return status;
  }
  const entry = open(library);
  // large arrays of the host kernels run on oneDNN where it opened
  const passes = entry instanceof Error ? undefined : entry.passes;
  if (options.host ?? true) {
    for (const name of FAST_HOST_KERNELS) {
      install(name, (prev) => fastHostKernelConfig(name, prev, { counts, passes }), false);
    }
  } else {
    uninstall(FAST_HOST_KERNELS);
  }
  let reason: string | undefined;
  if (entry instanceof Error) {
    uninstall(FAST_CONV_KERNELS);
    removeDilatedFilterGrad();
    reason = `cannot open ${library} (${entry.message.split("\n")[0]})`;
    // outside Deno (a browser bundle) there is no FFI to miss: stay quiet
    if (!warned.has(library) && typeof Deno !== "undefined") {
      warned.add(library);
      console.warn(`niftyts: ${reason}; convolutions use tfjs's slow stock cpu kernels (install Debian libdnnl2)`);
    }
  } else {
    const switching = status.active && status.library !== library;
    for (const name of FAST_CONV_KERNELS) {
      install(name, (prev) => fastConvKernelConfig(name, prev, { plans: entry.plans, counts, passes }), switching);
    }
    // a kernel of our own (no stock one to replace): the direct filter gradient of dilated convolutions
    if (switching || tf.getKernel(DILATED_FILTER_GRAD, "cpu") === undefined) {
      if (tf.getKernel(DILATED_FILTER_GRAD, "cpu") !== undefined) tf.unregisterKernel(DILATED_FILTER_GRAD, "cpu");
      tf.registerKernel(dilatedFilterGradKernelConfig({ plans: entry.plans, counts, passes }));
    }
    if (!FAST_CONV_KERNELS.some((k) => installed.has(k))) reason = "the cpu backend has no conv kernels registered";
  }
  const kernels = [...installed.keys()];
  status = reason === undefined
    ? { active: true, kernel: "onednn", library, kernels }
    : { active: false, kernel: "stock", library, reason, kernels };
  return status;
}

function removeDilatedFilterGrad(): void {
  if (tf.getKernel(DILATED_FILTER_GRAD, "cpu") !== undefined) tf.unregisterKernel(DILATED_FILTER_GRAD, "cpu");
}

/** Puts back every kernel {@link registerFastCpuKernels} replaced (where ours are still the registered ones). */
export function unregisterFastCpuKernels(): void {
  uninstall([...installed.keys()]);
  removeDilatedFilterGrad();
  status = { active: false, kernel: "stock", library: status.library, reason: "unregistered", kernels: [] };
}

/** The current state, without changing anything. */
export function fastKernelStatus(): FastKernelStatus {
  return status;
}

/** Per-kernel counts of calls served by the fast path and handed to the fallback since start (or the last reset). */
export function fastKernelCounts(options: { reset?: boolean } = {}): KernelCounts {
  const snapshot = structuredClone(counts);
  if (options.reset) Object.values(counts).forEach((c) => (c.fast = c.fallback = 0));
  return snapshot;
}

/** The oneDNN implementations picked so far (e.g. `forward: brgconv:avx512_core`), for benchmark reports. */
export function fastKernelImplementations(): string[] {
  return [...opened.values()].flatMap((o) =>
    o instanceof Error
      ? []
      : [...o.plans.implementations(), ...o.bnPlans.implementations(), ...o.passes.implementations()]
  );
}

/** Builds oneDNN inference convolutions with bias and fused element-wise post-ops (see {@link fusedConvPlanner}). */
export type FusedConvPlanner = (
  spec: ConvSpec,
  eltwise: readonly EltwiseOp[],
  options?: FusedConvOptions,
) => FusedConvPlan;

/**
 * oneDNN's fused inference convolutions (conv + bias + activations in one pass) from the library the fast kernels
 * opened, or null when they are not active (no libdnnl, disabled by {@link FAST_KERNELS_ENV}). The caller owns the
 * plans it builds and destroys them.
 */
export function fusedConvPlanner(): FusedConvPlanner | null {
  if (!status.active) return null;
  const entry = opened.get(status.library);
  if (entry === undefined || entry instanceof Error) return null;
  return (spec, eltwise, options) => buildFusedConvPlan(entry.dnnl, spec, eltwise, options);
}

/** Builders of the oneDNN plans compiled inference needs beyond {@link fusedConvPlanner}; the caller owns the plans. */
export interface LayerPlanners {
  /** A transposed convolution: the input gradient pass of the convolution `spec` (x: its output, y: its input). */
  readonly deconv: (spec: ConvSpec) => ConvPlan;
  readonly pool: (spec: PoolSpec) => LayerPlan;
  readonly resample: (spec: ResampleSpec) => LayerPlan;
  readonly concat: (batch: number, size: readonly number[], channels: readonly number[]) => LayerPlan;
}

/** oneDNN pooling, resampling, concatenation and transposed convolutions, or null when oneDNN is not active. */
export function layerPlanners(): LayerPlanners | null {
  if (!status.active) return null;
  const entry = opened.get(status.library);
  if (entry === undefined || entry instanceof Error) return null;
  const { dnnl } = entry;
  return {
    deconv: (spec) => buildConvPlan(dnnl, spec, "backwardData"),
    pool: (spec) => buildPoolPlan(dnnl, spec),
    resample: (spec) => buildResamplePlan(dnnl, spec),
    concat: (batch, size, channels) => buildConcatPlan(dnnl, batch, size, channels),
  };
}

/**
 * The TypeScript cpu batch-norm kernel `fallback` (`NiftyBatchNormTraining` or `NiftyBatchNormTrainingGrad`, from
 * `src/kernels/batch_norm.ts`) wrapped to run on oneDNN whenever the fast kernels are active (checked per call, so
 * {@link unregisterFastCpuKernels} and `NIFTYTS_FAST_KERNELS=off` bring the TypeScript kernel back).
 */
export function withFastBatchNorm(fallback: tf.KernelConfig): tf.KernelConfig {
  const plans = () => {
    const entry = status.active ? opened.get(status.library) : undefined;
    return entry === undefined || entry instanceof Error ? null : entry.bnPlans;
  };
  return fastBatchNormKernelConfig(fallback, { plans, counts });
}
