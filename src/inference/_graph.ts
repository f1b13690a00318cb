/**
 * Reads a traced inference application (see `_trace.ts`) as a data-flow graph of fused operations, for networks
 * that are not a plain chain (residual connections: HighRes3DNet, ResNet-style blocks):
 *
 * - a convolution absorbs the per-channel affine maps that follow it (bias, batch norm in inference mode: folded
 *   into its filter and bias), the activations after them (oneDNN post-ops) and one residual addition (oneDNN's sum
 *   post-op; a residual whose channels were zero-padded is padded while it is copied into the output buffer);
 * - pointwise steps on other tensors merge into one pass;
 * - additions of two tensors and zero padding of the channels stay separate operations;
 * - U-Net operations run as oneDNN layers: max/average pooling, transposed convolutions, concatenation along the
 *   channels, linear resizing with half-pixel centres (resize3d's reshape/resize chain read as one resize, see
 *   `_patterns.ts`, as is NiftyNet's PReLU form, which then joins the convolution's pointwise pass).
 *
 * Anything else (convolutions in channels-first layout, resizing with aligned corners or the legacy rule, nearest
 * resizing, concatenation along space, normalisation over space) makes the network unsupported, with the reason.
 *
 * @module
 */
import type { ConvAttrs } from "../kernels/fast/mod.ts";
import {
  appendStep,
  type EltwiseStep,
  isScalar,
  type PointwiseStep,
  pointwiseStep,
  type Trace,
  type TracedKernel,
} from "./_trace.ts";
import { rewritePatterns } from "./_patterns.ts";

/** Index of a tensor of the graph; 0 is the network's input. */
export type ValueId = number;

/** A convolution with folded affine maps, fused activations and an optional fused residual addition. */
export interface GraphConv {
  readonly kind: "conv";
  readonly input: ValueId;
  /** Filter `[k…, in, out]` with the following per-channel scales folded in. */
  readonly w: Float32Array;
  readonly wShape: readonly number[];
  /** Bias per output channel (folded shifts). */
  bias: Float32Array;
  readonly attrs: ConvAttrs;
  /** Added after the bias, before `eltwise`; its channels zero-padded by `before`/`after` when they are fewer. */
  residual: { readonly value: ValueId; readonly before: number; readonly after: number } | null;
  /** Activations fused into the convolution (after the residual). */
  readonly eltwise: EltwiseStep[];
  /** Steps applied after the fused ones, in a separate pass. */
  readonly post: PointwiseStep[];
  output: ValueId;
}

/** Voxel-by-voxel steps on one tensor. */
export interface GraphPointwise {
  readonly kind: "pointwise";
  readonly input: ValueId;
  readonly steps: PointwiseStep[];
  output: ValueId;
}

/** The sum of two tensors of one shape. */
export interface GraphAdd {
  readonly kind: "add";
  readonly inputs: readonly [ValueId, ValueId];
  output: ValueId;
}

/** Zero padding of the channels. */
export interface GraphPad {
  readonly kind: "pad";
  readonly input: ValueId;
  readonly before: number;
  readonly after: number;
  output: ValueId;
}

/** Max or average pooling (TensorFlow's "same"/"valid" padding; the average excludes the padding). */
export interface GraphPool {
  readonly kind: "pool";
  readonly input: ValueId;
  readonly alg: "max" | "avg";
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly pad: "same" | "valid";
  output: ValueId;
}

/**
 * Linear resizing with half-pixel centres (tfjs `halfPixelCenters`, PyTorch `align_corners=False`) of every spatial
 * axis by `scale[i] = [out, in]` as traced on the probe: a window of another size is resized by the same factors.
 */
export interface GraphResize {
  readonly kind: "resize";
  readonly input: ValueId;
  readonly scale: readonly (readonly [number, number])[];
  output: ValueId;
}

/** A transposed convolution (no bias): output size `in·stride` ("same") or `(in − 1)·stride + k` ("valid"). */
export interface GraphDeconv {
  readonly kind: "deconv";
  readonly input: ValueId;
  /** Filter `[k…, out, in]` (tfjs's `conv3dTranspose` layout). */
  readonly w: Float32Array;
  readonly wShape: readonly number[];
  readonly strides: readonly number[];
  readonly pad: "same" | "valid";
  output: ValueId;
}

/** Concatenation along the channels. */
export interface GraphConcat {
  readonly kind: "concat";
  readonly inputs: readonly ValueId[];
  output: ValueId;
}

/** One operation of an {@link InferenceGraph}. */
export type GraphNode =
  | GraphConv
  | GraphPointwise
  | GraphAdd
  | GraphPad
  | GraphPool
  | GraphResize
  | GraphDeconv
  | GraphConcat;

/** The values `node` reads (a fused residual included), in the order it reads them. */
export function inputsOf(node: GraphNode): ValueId[] {
  if (node.kind === "add" || node.kind === "concat") return [...node.inputs];
  if (node.kind === "conv" && node.residual) return [node.input, node.residual.value];
  return [node.input];
}

/** A network read as a graph of fused operations, in execution order. */
export interface InferenceGraph {
  readonly kind: "graph";
  readonly nodes: readonly GraphNode[];
  /** The value the network returns. */
  readonly output: ValueId;
}

/** Why a network could not be read as a graph. */
export interface NotGraph {
  readonly kind: "other";
  readonly reason: string;
}

const IDENTITY = new Set(["Identity", "Cast"]);

const POOLS: Readonly<Record<string, "max" | "avg">> = {
  MaxPool3D: "max",
  MaxPool: "max",
  AvgPool3D: "avg",
  AvgPool: "avg",
};

/** A per-axis attribute (one number for every axis, or one per axis), or null. */
function perAxis(v: unknown, rank: number): number[] | null {
  if (typeof v === "number") return new Array<number>(rank).fill(v);
  return Array.isArray(v) && v.length === rank ? v.map(Number) : null;
}

const channelsLast = (k: TracedKernel) => ["NDHWC", "NHWC"].includes(String(k.attrs.dataFormat ?? "NDHWC"));

function poolNode(k: TracedKernel, input: ValueId, output: ValueId): GraphPool | string {
  const rank = k.inputs[0].rank - 2;
  const kernel = perAxis(k.attrs.filterSize, rank), strides = perAxis(k.attrs.strides, rank);
  const pad = k.attrs.pad;
  const dilations = perAxis(k.attrs.dilations ?? 1, rank);
  if (!kernel || !strides || (pad !== "same" && pad !== "valid") || !channelsLast(k)) {
    return `${k.name} with pad ${JSON.stringify(pad)} in ${k.attrs.dataFormat ?? "NDHWC"}`;
  }
  if (!dilations || dilations.some((d) => d !== 1)) return `${k.name} with dilations`;
  return { kind: "pool", input, alg: POOLS[k.name], kernel, strides, pad, output };
}

/** Output spatial size of a transposed convolution by the rule {@link GraphDeconv} states. */
export function deconvOutSize(inSize: readonly number[], node: Pick<GraphDeconv, "wShape" | "strides" | "pad">) {
  return inSize.map((n, i) => node.pad === "same" ? n * node.strides[i] : (n - 1) * node.strides[i] + node.wShape[i]);
}

function deconvNode(k: TracedKernel, input: ValueId, output: ValueId): GraphDeconv | string {
  const filter = k.constants.get(1);
  if (k.dataInputs.length !== 1 || k.dataInputs[0] !== 0 || !filter) return "transposed convolution with a data filter";
  const x = k.inputs[0], rank = x.rank - 2;
  const strides = perAxis(k.attrs.strides, rank), pad = k.attrs.pad;
  if (!strides || (pad !== "same" && pad !== "valid") || !channelsLast(k)) {
    return `transposed convolution with pad ${JSON.stringify(pad)}`;
  }
  const dilations = perAxis(k.attrs.dilations ?? 1, rank);
  if (!dilations || dilations.some((d) => d !== 1)) return "transposed convolution with dilations";
  const node: GraphDeconv = {
    kind: "deconv",
    input,
    w: Float32Array.from(filter.values),
    wShape: [...filter.shape],
    strides,
    pad,
    output,
  };
  const traced = k.outputs[0].shape.slice(1, -1);
  const rule = deconvOutSize(x.shape.slice(1, -1), node);
  if (traced.some((n, i) => n !== rule[i])) return `transposed convolution to [${traced}] from [${x.shape}]`;
  return node;
}

/** The kernel's operation on graph values, before fusion; a string says why it is not supported. */
function rawNode(k: TracedKernel, ids: ValueId[], output: ValueId): GraphNode | string {
  const input = k.inputs[k.dataInputs[0]];
  if (k.name === "Conv3D" || k.name === "Conv2D") {
    const filter = k.constants.get(1);
    if (k.dataInputs.length !== 1 || k.dataInputs[0] !== 0 || !filter) return "convolution with a data filter";
    const format = String((k.attrs as ConvAttrs).dataFormat ?? "NDHWC");
    if (format !== "NDHWC" && format !== "NHWC") return `convolution in ${format} layout`;
    return {
      kind: "conv",
      input: ids[0],
      w: Float32Array.from(filter.values),
      wShape: [...filter.shape],
      bias: new Float32Array(filter.shape[filter.shape.length - 1]),
      attrs: k.attrs as ConvAttrs,
      residual: null,
      eltwise: [],
      post: [],
      output,
    };
  }
  if (k.name === "Conv3DBackpropInputV2" || k.name === "Conv2DBackpropInput") return deconvNode(k, ids[0], output);
  if (k.name === "Concat") {
    const axis = Number(k.attrs.axis);
    if (k.dataInputs.length !== k.inputs.length) return "concatenation with a constant tensor";
    if (axis !== input.rank - 1 && axis !== -1) return `concatenation along axis ${axis}`;
    return { kind: "concat", inputs: ids, output };
  }
  if (k.dataInputs.length === 2) {
    const [a, b] = k.dataInputs.map((i) => k.inputs[i]);
    const same = a.shape.length === b.shape.length && a.shape.every((n, i) => n === b.shape[i]);
    if (k.name === "Add" && same) return { kind: "add", inputs: [ids[0], ids[1]], output };
    return `kernel ${k.name} of two data tensors`;
  }
  if (k.dataInputs.length !== 1) return `kernel ${k.name} of ${k.dataInputs.length} data tensors`;
  const out = k.outputs[0];
  if (k.name === "PadV2") {
    const paddings = k.attrs.paddings as number[][];
    const last = paddings.length - 1;
    if (Number(k.attrs.constantValue ?? 0) !== 0 || paddings.some((p, i) => i !== last && (p[0] !== 0 || p[1] !== 0))) {
      return "padding of spatial axes";
    }
    return { kind: "pad", input: ids[0], before: paddings[last][0], after: paddings[last][1], output };
  }
  if (POOLS[k.name]) return poolNode(k, ids[0], output);
  if (k.name === "Resize3D" || k.name === "ResizeBilinear") {
    if (k.attrs.halfPixelCenters !== true || k.attrs.alignCorners === true) {
      return "linear resizing without half-pixel centres (alignCorners, or tfjs's legacy rule)";
    }
    const scale = input.shape.slice(1, -1).map((n, i) => [out.shape[i + 1], n] as const);
    return { kind: "resize", input: ids[0], scale, output };
  }
  if (out.shape.length !== input.shape.length || out.shape.some((n, i) => n !== input.shape[i])) {
    return `kernel ${k.name} changes the shape`;
  }
  const step = pointwiseStep(k, input.shape[input.shape.length - 1]);
  if (typeof step === "string") return step;
  return { kind: "pointwise", input: ids[0], steps: [step], output };
}

/** Adds `step` after convolution `conv`: folded into its filter, fused as a post-op, or kept for a separate pass. */
function fuseIntoConv(conv: GraphConv, step: PointwiseStep): void {
  const untouched = conv.eltwise.length === 0 && conv.post.length === 0;
  if (step.kind === "affine" && untouched && conv.residual === null) {
    const out = conv.bias.length;
    for (let i = 0; i < conv.w.length; i++) conv.w[i] *= step.scale[i % out];
    conv.bias = conv.bias.map((b, c) => b * step.scale[c] + step.shift[c]);
    return;
  }
  if (conv.post.length === 0) {
    if (step.kind === "eltwise") {
      conv.eltwise.push(step);
      return;
    }
    const scalar = step.kind === "affine" ? isScalar(step) : null;
    if (scalar) {
      conv.eltwise.push({ kind: "eltwise", op: { alg: "linear", alpha: scalar.scale, beta: scalar.shift } });
      return;
    }
  }
  appendStep(conv.post, step);
}

/** Reads `trace` (of a network applied to the tensor `probeId`) as an {@link InferenceGraph}. */
export function readGraph(trace: Trace, probeId: number): InferenceGraph | NotGraph {
  const other = (reason: string): NotGraph => ({ kind: "other", reason });
  const valueOf = new Map<number, ValueId>([[probeId, 0]]);
  let next = 1;
  const raw: GraphNode[] = [];
  for (const k of rewritePatterns(trace.kernels, trace.outputId)) {
    if (k.dataInputs.length === 0) continue; // constant work (batch-norm statistics, weight transforms)
    if (k.outputs.length !== 1) return other(`kernel ${k.name} has ${k.outputs.length} outputs`);
    const ids = k.dataInputs.map((i) => valueOf.get(k.inputs[i].id));
    if (ids.some((id) => id === undefined)) return other(`kernel ${k.name} reads a tensor from outside the trace`);
    const out = k.outputs[0];
    if (IDENTITY.has(k.name) && out.dtype === "float32" && k.dataInputs.length === 1) {
      valueOf.set(out.id, ids[0]!);
      continue;
    }
    if (out.dtype !== "float32") return other(`kernel ${k.name} returns ${out.dtype}`);
    const node = rawNode(k, ids as ValueId[], next);
    if (typeof node === "string") return other(node);
    valueOf.set(out.id, next++);
    raw.push(node);
  }
  const output = trace.outputId === null ? undefined : valueOf.get(trace.outputId);
  if (output === undefined) return other("the network's output is not computed from its input");
  if (!raw.some((n) => n.kind === "conv")) return other("no convolution");

  const uses = new Map<ValueId, number>([[output, 1]]);
  const use = (v: ValueId) => uses.set(v, (uses.get(v) ?? 0) + 1);
  for (const n of raw) inputsOf(n).forEach(use);
  const nodes: GraphNode[] = [];
  const producer = new Map<ValueId, GraphNode>();
  const dead = new Set<GraphNode>();
  const single = (v: ValueId) => v !== 0 && uses.get(v) === 1;
  for (const n of raw) {
    if (n.kind === "pointwise" && single(n.input)) {
      const p = producer.get(n.input);
      if (p?.kind === "conv" || p?.kind === "pointwise") {
        if (p.kind === "conv") fuseIntoConv(p, n.steps[0]);
        else appendStep(p.steps, n.steps[0]);
        p.output = n.output;
        producer.set(n.output, p);
        continue;
      }
    }
    if (n.kind === "add") {
      const fused = ([[0, 1], [1, 0]] as const).some(([i, j]) => {
        const x = n.inputs[i], r = n.inputs[j];
        const p = producer.get(x);
        if (p?.kind !== "conv" || !single(x) || p.residual || p.eltwise.length || p.post.length) return false;
        const q = producer.get(r);
        if (q?.kind === "pad" && single(r)) {
          p.residual = { value: q.input, before: q.before, after: q.after };
          dead.add(q);
        } else p.residual = { value: r, before: 0, after: 0 };
        // the residual may be computed after the convolution in trace order: run the fused node at the addition
        nodes.splice(nodes.indexOf(p), 1);
        nodes.push(p);
        p.output = n.output;
        producer.set(n.output, p);
        return true;
      });
      if (fused) continue;
    }
    nodes.push(n);
    producer.set(n.output, n);
  }
  return { kind: "graph", nodes: nodes.filter((n) => !dead.has(n)), output };
}
