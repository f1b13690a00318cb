/**
 * A traced network (see `trace.ts`) as a Keras functional model in the tfjs layers-model format: the
 * `modelTopology` JSON (Keras 2 `Functional`, as the tfjs converter writes it and brainchop reads it) and the
 * weights in manifest order.
 *
 * Kernels map to Keras layers: Conv2D/Conv3D with a static kernel → `Conv2D`/`Conv3D`; a per-channel (or scalar)
 * static add, subtract, multiply or divide right after a convolution whose output nothing else reads is folded
 * into its kernel and bias (batch norm at inference, a bias); elsewhere it becomes a 1×1 convolution with a
 * diagonal kernel; Relu, Relu6, Elu, Selu, Sigmoid, Tanh, Softplus, Softmax (last axis) → `Activation`;
 * LeakyRelu → `LeakyReLU`; two data tensors added, multiplied, maxed or mined → `Add`, `Multiply`, `Maximum`,
 * `Minimum`; Concat → `Concatenate`; MaxPool/AvgPool (2D, 3D) → `MaxPooling*D`/`AveragePooling*D`; Identity and
 * float casts vanish. Any other kernel on the data path is refused naming the layer (scope) that ran it.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { consumerCounts, type NetworkTrace, type TracedOp, type TraceRef } from "./trace.ts";

/** One weight of the exported model, in manifest order. */
export interface KerasWeight {
  /** `<layer>/<role>`, e.g. `MeshNet.conv_0_relu.conv_/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The Keras model: tfjs's `modelTopology` object and its weights. */
export interface KerasModel {
  readonly modelTopology: Record<string, unknown>;
  readonly weights: readonly KerasWeight[];
  /** Layers by class, e.g. `{ Conv3D: 10, Activation: 9 }`. */
  readonly layerCounts: Readonly<Record<string, number>>;
}

/** Options of {@link kerasModelFromTrace}. */
export interface KerasModelOptions {
  /** The model's name (default: the network's). */
  readonly name?: string;
  /**
   * The declared input shape without batch, e.g. `[256, 256, 256, 1]`; `null` entries are free (default: spatial
   * dims free, channels fixed, so a fully convolutional model takes any size).
   */
  readonly inputShape?: readonly (number | null)[];
}

interface KerasLayer {
  readonly className: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
  readonly inbound: readonly string[];
  /** Filled for convolutions (kernel, optional bias); folded values change them until the model is written. */
  conv?: { kernel: Float32Array; shape: number[]; bias: Float32Array | null };
}

const ACTIVATIONS: Readonly<Record<string, string>> = {
  Relu: "relu",
  Relu6: "relu6",
  Elu: "elu",
  Selu: "selu",
  Sigmoid: "sigmoid",
  Tanh: "tanh",
  Softplus: "softplus",
};
const MERGES: Readonly<Record<string, string>> = {
  Add: "Add",
  AddV2: "Add",
  Multiply: "Multiply",
  Maximum: "Maximum",
  Minimum: "Minimum",
};
const POOLS: Readonly<Record<string, string>> = {
  MaxPool: "MaxPooling2D",
  MaxPool3D: "MaxPooling3D",
  AvgPool: "AveragePooling2D",
  AvgPool3D: "AveragePooling3D",
};
const FOLDABLE = new Set(["Add", "AddV2", "Sub", "Multiply", "RealDiv"]);

/** Refusal naming the layer that ran a kernel Keras cannot express. */
export class NotExportableError extends Error {
  constructor(network: string, format: string, op: TracedOp, why: string) {
    super(
      `cannot export network "${network}" as ${format}: layer "${op.scope}" (${op.layerType}) runs ${op.op}, ${why}`,
    );
    this.name = "NotExportableError";
  }
}

function perAxis(value: unknown, rank: number): number[] {
  return Array.isArray(value) ? value.map(Number) : Array(rank).fill(Number(value ?? 1));
}

/** A static value as one number per channel (scalar or `[1, …, 1, C]`), else undefined. */
function perChannel(value: tf.Tensor, channels: number): Float32Array | undefined {
  if (value.size !== 1 && value.size !== channels) return undefined;
  if (value.size === channels && value.shape.length > 0 && value.shape.at(-1) !== channels) return undefined;
  const data = value.dataSync() as Float32Array;
  return value.size === 1 ? new Float32Array(channels).fill(data[0]) : Float32Array.from(data);
}

/**
 * Translates a trace into a Keras functional model. Throws {@link NotExportableError} naming the first layer that
 * runs a kernel with no Keras counterpart.
 *
 * @example
 * ```ts
 * const trace = traceNetwork(net, store, [1, 16, 16, 16, 1]);
 * const { modelTopology, weights } = kerasModelFromTrace(trace);
 * trace.dispose();
 * ```
 */
export function kerasModelFromTrace(trace: NetworkTrace, options: KerasModelOptions = {}): KerasModel {
  const format = "a tfjs layers-model";
  const consumers = consumerCounts(trace);
  const layers: KerasLayer[] = [];
  const taken = new Set<string>(["input"]);
  const produced = new Map<string, string>(); // `id:output` → Keras layer name
  const byName = new Map<string, KerasLayer>();
  const rank = trace.inputShape.length - 2;
  const declared = options.inputShape ?? [...trace.inputShape.slice(1, -1).map(() => null), trace.inputShape.at(-1)!];
  layers.push({
    className: "InputLayer",
    name: "input",
    config: { batch_input_shape: [null, ...declared], dtype: "float32", sparse: false, name: "input" },
    inbound: [],
  });

  const uniqueName = (base: string) => {
    const clean = base.replaceAll("/", ".");
    let name = clean;
    for (let k = 1; taken.has(name); k++) name = `${clean}_${k}`;
    taken.add(name);
    return name;
  };
  const add = (layer: KerasLayer, op: TracedOp) => {
    layers.push(layer);
    byName.set(layer.name, layer);
    produced.set(`${op.id}:0`, layer.name);
    return layer;
  };
  const source = (ref: TraceRef, op: TracedOp): string => {
    if (ref.kind === "input") return "input";
    if (ref.kind === "op") {
      const name = produced.get(`${ref.id}:${ref.output}`);
      if (name) return name;
    }
    throw new NotExportableError(trace.network, format, op, "whose input is not on the exported path");
  };
  const convLayer = (op: TracedOp, name: string, inbound: string, kernel: Float32Array, shape: number[], opts: {
    strides: number[];
    padding: string;
    dilations: number[];
  }) => {
    const r = shape.length - 2;
    return add({
      className: r === 3 ? "Conv3D" : "Conv2D",
      name,
      config: {
        name,
        trainable: true,
        dtype: "float32",
        filters: shape.at(-1),
        kernel_size: shape.slice(0, r),
        strides: opts.strides,
        padding: opts.padding,
        data_format: "channels_last",
        dilation_rate: opts.dilations,
        activation: "linear",
        use_bias: false,
      },
      inbound: [inbound],
      conv: { kernel, shape, bias: null },
    }, op);
  };
  // The conv whose output `ref` is, when the fold may change it (nothing else reads that output).
  const foldTarget = (ref: TraceRef): KerasLayer | undefined => {
    if (ref.kind !== "op" || consumers.get(`${ref.id}:${ref.output}`) !== 1) return undefined;
    const layer = byName.get(produced.get(`${ref.id}:${ref.output}`) ?? "");
    return layer?.conv ? layer : undefined;
  };

  for (const op of trace.ops) {
    const dynamic = op.inputs.filter((r) => r.kind !== "static");
    const statics = op.inputs.filter((r): r is Extract<TraceRef, { kind: "static" }> => r.kind === "static");
    const shape = op.outputShapes[0];
    const base = `${op.scope}`;
    if (op.op === "Conv2D" || op.op === "Conv3D") {
      const [x, w] = op.inputs;
      if (x.kind === "static" || w.kind !== "static") {
        throw new NotExportableError(trace.network, format, op, "with a kernel computed from the data");
      }
      const pad = op.attrs.pad;
      if (pad !== "same" && pad !== "valid") {
        throw new NotExportableError(trace.network, format, op, `with explicit padding ${JSON.stringify(pad)}`);
      }
      const r = w.value.rank - 2;
      convLayer(op, uniqueName(base), source(x, op), Float32Array.from(w.value.dataSync()), [...w.value.shape], {
        strides: perAxis(op.attrs.strides, r),
        padding: pad,
        dilations: perAxis(op.attrs.dilations, r),
      });
      continue;
    }
    if (FOLDABLE.has(op.op) && dynamic.length === 1 && statics.length === 1) {
      const channels = shape.at(-1)!;
      const values = perChannel(statics[0].value, channels);
      const dataFirst = op.inputs[0].kind !== "static";
      if (values && (dataFirst || op.op === "Add" || op.op === "AddV2" || op.op === "Multiply")) {
        let target = foldTarget(dynamic[0]);
        if (!target) {
          // A 1×…×1 convolution with an identity kernel carries the per-channel affine map.
          const ones = Array(shape.length - 2).fill(1);
          const kernel = new Float32Array(channels * channels);
          for (let c = 0; c < channels; c++) kernel[c * channels + c] = 1;
          target = convLayer(op, uniqueName(`${base}/affine`), source(dynamic[0], op), kernel, [
            ...ones,
            channels,
            channels,
          ], { strides: ones, padding: "valid", dilations: ones });
        }
        foldAffine(target, op.op, values);
        produced.set(`${op.id}:0`, target.name);
        continue;
      }
    }
    if (dynamic.length !== op.inputs.length) {
      throw new NotExportableError(
        trace.network,
        format,
        op,
        "mixing data with a constant in a way Keras cannot express",
      );
    }
    if (op.op === "Identity" || (op.op === "Cast" && op.attrs.dtype === "float32")) {
      produced.set(`${op.id}:0`, source(op.inputs[0], op));
      continue;
    }
    const name = uniqueName(`${base}/${op.op}`);
    const common = { name, trainable: true, dtype: "float32" };
    const inbound = op.inputs.map((r) => source(r, op));
    if (ACTIVATIONS[op.op]) {
      add({ className: "Activation", name, config: { ...common, activation: ACTIVATIONS[op.op] }, inbound }, op);
    } else if (op.op === "Softmax") {
      const dim = Number(op.attrs.dim ?? -1);
      if (dim !== -1 && dim !== shape.length - 1) {
        throw new NotExportableError(trace.network, format, op, `over axis ${dim} (Keras: the last axis only)`);
      }
      add({ className: "Activation", name, config: { ...common, activation: "softmax" }, inbound }, op);
    } else if (op.op === "LeakyRelu") {
      add({ className: "LeakyReLU", name, config: { ...common, alpha: Number(op.attrs.alpha) }, inbound }, op);
    } else if (MERGES[op.op] && inbound.length === 2) {
      add({ className: MERGES[op.op], name, config: common, inbound }, op);
    } else if (op.op === "Concat") {
      const axis = Number(op.attrs.axis);
      add({
        className: "Concatenate",
        name,
        config: { ...common, axis: axis === shape.length - 1 ? -1 : axis },
        inbound,
      }, op);
    } else if (POOLS[op.op]) {
      const pad = op.attrs.pad;
      if (pad !== "same" && pad !== "valid") {
        throw new NotExportableError(trace.network, format, op, `with explicit padding ${JSON.stringify(pad)}`);
      }
      add({
        className: POOLS[op.op],
        name,
        config: {
          ...common,
          pool_size: perAxis(op.attrs.filterSize, rank),
          strides: perAxis(op.attrs.strides, rank),
          padding: pad,
          data_format: "channels_last",
        },
        inbound,
      }, op);
    } else {
      throw new NotExportableError(trace.network, format, op, "which has no Keras layer");
    }
  }

  const outputName = trace.output.kind === "op" ? produced.get(`${trace.output.id}:${trace.output.output}`) : undefined;
  if (!outputName) throw new Error(`cannot export network "${trace.network}": its output does not depend on its input`);
  return finish(layers, outputName, options.name ?? trace.network);
}

function foldAffine(layer: KerasLayer, op: string, v: Float32Array): void {
  const conv = layer.conv!;
  const out = v.length;
  if (op === "Multiply" || op === "RealDiv") {
    const f = op === "Multiply" ? v : v.map((d) => 1 / d);
    for (let i = 0; i < conv.kernel.length; i++) conv.kernel[i] *= f[i % out];
    if (conv.bias) { for (let c = 0; c < out; c++) conv.bias[c] *= f[c]; }
  } else {
    conv.bias ??= new Float32Array(out);
    const sign = op === "Sub" ? -1 : 1;
    for (let c = 0; c < out; c++) conv.bias[c] += sign * v[c];
  }
}

function finish(layers: KerasLayer[], outputName: string, name: string): KerasModel {
  // Keep only the layers the output needs (a folded conv's affine ops leave none behind, but unused branches may).
  const needed = new Set<string>();
  const byName = new Map(layers.map((l) => [l.name, l]));
  const visit = (n: string) => {
    if (needed.has(n)) return;
    needed.add(n);
    byName.get(n)?.inbound.forEach(visit);
  };
  visit(outputName);
  const kept = layers.filter((l) => needed.has(l.name));
  const weights: KerasWeight[] = [];
  const counts: Record<string, number> = {};
  const json = kept.map((l) => {
    counts[l.className] = (counts[l.className] ?? 0) + 1;
    const config = { ...l.config };
    if (l.conv) {
      config.use_bias = l.conv.bias !== null;
      weights.push({ name: `${l.name}/kernel`, shape: l.conv.shape, data: l.conv.kernel });
      if (l.conv.bias) weights.push({ name: `${l.name}/bias`, shape: [l.conv.bias.length], data: l.conv.bias });
    }
    return {
      class_name: l.className,
      config,
      name: l.name,
      inbound_nodes: l.inbound.length ? [l.inbound.map((n) => [n, 0, 0, {}])] : [],
    };
  });
  return {
    modelTopology: {
      keras_version: "2.7.0",
      backend: "tensorflow",
      model_config: {
        class_name: "Functional",
        config: { name, layers: json, input_layers: [["input", 0, 0]], output_layers: [[outputName, 0, 0]] },
      },
    },
    weights,
    layerCounts: counts,
  };
}
