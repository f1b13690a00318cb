/**
 * tfjs kernel configs for the cpu backend that run convolutions through oneDNN and hand every call they do not
 * take (channels-first data, non-float32 inputs, shapes that disagree with the attrs, geometries oneDNN rejects)
 * to the kernel that was registered before them.
 *
 * @module
 */
import type { tf } from "../../deps.ts";
import type { Dnnl } from "./_dnnl_ffi.ts";
import type { KernelCounts } from "./host_kernels.ts";
import { DILATED_FILTER_GRAD, type DilatedFilterGradAttrs } from "../conv_grads.ts";
import { type BoxCopier, directPhaseSplit, GatherScratch, phaseSplit } from "./dilated_filter_grad.ts";
import type { DnnlPasses } from "./dnnl_passes.ts";
import { type ConvAttrs, convSpecOf, matchesOutput, outputShapeOf } from "./conv_spec.ts";
import { freshOutput } from "./_fresh_output.ts";
import { pooledOutput } from "./_output_pool.ts";
import {
  buildConvPlan,
  type ConvLayouts,
  type ConvPass,
  type ConvPlan,
  type ConvSpec,
  TFJS_LAYOUTS,
} from "./dnnl_conv.ts";
import { PlanLru } from "./_plan_lru.ts";

/** The tfjs kernels this module replaces on the cpu backend. */
export const FAST_CONV_KERNELS = [
  "Conv3D",
  "Conv3DBackpropInputV2",
  "Conv3DBackpropFilterV2",
  "Conv2D",
  "Conv2DBackpropInput",
  "Conv2DBackpropFilter",
] as const;

/** Name of a kernel in {@link FAST_CONV_KERNELS}. */
export type FastConvKernelName = typeof FAST_CONV_KERNELS[number];

/** Plans per geometry and pass, least recently used dropped first; geometries oneDNN rejected are remembered. */
export class ConvPlanCache {
  readonly #dnnl: Dnnl;
  readonly #plans: PlanLru<ConvPlan>;

  constructor(dnnl: Dnnl, { capacity = 128 }: { capacity?: number } = {}) {
    this.#dnnl = dnnl;
    this.#plans = new PlanLru(capacity);
  }

  /** The plan for `pass` of `spec`, or null when oneDNN cannot run it. */
  get(spec: ConvSpec, pass: ConvPass, layouts: ConvLayouts = TFJS_LAYOUTS): ConvPlan | null {
    const key =
      `${pass}|${layouts.src},${layouts.weights}|${spec.batch},${spec.inChannels},${spec.outChannels}|${spec.inSize}|${spec.outSize}|` +
      `${spec.kernel}|${spec.strides}|${spec.dilations}|${spec.padsBefore}|${spec.padsAfter}`;
    return this.#plans.get(key, () => buildConvPlan(this.#dnnl, spec, pass, layouts));
  }

  /** Implementations oneDNN chose for the cached plans (for reports). */
  implementations(): string[] {
    return [...new Set([...this.#plans.built()].map(([, p]) => `${p.pass}: ${p.implementation}`))];
  }

  /** Frees every plan. */
  clear(): void {
    this.#plans.clear();
  }
}

function float32(backend: tf.KernelBackend, info: tf.TensorInfo | undefined): Float32Array | null {
  if (info === undefined || info.dtype !== "float32") return null;
  const values = backend.readSync(info.dataId);
  return values instanceof Float32Array ? values : null;
}

interface FastCall {
  spec: ConvSpec;
  pass: ConvPass;
  layouts?: ConvLayouts;
  /** Rewrites the inputs for the plan (phase gathers of a dilated filter gradient). */
  prepare?: (
    a: Float32Array,
    b: Float32Array,
    copier: BoxCopier | undefined,
    scratch: GatherScratch[],
  ) => [Float32Array, Float32Array];
  a: Float32Array;
  b: Float32Array;
  outShape: number[];
}

/** How {@link asFilterGradient} convolutions lie in memory: x `[c, s…, 1]` is channels-first `[1, c, s…]`. */
const FILTER_GRADIENT_LAYOUTS: ConvLayouts = { src: "ncx", weights: "ixo" };

/** Layouts of the phase-split filter gradient: channels-last phases, gradient written as `[b, k…, o]`. */
const PHASE_LAYOUTS: ConvLayouts = { src: "nxc", weights: "ixo" };

/**
 * A forward convolution whose filter is larger than its output, one input channel, no padding or dilation, is a
 * filter gradient in disguise: the dilated-conv gradient (src/kernels/conv_grads.ts) computes dw as conv(x with
 * batch and channels swapped, dy as filter, stride = dilation). oneDNN's forward kernels crawl on such a 64³
 * filter; its filter-gradient kernel does the same sums fast. With y[b, k, o] = Σₚ x[b, k·s + p, 0]·w[p, 0, o]:
 * source = x read as channels-first `[1, b, s…]`, output gradient = w read as `[1, p…, o]`, dilation s, stride 1,
 * filter gradient written as `[b, k…, o]`, which is y's layout.
 */
function asFilterGradient(spec: ConvSpec): ConvSpec | null {
  const size = (v: readonly number[]) => v.reduce((p, n) => p * n, 1);
  if (spec.inChannels !== 1 || size(spec.outSize) >= size(spec.kernel)) return null;
  if ([...spec.padsBefore, ...spec.padsAfter].some((p) => p !== 0) || spec.dilations.some((d) => d !== 1)) return null;
  // the filter must cover exactly the input the outputs read: in = (out − 1)·stride + kernel
  if (spec.inSize.some((n, i) => n !== (spec.outSize[i] - 1) * spec.strides[i] + spec.kernel[i])) return null;
  return {
    batch: 1,
    inChannels: spec.batch,
    outChannels: spec.outChannels,
    inSize: spec.inSize,
    outSize: spec.kernel,
    kernel: spec.outSize,
    strides: spec.inSize.map(() => 1),
    dilations: spec.strides,
    padsBefore: spec.inSize.map(() => 0),
    padsAfter: spec.inSize.map(() => 0),
  };
}

/** Decodes one kernel call into the oneDNN pass it needs, or null when the fast path does not take it. */
function decode(name: FastConvKernelName, args: Parameters<tf.KernelFunc>[0]): FastCall | null {
  const inputs = args.inputs;
  const backend = args.backend as tf.KernelBackend;
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape?: number[]; filterShape?: number[] };
  switch (name) {
    case "Conv3D":
    case "Conv2D": {
      const { x, filter } = inputs;
      const a = float32(backend, x), b = float32(backend, filter);
      if (!x || !filter || !a || !b) return null;
      const spec = convSpecOf(x.shape, filter.shape, attrs);
      if (!spec) return null;
      const asGrad = asFilterGradient(spec);
      const split = asGrad && phaseSplit(asGrad);
      if (split) {
        return {
          spec: split.spec,
          pass: "backwardWeights",
          layouts: PHASE_LAYOUTS,
          a,
          b,
          outShape: outputShapeOf(spec),
          prepare: (x, w, copier, [sx, sw]) => [
            split.gatherSource(x, copier, sx),
            split.gatherOutputGradient(w, copier, sw),
          ],
        };
      }
      if (asGrad) {
        return {
          spec: asGrad,
          pass: "backwardWeights",
          layouts: FILTER_GRADIENT_LAYOUTS,
          a,
          b,
          outShape: outputShapeOf(spec),
        };
      }
      return { spec, pass: "forward", a, b, outShape: outputShapeOf(spec) };
    }
    case "Conv3DBackpropInputV2":
    case "Conv2DBackpropInput": {
      const { dy, filter } = inputs;
      const a = float32(backend, dy), b = float32(backend, filter);
      if (!dy || !filter || !a || !b || !attrs.inputShape) return null;
      const spec = convSpecOf(attrs.inputShape, filter.shape, attrs, { dilated: false });
      if (!spec || !matchesOutput(spec, dy.shape)) return null;
      return { spec, pass: "backwardData", a, b, outShape: [...attrs.inputShape] };
    }
    case "Conv3DBackpropFilterV2":
    case "Conv2DBackpropFilter": {
      const { x, dy } = inputs;
      const a = float32(backend, x), b = float32(backend, dy);
      if (!x || !dy || !a || !b || !attrs.filterShape) return null;
      const spec = convSpecOf(x.shape, attrs.filterShape, attrs, { dilated: false });
      if (!spec || !matchesOutput(spec, dy.shape)) return null;
      return { spec, pass: "backwardWeights", a, b, outShape: [...attrs.filterShape] };
    }
  }
}

/** The kernels' oneDNN resources: convolution plans, and element-wise passes for the phase gathers. */
export interface ConvKernelResources {
  readonly plans: ConvPlanCache;
  readonly counts: KernelCounts;
  readonly passes?: DnnlPasses;
}

/** The phase gathers' copier: oneDNN reorders for large sources, TypeScript otherwise. */
function copierOf(passes: DnnlPasses | undefined): BoxCopier | undefined {
  return passes && ((src, dst, boxes) => src.length >= passes.minElements && passes.copy(src, dst, boxes));
}

/**
 * A cpu kernel config for `name` that runs through `plans` and otherwise calls `fallback` (the kernel registered
 * before it), counting both in `counts`.
 */
export function fastConvKernelConfig(
  name: FastConvKernelName,
  fallback: tf.KernelConfig,
  { plans, counts, passes }: ConvKernelResources,
): tf.KernelConfig {
  const copier = copierOf(passes), scratch = [new GatherScratch(), new GatherScratch()];
  return {
    kernelName: name,
    backendName: "cpu",
    kernelFunc: (args) => {
      counts[name] ??= { fast: 0, fallback: 0 };
      const call = decode(name, args);
      const plan = call && plans.get(call.spec, call.pass, call.layouts);
      if (!call || !plan) {
        counts[name].fallback++;
        return fallback.kernelFunc(args);
      }
      const out = pooledOutput(args.backend as tf.KernelBackend, call.outShape.reduce((p, n) => p * n, 1), freshOutput);
      const [a, b] = call.prepare ? call.prepare(call.a, call.b, copier, scratch) : [call.a, call.b];
      plan.run(a, b, out);
      counts[name].fast++;
      return {
        dataId: (args.backend as tf.KernelBackend).write(out, call.outShape, "float32"),
        shape: call.outShape,
        dtype: "float32",
      };
    },
  };
}

/** Layouts of the direct phase-split filter gradient: channels-last phases, gradient in tfjs's `[k…, in, out]`. */
const DIRECT_PHASE_LAYOUTS: ConvLayouts = { src: "nxc", weights: "xio" };

/**
 * The cpu kernel {@link DILATED_FILTER_GRAD} (inputs x, dy; attrs filterShape, dilations, padsBefore): the filter
 * gradient of a stride-1 dilated convolution as one undilated oneDNN filter gradient over the phases, gathered
 * straight from the channels-last source with its padding (see `directPhaseSplit`; oneDNN reorders into reused
 * buffers where `passes` is given). The dilated-conv gradient
 * (`src/kernels/conv_grads.ts`) calls it where it is registered, instead of padding and transposing the source for
 * a forward convolution.
 */
export function dilatedFilterGradKernelConfig({ plans, counts, passes }: ConvKernelResources): tf.KernelConfig {
  const copier = copierOf(passes), sourceScratch = new GatherScratch(), gradientScratch = new GatherScratch();
  return {
    kernelName: DILATED_FILTER_GRAD,
    backendName: "cpu",
    kernelFunc: ({ inputs, backend, attrs }) => {
      const be = backend as tf.KernelBackend;
      const { x, dy } = inputs;
      const a = float32(be, x), b = float32(be, dy);
      const { filterShape, dilations, padsBefore } = attrs as unknown as DilatedFilterGradAttrs;
      if (!x || !dy || !a || !b) throw new Error(`${DILATED_FILTER_GRAD}: expected float32 x and dy`);
      const rank = x.shape.length - 2;
      const inSize = x.shape.slice(1, -1), outSize = dy.shape.slice(1, -1), kernel = filterShape.slice(0, rank);
      const spec: ConvSpec = {
        batch: x.shape[0],
        inChannels: x.shape[rank + 1],
        outChannels: dy.shape[rank + 1],
        inSize,
        outSize,
        kernel,
        strides: inSize.map(() => 1),
        dilations,
        padsBefore,
        padsAfter: inSize.map((n, i) => Math.max(0, outSize[i] + (kernel[i] - 1) * dilations[i] - n - padsBefore[i])),
      };
      const split = directPhaseSplit(spec);
      const plan = split && plans.get(split.spec, "backwardWeights", DIRECT_PHASE_LAYOUTS);
      if (!split || !plan) {
        throw new Error(`${DILATED_FILTER_GRAD}: oneDNN cannot run x [${x.shape}], dy [${dy.shape}], [${dilations}]`);
      }
      const out = pooledOutput(be, filterShape.reduce((p, n) => p * n, 1), freshOutput);
      plan.run(
        split.gatherSource(a, copier, sourceScratch),
        split.gatherOutputGradient(b, copier, gradientScratch),
        out,
      );
      counts[DILATED_FILTER_GRAD] ??= { fast: 0, fallback: 0 };
      counts[DILATED_FILTER_GRAD].fast++;
      return { dataId: be.write(out, [...filterShape], "float32"), shape: [...filterShape], dtype: "float32" };
    },
  };
}
