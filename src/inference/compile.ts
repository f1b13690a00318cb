/**
 * Inference mode that does less work than applying the network op by op: the network is traced once and read as a
 * graph of fused operations (`_graph.ts`: batch norm folded into the convolutions, bias + residual addition +
 * activation fused into each oneDNN convolution; pooling, transposed convolutions, concatenation and linear resizing
 * as oneDNN layers), then run on host buffers with no gradient bookkeeping, with every buffer planned once per input
 * shape and reused for every later window or batch of windows.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { Layer, VariableStore } from "../dsl/mod.ts";
import {
  type ConvPlan,
  type ConvSpec,
  convSpecOf,
  type FusedConvPlan,
  type FusedConvPlanner,
  fusedConvPlanner,
  type LayerPlan,
  type LayerPlanners,
  layerPlanners,
  type PoolSpec,
} from "../kernels/fast/mod.ts";
import {
  deconvOutSize,
  type GraphNode,
  type GraphPool,
  type InferenceGraph,
  inputsOf,
  readGraph,
  type ValueId,
} from "./_graph.ts";
import { applyPointwise } from "./_pointwise.ts";
import { traceKernels } from "./_trace.ts";

/** A network compiled for inference by {@link compileInference}. */
export interface InferenceProgram {
  /**
   * Number of fused operations (convolutions with their post-ops, pointwise passes, additions, paddings, poolings,
   * transposed convolutions, concatenations, resizes).
   */
  readonly operations: number;
  /**
   * The network's output for `input` (channels-last values of `shape`, `[batch, …spatial, channels]`): a fresh
   * array and its shape. The first call for a shape plans buffers and oneDNN kernels; later calls reuse them.
   */
  run(input: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] };
  /** oneDNN's implementation names of the convolutions and layers built so far. */
  implementations(): string[];
  /** Frees the oneDNN kernels and buffers. */
  dispose(): void;
}

/** Why {@link compileInference} could not compile a network (the caller applies it op by op instead). */
export interface NotCompiled {
  readonly reason: string;
}

const product = (v: readonly number[]) => v.reduce((p, n) => p * n, 1);

/** A planned node: shapes, kernels and buffer slots for one input shape. */
interface Step {
  readonly node: GraphNode;
  readonly shape: readonly number[];
  readonly spec?: ConvSpec;
  readonly plan?: FusedConvPlan;
  /** Pooling, resizing, concatenation. */
  readonly layer?: LayerPlan;
  /** Transposed convolution. */
  readonly deconv?: ConvPlan;
  /** Slot of each value the step reads, then of its output. */
  readonly reads: readonly number[];
  /** Shape of each value the step reads. */
  readonly inShapes: readonly (readonly number[])[];
  readonly writes: number;
}

/** The oneDNN plan builders of a compiled program. */
interface Planners {
  readonly conv: FusedConvPlanner;
  readonly layers: LayerPlanners;
}

interface Planned {
  readonly steps: Step[];
  readonly slots: Float32Array[];
  readonly shapes: Map<ValueId, readonly number[]>;
  readonly outputSlot: number;
}

/** Pads before and after each axis that give a pooling TensorFlow's output size ("same": ⌈n/s⌉, "valid"). */
function poolSpecOf(node: GraphPool, input: readonly number[]): PoolSpec {
  const inSize = input.slice(1, -1);
  const outSize = inSize.map((n, i) =>
    node.pad === "same" ? Math.ceil(n / node.strides[i]) : Math.ceil((n - node.kernel[i] + 1) / node.strides[i])
  );
  if (outSize.some((n) => n < 1)) throw new Error(`compiled inference: pooling window larger than input [${input}]`);
  const total = inSize.map((n, i) => Math.max((outSize[i] - 1) * node.strides[i] + node.kernel[i] - n, 0));
  const padsBefore = total.map((t) => (node.pad === "same" ? Math.floor(t / 2) : 0));
  return {
    batch: input[0],
    channels: input[input.length - 1],
    inSize,
    outSize,
    kernel: node.kernel,
    strides: node.strides,
    padsBefore,
    padsAfter: total.map((t, i) => (node.pad === "same" ? t - padsBefore[i] : 0)),
    alg: node.alg,
  };
}

function outShape(node: GraphNode, shapes: Map<ValueId, readonly number[]>): { shape: number[]; spec?: ConvSpec } {
  const input = shapes.get(inputsOf(node)[0])!;
  const channels = input[input.length - 1];
  switch (node.kind) {
    case "conv": {
      const spec = convSpecOf(input, node.wShape, node.attrs);
      if (!spec) throw new Error(`compiled inference: convolution rejects input [${input}], filter [${node.wShape}]`);
      return { shape: [spec.batch, ...spec.outSize, spec.outChannels], spec };
    }
    case "pad":
      return { shape: [...input.slice(0, -1), channels + node.before + node.after] };
    case "pool":
      return { shape: [input[0], ...poolSpecOf(node, input).outSize, channels] };
    case "resize": {
      const outSize = input.slice(1, -1).map((n, i) => (n * node.scale[i][0]) / node.scale[i][1]);
      if (!outSize.every(Number.isInteger)) {
        throw new Error(
          `compiled inference: resizing [${input}] by ${node.scale.map(([o, i]) => `${o}/${i}`)} is not whole`,
        );
      }
      return { shape: [input[0], ...outSize, channels] };
    }
    case "deconv": {
      const outSize = deconvOutSize(input.slice(1, -1), node);
      const spec = convSpecOf([input[0], ...outSize, node.wShape[node.wShape.length - 2]], node.wShape, {
        strides: [...node.strides],
        pad: node.pad,
      });
      if (!spec || spec.outSize.some((n, i) => n !== input[i + 1]) || spec.outChannels !== channels) {
        throw new Error(`compiled inference: transposed convolution rejects input [${input}], filter [${node.wShape}]`);
      }
      return { shape: [input[0], ...outSize, spec.inChannels], spec };
    }
    case "concat": {
      const all = node.inputs.map((v) => shapes.get(v)!);
      if (all.some((s) => s.slice(0, -1).some((n, i) => n !== input[i]))) {
        throw new Error(`compiled inference: concatenation of shapes ${all.map((s) => `[${s}]`).join(", ")}`);
      }
      return { shape: [...input.slice(0, -1), all.reduce((t, s) => t + s[s.length - 1], 0)] };
    }
    default:
      return { shape: [...input] };
  }
}

/** Copies `src` (`from` channels per voxel) into `dst` (`to` channels), shifted by `before`, zeros around. */
function padChannels(src: Float32Array, from: number, dst: Float32Array, to: number, before: number): void {
  if (from === to) {
    dst.set(src);
    return;
  }
  dst.fill(0);
  for (let i = 0, o = before; i < src.length; i += from, o += to) {
    for (let c = 0; c < from; c++) dst[o + c] = src[i + c];
  }
}

/** Plans shapes, oneDNN kernels and buffer slots (reused in place where a value dies) for one input shape. */
function planFor(
  graph: InferenceGraph,
  inputShape: readonly number[],
  planners: Planners,
): Planned {
  const shapes = new Map<ValueId, readonly number[]>([[0, inputShape]]);
  const lastUse = new Map<ValueId, number>([[graph.output, Infinity]]);
  graph.nodes.forEach((n, i) => inputsOf(n).forEach((v) => lastUse.set(v, Math.max(lastUse.get(v) ?? -1, i))));
  const slotSize: number[] = [];
  const free: number[] = [];
  const slotOf = new Map<ValueId, number>([[0, -1]]); // -1: the caller's input array
  const take = (size: number): number => {
    let best = -1;
    for (const s of free) if (slotSize[s] >= size && (best < 0 || slotSize[s] < slotSize[best])) best = s;
    if (best < 0 && free.length) best = free.reduce((a, s) => (slotSize[s] > slotSize[a] ? s : a), free[0]);
    if (best < 0) {
      slotSize.push(size);
      return slotSize.length - 1;
    }
    free.splice(free.indexOf(best), 1);
    slotSize[best] = Math.max(slotSize[best], size);
    return best;
  };
  const planned: Step[] = [];
  graph.nodes.forEach((node, i) => {
    const { shape, spec } = outShape(node, shapes);
    shapes.set(node.output, shape);
    const reads = inputsOf(node);
    const dying = (v: ValueId) => v !== 0 && lastUse.get(v) === i && reads.indexOf(v) === reads.lastIndexOf(v);
    // in place: a pointwise pass or addition over a value that dies here, a residual that dies here (unpadded)
    const inPlace = node.kind === "pointwise" || node.kind === "add"
      ? reads.find(dying)
      : node.kind === "conv" && node.residual && node.residual.before + node.residual.after === 0 &&
          dying(node.residual.value)
      ? node.residual.value
      : undefined;
    const writes = inPlace === undefined ? take(product(shape)) : slotOf.get(inPlace)!;
    slotOf.set(node.output, writes);
    const inShapes = reads.map((v) => shapes.get(v)!);
    planned.push({ node, shape, spec, reads: reads.map((v) => slotOf.get(v)!), inShapes, writes });
    for (const v of new Set(reads)) if (v !== inPlace && dying(v)) free.push(slotOf.get(v)!);
  });
  const steps: Step[] = [];
  try {
    for (const s of planned) steps.push(buildStep(s, shapes, planners));
  } catch (e) {
    steps.forEach(destroyStep);
    throw e;
  }
  const slots = slotSize.map((n) => new Float32Array(n));
  return { steps, slots, shapes, outputSlot: slotOf.get(graph.output)! };
}

/** Builds the oneDNN plan a planned step runs. */
function buildStep(s: Step, shapes: Map<ValueId, readonly number[]>, planners: Planners): Step {
  const { node, shape } = s;
  const input = shapes.get(inputsOf(node)[0])!;
  switch (node.kind) {
    case "conv":
      return { ...s, plan: planners.conv(s.spec!, node.eltwise.map((e) => e.op), { sum: node.residual !== null }) };
    case "deconv":
      return { ...s, deconv: planners.layers.deconv(s.spec!) };
    case "pool":
      return { ...s, layer: planners.layers.pool(poolSpecOf(node, input)) };
    case "resize": {
      const [batch, channels] = [input[0], input[input.length - 1]];
      const spec = { batch, channels, inSize: input.slice(1, -1), outSize: shape.slice(1, -1), alg: "linear" as const };
      return { ...s, layer: planners.layers.resample(spec) };
    }
    case "concat": {
      const channels = node.inputs.map((v) => shapes.get(v)!.at(-1)!);
      return { ...s, layer: planners.layers.concat(input[0], input.slice(1, -1), channels) };
    }
    default:
      return s;
  }
}

function destroyStep(s: Step): void {
  s.plan?.destroy();
  s.layer?.destroy();
  s.deconv?.destroy();
}

function runStep(step: Step, view: (slot: number, size: number) => Float32Array): void {
  const { node, shape } = step;
  const size = product(shape), channels = shape[shape.length - 1];
  const y = view(step.writes, size);
  switch (node.kind) {
    case "conv": {
      const spec = step.spec!;
      const x = view(step.reads[0], spec.batch * product(spec.inSize) * spec.inChannels);
      if (node.residual && step.reads[1] !== step.writes) {
        const from = channels - node.residual.before - node.residual.after;
        padChannels(view(step.reads[1], (size / channels) * from), from, y, channels, node.residual.before);
      }
      step.plan!.run(x, node.w, node.bias, y);
      if (node.post.length) applyPointwise(node.post, y, channels);
      return;
    }
    case "pointwise": {
      if (step.reads[0] !== step.writes) y.set(view(step.reads[0], size));
      applyPointwise(node.steps, y, channels);
      return;
    }
    case "add": {
      const a = view(step.reads[0], size), b = view(step.reads[1], size);
      for (let i = 0; i < size; i++) y[i] = a[i] + b[i];
      return;
    }
    case "pad": {
      const from = channels - node.before - node.after;
      padChannels(view(step.reads[0], (size / channels) * from), from, y, channels, node.before);
      return;
    }
    case "deconv": {
      const spec = step.spec!; // the convolution whose input gradient this is: x is its output
      step.deconv!.run(view(step.reads[0], spec.batch * product(spec.outSize) * spec.outChannels), node.w, y);
      return;
    }
    default:
      step.layer!.run(step.reads.map((slot, i) => view(slot, product(step.inShapes[i]))), y);
  }
}

/** The network traced on a zero probe of `shape`, read as a graph. */
function graphOf(network: Layer, store: VariableStore, shape: readonly number[]) {
  const probe = tf.zeros([...shape]);
  try {
    return readGraph(traceKernels(network, store, probe), probe.id);
  } finally {
    probe.dispose();
  }
}

/** The scale factor of every resize of `graph`, in order. */
function resizeScales(graph: InferenceGraph): number[] {
  return graph.nodes.flatMap((n) => (n.kind === "resize" ? n.scale.map(([o, i]) => o / i) : []));
}

/**
 * Compiles `network` (variables in `store`, created on first use) for inference on inputs like `probeShape`
 * (`[1, …spatial, channels]`; a small probe is enough, every spatial size works later): batch norm folded into the
 * convolutions, bias, residual addition and activation fused into oneDNN convolutions, buffers planned once per
 * input shape and reused. Returns {@link NotCompiled} with the reason when oneDNN is not active or the network
 * holds an operation the compiled form does not cover; the caller then applies the network op by op.
 *
 * @example
 * ```ts
 * const program = compileInference(new HighRes3DNet({ numClasses: 2 }), store, [1, 8, 8, 8, 1]);
 * if ("run" in program) program.run(windows, [2, 64, 64, 64, 1]); // logits, [2, 64, 64, 64, 2]
 * ```
 */
export function compileInference(
  network: Layer,
  store: VariableStore,
  probeShape: readonly number[],
): InferenceProgram | NotCompiled {
  const conv = fusedConvPlanner(), layers = layerPlanners();
  if (conv === null || layers === null) return { reason: "oneDNN kernels are not active" };
  const planners: Planners = { conv, layers };
  const graph = graphOf(network, store, probeShape);
  if (graph.kind === "other") return { reason: graph.reason };
  const scales = resizeScales(graph);
  if (scales.length > 0) {
    // a resize is read as a scale factor: one to a fixed size would scale differently on a probe twice as large
    const twice = graphOf(
      network,
      store,
      probeShape.map((n, i) => (i === 0 || i === probeShape.length - 1 ? n : 2 * n)),
    );
    if (twice.kind === "other" || resizeScales(twice).join() !== scales.join()) {
      return { reason: "resizing to a size that does not scale with the input" };
    }
  }
  const compiled: InferenceGraph = graph;
  const plans = new Map<string, Planned>();
  const planOf = (shape: readonly number[]): Planned => {
    const key = shape.join(",");
    let p = plans.get(key);
    if (!p) plans.set(key, p = planFor(compiled, shape, planners));
    return p;
  };
  return {
    operations: compiled.nodes.length,
    run(input, shape) {
      if (input.length !== product(shape)) {
        throw new Error(`compiled inference: input of ${input.length} values does not match shape [${shape}]`);
      }
      const p = planOf(shape);
      const view = (slot: number, size: number) => (slot < 0 ? input : p.slots[slot].subarray(0, size));
      for (const step of p.steps) runStep(step, view);
      const out = [...p.shapes.get(compiled.output)!];
      return { data: view(p.outputSlot, product(out)).slice(), shape: out };
    },
    implementations: () => [
      ...new Set(
        [...plans.values()].flatMap((p) =>
          p.steps.flatMap((s) => [s.plan, s.layer, s.deconv].flatMap((x) => x ? [x.implementation] : []))
        ),
      ),
    ],
    dispose() {
      plans.forEach((p) => p.steps.forEach(destroyStep));
      plans.clear();
    },
  };
}
