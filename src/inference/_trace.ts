/**
 * Traces one inference application of a network on a small probe input and reads it as a *chain*: convolutions
 * (stride 1) whose output runs through per-channel affine maps (bias, batch norm in inference mode, scales) and
 * element-wise activations, each kernel consuming only the previous one's output plus constants. Such a chain can
 * be streamed through a volume plane by plane with exact results (see `_stream.ts`). Anything else (residual
 * connections, pooling, resizing, normalisation over space) is reported as not a chain, with the receptive radius
 * when every kernel is spatially local.
 *
 * Kernels are captured by wrapping the tfjs engine's public `runKernel` for the duration of the probe, as the graph
 * recorder does.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type Layer, type VariableStore, withKernelObserver } from "../dsl/mod.ts";
import type { EltwiseOp } from "../kernels/fast/mod.ts";
import { type ConvAttrs, convSpecOf } from "../kernels/fast/mod.ts";

/** A per-channel map `y = x·scale + shift` (scale and shift have one value per channel). */
export interface AffineOp {
  readonly kind: "affine";
  readonly scale: Float32Array;
  readonly shift: Float32Array;
}

/** An element-wise function, in oneDNN's vocabulary (so it can be fused into the convolution). */
export interface EltwiseStep {
  readonly kind: "eltwise";
  readonly op: EltwiseOp;
}

/** Softmax over the channels. */
export interface SoftmaxStep {
  readonly kind: "softmax";
}

/** PReLU: `x` where positive, `alpha[c]·x` where negative (one slope per channel). */
export interface PreluStep {
  readonly kind: "prelu";
  readonly alpha: Float32Array;
}

/** A step applied voxel by voxel. */
export type PointwiseStep = AffineOp | EltwiseStep | SoftmaxStep | PreluStep;

/** One convolution of a chain, with the bias and activations fused into it and what follows unfused. */
export interface ConvStage {
  /** Filter `[k…, in, out]` with any following per-channel scale folded in. */
  readonly w: Float32Array;
  readonly wShape: readonly number[];
  /** Bias per output channel (the convolution's own plus folded shifts). */
  readonly bias: Float32Array;
  readonly attrs: ConvAttrs;
  /** Activations fused into the convolution (oneDNN post-ops). */
  readonly eltwise: readonly EltwiseStep[];
  /** Steps after the fused ones that are applied separately. */
  readonly post: readonly PointwiseStep[];
}

/** A network read as a chain. */
export interface Chain {
  readonly kind: "chain";
  /** Steps applied to the input before the first convolution. */
  readonly pre: readonly PointwiseStep[];
  readonly convs: readonly ConvStage[];
  readonly outChannels: number;
  /** Receptive radius per spatial axis. */
  readonly radius: readonly number[];
}

/** A network that is not a chain: `radius` is its receptive radius per spatial axis, or null when not local. */
export interface NotChain {
  readonly kind: "other";
  readonly reason: string;
  readonly radius: readonly number[] | null;
}

const ELTWISE: Readonly<Record<string, (attrs: Record<string, unknown>) => EltwiseOp>> = {
  Relu: () => ({ alg: "relu" }),
  Relu6: () => ({ alg: "boundedRelu", alpha: 6 }),
  Elu: () => ({ alg: "elu", alpha: 1 }),
  Sigmoid: () => ({ alg: "logistic" }),
  Tanh: () => ({ alg: "tanh" }),
  LeakyRelu: (attrs) => ({ alg: "relu", alpha: Number(attrs.alpha ?? 0.2) }),
};

const AFFINE_KERNELS = new Set(["Add", "Sub", "Multiply", "RealDiv"]);
const IDENTITY_KERNELS = new Set(["Identity", "Cast"]);

/** Kernels that compute each output voxel from the same voxel of their inputs (spatially local, no halo). */
const POINTWISE_KERNELS = new Set([
  ...Object.keys(ELTWISE),
  ...AFFINE_KERNELS,
  ...IDENTITY_KERNELS,
  "Abs",
  "Exp",
  "Expm1",
  "Log",
  "Log1p",
  "Sqrt",
  "Rsqrt",
  "Square",
  "Neg",
  "Maximum",
  "Minimum",
  "AddN",
  "Prelu",
  "Selu",
  "Softplus",
  "Erf",
  "Pow",
  "SquaredDifference",
  "Select",
  "GreaterEqual",
  "Greater",
  "Less",
  "LessEqual",
  "Equal",
  "ClipByValue",
  "Step",
]);

/** One kernel call of a traced application, with its data flow. */
export interface TracedKernel {
  readonly name: string;
  readonly inputs: readonly tf.Tensor[];
  readonly attrs: Record<string, unknown>;
  readonly outputs: readonly tf.Tensor[];
  /** Values of inputs that do not depend on the network input, by input position. */
  readonly constants: ReadonlyMap<number, { values: Float32Array; shape: readonly number[] }>;
  /** Positions of inputs that depend on the network input. */
  readonly dataInputs: readonly number[];
}

/** A traced application: its kernels in order and the id of the network's output tensor (null if not a tensor). */
export interface Trace {
  readonly kernels: TracedKernel[];
  readonly outputId: number | null;
}

/**
 * Runs `network` on `probe` in inference mode and returns the top-level kernels with their data flow; with
 * `values: false` the constants' values are not read (no synchronous readback: what webgpu needs), only shapes.
 */
export function traceKernels(network: Layer, store: VariableStore, probe: tf.Tensor, values = true): Trace {
  const kernels: TracedKernel[] = [];
  let outputId: number | null = null;
  const dependent = new Set<number>([probe.id]);
  withKernelObserver((name, inputs, attrs, outputs) => {
    const list = Object.values(inputs).filter((t): t is tf.Tensor => t instanceof tf.Tensor);
    const dataInputs = list.flatMap((t, i) => dependent.has(t.id) ? [i] : []);
    const constants = new Map<number, { values: Float32Array; shape: readonly number[] }>();
    list.forEach((t, i) => {
      if (values && !dependent.has(t.id) && t.dtype === "float32" && t.size <= 1 << 22) {
        constants.set(i, { values: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] });
      }
    });
    if (dataInputs.length > 0) outputs.forEach((t) => dependent.add(t.id));
    kernels.push({
      name,
      inputs: list,
      attrs: { ...(attrs as Record<string, unknown> ?? {}) },
      outputs,
      constants,
      dataInputs,
    });
  }, () =>
    tf.tidy(() => {
      const y = applyNetwork(network, [probe], { store, training: false });
      outputId = y instanceof tf.Tensor ? y.id : null;
    }));
  return { kernels, outputId };
}

/** Values of a constant as one value per channel (`channels` long), or null when it varies along other axes. */
function perChannel(
  constant: { values: Float32Array; shape: readonly number[] },
  channels: number,
  rank: number,
): Float32Array | null {
  const { values, shape } = constant;
  if (shape.length > rank || shape.slice(0, -1).some((n) => n !== 1)) return null;
  const last = shape.length === 0 ? 1 : shape[shape.length - 1];
  if (last === channels) return values;
  if (last === 1) return new Float32Array(channels).fill(values[0]);
  return null;
}

/** The single scale and shift of an affine map that is the same for every channel, or null. */
export function isScalar(a: AffineOp): { scale: number; shift: number } | null {
  const s = a.scale[0], t = a.shift[0];
  return a.scale.every((v) => v === s) && a.shift.every((v) => v === t) ? { scale: s, shift: t } : null;
}

/** Reads one kernel that consumes the chain's current tensor as a pointwise step, or explains why not. */
export function pointwiseStep(k: TracedKernel, channels: number): PointwiseStep | string {
  const rank = k.inputs[k.dataInputs[0]].rank;
  if (k.name in ELTWISE) return { kind: "eltwise", op: ELTWISE[k.name](k.attrs) };
  if (k.name === "Softmax") {
    const dim = Number(k.attrs.dim ?? -1);
    return dim === -1 || dim === rank - 1 ? { kind: "softmax" } : `softmax over axis ${dim}`;
  }
  if (k.name === "Prelu") {
    const alpha = k.constants.get(1);
    const values = alpha && k.dataInputs[0] === 0 && perChannel(alpha, channels, rank);
    return values ? { kind: "prelu", alpha: values } : "Prelu with a non per-channel slope";
  }
  if (AFFINE_KERNELS.has(k.name) && k.inputs.length === 2) {
    const dataAt = k.dataInputs[0];
    const other = k.constants.get(1 - dataAt);
    const values = other && perChannel(other, channels, rank);
    if (!values) return `${k.name} with a non per-channel operand`;
    const ones = new Float32Array(channels).fill(1), zeros = new Float32Array(channels);
    switch (k.name) {
      case "Add":
        return { kind: "affine", scale: ones, shift: values };
      case "Sub":
        return dataAt === 0
          ? { kind: "affine", scale: ones, shift: values.map((v) => -v) }
          : { kind: "affine", scale: ones.map(() => -1), shift: values };
      case "Multiply":
        return { kind: "affine", scale: values, shift: zeros };
      case "RealDiv":
        return dataAt === 0 ? { kind: "affine", scale: values.map((v) => 1 / v), shift: zeros } : "division by data";
    }
  }
  return `kernel ${k.name}`;
}

/** Mutable stage while reading the trace. */
interface Building {
  w: Float32Array;
  wShape: number[];
  bias: Float32Array;
  attrs: ConvAttrs;
  eltwise: EltwiseStep[];
  post: PointwiseStep[];
}

/** Appends `step` to `steps`, merging two successive affine maps into one. */
export function appendStep(steps: PointwiseStep[], step: PointwiseStep): void {
  const last = steps.at(-1);
  if (step.kind === "affine" && last?.kind === "affine") {
    steps[steps.length - 1] = {
      kind: "affine",
      scale: last.scale.map((s, c) => s * step.scale[c]),
      shift: last.shift.map((t, c) => t * step.scale[c] + step.shift[c]),
    };
  } else steps.push(step);
}

/** Adds a pointwise step after a convolution: folded into it, fused as a post-op, or kept separate. */
function addToStage(stage: Building, step: PointwiseStep): void {
  if (step.kind === "affine" && stage.eltwise.length === 0 && stage.post.length === 0) {
    const out = stage.bias.length;
    for (let i = 0; i < stage.w.length; i++) stage.w[i] *= step.scale[i % out];
    stage.bias = stage.bias.map((b, c) => b * step.scale[c] + step.shift[c]);
    return;
  }
  if (stage.post.length === 0) {
    if (step.kind === "eltwise") {
      stage.eltwise.push(step);
      return;
    }
    const scalar = step.kind === "affine" ? isScalar(step) : null;
    if (scalar) {
      stage.eltwise.push({ kind: "eltwise", op: { alg: "linear", alpha: scalar.scale, beta: scalar.shift } });
      return;
    }
  }
  appendStep(stage.post, step);
}

/**
 * Receptive radius per axis of the traced kernels when all are local (stride-1 convolutions, pointwise kernels,
 * concatenation and zero padding of the channels).
 */
function localRadius(kernels: readonly TracedKernel[], rank: number): number[] | null {
  const radius = new Array<number>(rank).fill(0);
  for (const k of kernels) {
    if (k.dataInputs.length === 0) continue;
    if (k.name === "Conv3D" || k.name === "Conv2D") {
      const spec = convSpecOf(k.inputs[0].shape, k.inputs[1].shape, k.attrs as ConvAttrs);
      if (!spec || spec.strides.some((s) => s !== 1) || spec.outSize.some((n, i) => n !== spec.inSize[i])) return null;
      spec.padsBefore.forEach((p, i) => radius[i] += Math.max(p, spec.padsAfter[i]));
    } else if (k.name === "Concat" || k.name === "ConcatV2") {
      if (Number(k.attrs.axis) !== rank + 1 && Number(k.attrs.axis) !== -1) return null;
    } else if (k.name === "PadV2") {
      const paddings = k.attrs.paddings as number[][];
      if (paddings.some((p, i) => i !== paddings.length - 1 && (p[0] !== 0 || p[1] !== 0))) return null;
    } else if (!POINTWISE_KERNELS.has(k.name) && k.name !== "Softmax") return null;
  }
  return radius;
}

/**
 * The receptive radius per spatial axis of `network` traced on a probe of `probeShape` (`[1, …spatial, c]`), or
 * null when some kernel is not spatially local; reads no tensor values.
 */
export function traceRadius(network: Layer, store: VariableStore, probeShape: readonly number[]): number[] | null {
  const probe = tf.zeros([...probeShape]);
  try {
    return localRadius(traceKernels(network, store, probe, false).kernels, probeShape.length - 2);
  } finally {
    probe.dispose();
  }
}

/**
 * Traces `network` (variables in `store`, created on first use) on a probe of `probeShape` (`[1, …spatial, c]`)
 * and reads it as a {@link Chain}, or says why it is not one.
 */
export function traceChain(network: Layer, store: VariableStore, probeShape: readonly number[]): Chain | NotChain {
  const rank = probeShape.length - 2;
  const probe = tf.zeros([...probeShape]);
  let kernels: TracedKernel[];
  try {
    kernels = traceKernels(network, store, probe).kernels;
  } finally {
    probe.dispose();
  }
  const other = (reason: string): NotChain => ({ kind: "other", reason, radius: localRadius(kernels, rank) });
  const pre: PointwiseStep[] = [];
  const stages: Building[] = [];
  let current = -1; // id of the chain's current tensor; -1: the probe (first data-dependent kernel)
  let channels = probeShape[probeShape.length - 1];
  for (const k of kernels) {
    if (k.dataInputs.length === 0) continue; // constant work (batch-norm statistics, weight transforms)
    if (k.dataInputs.length !== 1) return other(`kernel ${k.name} combines two data tensors`);
    const input = k.inputs[k.dataInputs[0]];
    if (current !== -1 && input.id !== current) return other(`kernel ${k.name} reads an earlier tensor`);
    if (k.outputs.length !== 1) return other(`kernel ${k.name} has ${k.outputs.length} outputs`);
    const out = k.outputs[0];
    if (IDENTITY_KERNELS.has(k.name) && out.dtype === "float32") {
      current = out.id;
      continue;
    }
    if (k.name === "Conv3D" || k.name === "Conv2D") {
      const filter = k.constants.get(1);
      if (k.dataInputs[0] !== 0 || !filter) return other(`convolution with a data-dependent filter`);
      const spec = convSpecOf(input.shape, filter.shape, k.attrs as ConvAttrs);
      if (!spec || spec.strides.some((s) => s !== 1) || spec.batch !== 1) {
        return other(`convolution with stride [${spec?.strides}] or channels-first data`);
      }
      stages.push({
        w: Float32Array.from(filter.values),
        wShape: [...filter.shape],
        bias: new Float32Array(spec.outChannels),
        attrs: k.attrs as ConvAttrs,
        eltwise: [],
        post: [],
      });
      channels = spec.outChannels;
    } else {
      if (out.shape.length !== input.shape.length || out.shape.some((n, i) => n !== input.shape[i])) {
        return other(`kernel ${k.name} changes the shape`);
      }
      const step = pointwiseStep(k, channels);
      if (typeof step === "string") return other(step);
      const stage = stages.at(-1);
      if (stage) addToStage(stage, step);
      else appendStep(pre, step);
    }
    current = out.id;
  }
  if (stages.length === 0) return other("no convolution");
  const convs = stages.map((s): ConvStage => ({ ...s }));
  const radius = localRadius(kernels, rank);
  if (radius === null) return other("convolutions that change the size");
  return { kind: "chain", pre, convs, outChannels: channels, radius };
}
