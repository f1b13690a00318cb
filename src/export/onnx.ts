/**
 * A traced network (see `trace.ts`) as an ONNX model (IR 8, opset 17), encoded with `@bufbuild/protobuf`'s wire
 * writer. The graph keeps the network's channels-last layout: most kernels map one to one onto ONNX ops with the
 * same broadcasting and axes; convolutions, transposed convolutions, pooling and resizing (channels-first in ONNX)
 * are wrapped in two Transposes (onnxruntime's optimizer removes the pairs it can). Static values (variables,
 * folded constants) become initializers named by their variable path.
 *
 * The input is declared with free batch and spatial sizes when nothing in the graph depends on the traced size
 * (no reshape, slice, tile or resize, no static operand with a spatial extent); else with the traced shape.
 *
 * @module
 */
import { BinaryWriter, tf, WireType } from "../deps.ts";
import { NotExportableError } from "./keras.ts";
import type { NetworkTrace, TracedOp, TraceRef } from "./trace.ts";

/** ONNX IR version and default-domain opset written. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

const FLOAT = 1, INT32 = 6, INT64 = 7, BOOL = 9;
const ELEM_TYPE: Readonly<Record<string, number>> = { float32: FLOAT, int32: INT32, bool: BOOL };

type Attr =
  | { readonly f: number }
  | { readonly i: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] };

interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attrs: Readonly<Record<string, Attr>>;
}

interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly raw: Uint8Array;
}

/** An encoded ONNX model and a summary of it. */
export interface OnnxModel {
  readonly bytes: Uint8Array;
  /** ONNX ops by type, e.g. `{ Conv: 10, Relu: 9, Transpose: 20 }`. */
  readonly opCounts: Readonly<Record<string, number>>;
  /** Number of values in the float initializers. */
  readonly parameters: number;
  /** The declared input shape (`null`: free). */
  readonly inputShape: readonly (number | null)[];
}

const UNARY: Readonly<Record<string, string>> = {
  Relu: "Relu",
  Sigmoid: "Sigmoid",
  Tanh: "Tanh",
  Softplus: "Softplus",
  Erf: "Erf",
  Abs: "Abs",
  Exp: "Exp",
  Log: "Log",
  Sqrt: "Sqrt",
  Neg: "Neg",
  Reciprocal: "Reciprocal",
  Floor: "Floor",
  Ceil: "Ceil",
  Sign: "Sign",
  Identity: "Identity",
  Selu: "Selu",
  LogicalNot: "Not",
};
const BINARY: Readonly<Record<string, string>> = {
  Add: "Add",
  AddV2: "Add",
  Sub: "Sub",
  Multiply: "Mul",
  RealDiv: "Div",
  Maximum: "Max",
  Minimum: "Min",
  Pow: "Pow",
  Greater: "Greater",
  GreaterEqual: "GreaterOrEqual",
  Less: "Less",
  LessEqual: "LessOrEqual",
  Equal: "Equal",
  Prelu: "PRelu",
};
const REDUCE: Readonly<Record<string, string>> = {
  Mean: "ReduceMean",
  Max: "ReduceMax",
  Min: "ReduceMin",
  Prod: "ReduceProd",
};
const SIZE_BOUND = new Set(["Reshape", "Slice", "Tile", "ResizeBilinear", "ResizeNearestNeighbor"]);

function bytesOf(value: tf.Tensor): Uint8Array {
  const data = value.dataSync();
  if (value.dtype === "bool") return Uint8Array.from(data as Uint8Array);
  const copy = value.dtype === "int32" ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array);
  return new Uint8Array(copy.buffer); // little-endian on every platform tfjs runs on
}

function int64Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
}

function perAxis(value: unknown, rank: number): number[] {
  return Array.isArray(value) ? value.map(Number) : Array(rank).fill(Number(value ?? 1));
}

/**
 * Translates a trace into an ONNX model. Throws {@link NotExportableError} naming the first layer that runs a
 * kernel with no ONNX mapping here.
 *
 * @example
 * ```ts
 * const trace = traceNetwork(net, store, [1, 16, 16, 16, 1]);
 * const { bytes } = onnxModelFromTrace(trace);
 * trace.dispose();
 * ```
 */
export function onnxModelFromTrace(trace: NetworkTrace, { name }: { name?: string } = {}): OnnxModel {
  const format = "ONNX";
  const nodes: OnnxNode[] = [];
  const initializers: Initializer[] = [];
  const staticNames = new Map<TraceRef, string>();
  const produced = new Map<string, string>();
  const taken = new Set<string>(["input"]);
  let sizeBound = false;

  const unique = (base: string) => {
    let n = base;
    for (let k = 1; taken.has(n); k++) n = `${base}_${k}`;
    taken.add(n);
    return n;
  };
  const initializer = (base: string, dims: readonly number[], dataType: number, raw: Uint8Array) => {
    const n = unique(base);
    initializers.push({ name: n, dims, dataType, raw });
    return n;
  };
  const int64s = (base: string, values: readonly number[], scalar = false) =>
    initializer(base, scalar ? [] : [values.length], INT64, int64Bytes(values));
  const node = (opType: string, inputs: string[], attrs: Record<string, Attr> = {}, base = opType): string => {
    const out = unique(base);
    nodes.push({ opType, inputs, outputs: [out], name: out, attrs });
    return out;
  };
  const valueOf = (ref: TraceRef, op: TracedOp): string => {
    if (ref.kind === "input") return "input";
    if (ref.kind === "op") {
      const n = produced.get(`${ref.id}:${ref.output}`);
      if (n) return n;
      throw new NotExportableError(trace.network, format, op, "whose input is not on the exported path");
    }
    const known = staticNames.get(ref);
    if (known) return known;
    const dataType = ELEM_TYPE[ref.value.dtype];
    if (!dataType) throw new NotExportableError(trace.network, format, op, `with a ${ref.value.dtype} constant`);
    if (ref.value.shape.length > 0 && ref.value.shape.slice(0, -1).some((d) => d > 1)) sizeBound = true;
    const n = initializer(ref.variable ?? `${op.scope}/const`, ref.value.shape, dataType, bytesOf(ref.value));
    staticNames.set(ref, n);
    return n;
  };
  // Channels-last ↔ channels-first around ONNX's NCHW-only ops.
  const toFirst = (x: string, rank: number, base: string) =>
    node(
      "Transpose",
      [x],
      { perm: { ints: [0, rank + 1, ...Array.from({ length: rank }, (_, i) => i + 1)] } },
      `${base}/to_nc`,
    );
  const toLast = (x: string, rank: number, base: string) =>
    node(
      "Transpose",
      [x],
      { perm: { ints: [0, ...Array.from({ length: rank }, (_, i) => i + 2), 1] } },
      `${base}/to_nhwc`,
    );
  const padMode = (op: TracedOp): string => {
    const pad = op.attrs.pad;
    if (pad === "same") return "SAME_UPPER";
    if (pad === "valid") return "VALID";
    throw new NotExportableError(trace.network, format, op, `with explicit padding ${JSON.stringify(pad)}`);
  };

  for (const op of trace.ops) {
    const base = `${op.scope}/${op.op}`;
    const inputs = () => op.inputs.map((r) => valueOf(r, op));
    const shape = op.outputShapes[0];
    let out: string;
    if (
      op.op === "Conv2D" || op.op === "Conv3D" || op.op === "Conv2DBackpropInput" || op.op === "Conv3DBackpropInputV2"
    ) {
      const transposed = op.op.includes("Backprop");
      const [x, w] = op.inputs;
      if (x.kind === "static" || w.kind !== "static") {
        throw new NotExportableError(trace.network, format, op, "with a kernel computed from the data");
      }
      const r = w.value.rank - 2;
      const kernel = [...w.value.shape.slice(0, r)];
      // [k…, in, out] (conv) or [k…, out, in] (transposed) → ONNX [out, in, k…] / [in, out, k…]: the same permutation.
      const wt = tf.tidy(() => tf.transpose(w.value, [r + 1, r, ...Array.from({ length: r }, (_, i) => i)]));
      const weight = initializer(w.variable ?? `${op.scope}/w`, wt.shape, FLOAT, bytesOf(wt));
      wt.dispose();
      const strides = perAxis(op.attrs.strides, r);
      const attrs: Record<string, Attr> = { kernel_shape: { ints: kernel }, strides: { ints: strides } };
      if (transposed) {
        const mode = padMode(op);
        // TensorFlow's transposed "same": total padding k − s (output = input · s), the smaller half first.
        const total = kernel.map((k, i) => (mode === "VALID" ? 0 : Math.max(k - strides[i], 0)));
        attrs.pads = { ints: [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))] };
      } else {
        const dilations = perAxis(op.attrs.dilations, r);
        const mode = padMode(op);
        attrs.dilations = { ints: dilations };
        if (mode === "SAME_UPPER" && strides.every((s) => s === 1)) {
          // Stride 1: "same" is (k − 1)·d in total, the smaller half first, whatever the size (onnxruntime refuses
          // auto_pad with dilation).
          const total = kernel.map((k, i) => (k - 1) * dilations[i]);
          attrs.pads = { ints: [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))] };
        } else attrs.auto_pad = { s: mode };
      }
      const first = toFirst(valueOf(x, op), r, base);
      const conv = node(transposed ? "ConvTranspose" : "Conv", [first, weight], attrs, base);
      out = toLast(conv, r, base);
    } else if (op.op in UNARY && op.inputs.length === 1) {
      out = node(UNARY[op.op], inputs(), {}, base);
    } else if (op.op === "Elu") {
      out = node("Elu", inputs(), { alpha: { f: 1 } }, base);
    } else if (op.op === "LeakyRelu") {
      out = node("LeakyRelu", inputs(), { alpha: { f: Number(op.attrs.alpha) } }, base);
    } else if (op.op === "Relu6") {
      const lo = initializer(`${base}/min`, [], FLOAT, new Uint8Array(new Float32Array([0]).buffer));
      const hi = initializer(`${base}/max`, [], FLOAT, new Uint8Array(new Float32Array([6]).buffer));
      out = node("Clip", [...inputs(), lo, hi], {}, base);
    } else if (op.op === "Rsqrt") {
      out = node("Reciprocal", [node("Sqrt", inputs(), {}, `${base}/sqrt`)], {}, base);
    } else if (op.op === "Square") {
      const [x] = inputs();
      out = node("Mul", [x, x], {}, base);
    } else if (op.op === "SquaredDifference") {
      const d = node("Sub", inputs(), {}, `${base}/sub`);
      out = node("Mul", [d, d], {}, base);
    } else if (op.op in BINARY && op.inputs.length === 2) {
      out = node(BINARY[op.op], inputs(), {}, base);
    } else if (op.op === "Select") {
      out = node("Where", inputs(), {}, base);
    } else if (op.op === "Softmax") {
      out = node("Softmax", inputs(), { axis: { i: Number(op.attrs.dim ?? -1) } }, base);
    } else if (op.op in REDUCE || op.op === "Sum") {
      const rank = shapeOfRef(op.inputs[0], trace).length;
      const axes = perAxis(op.attrs.axis, 1).map((a) => (a < 0 ? a + rank : a));
      const keepdims = { i: op.attrs.keepDims ? 1 : 0 };
      out = op.op === "Sum"
        ? node("ReduceSum", [...inputs(), int64s(`${base}/axes`, axes)], { keepdims }, base)
        : node(REDUCE[op.op], inputs(), { axes: { ints: axes }, keepdims }, base);
    } else if (op.op === "Concat") {
      out = node("Concat", inputs(), { axis: { i: Number(op.attrs.axis) } }, base);
    } else if (op.op === "Transpose") {
      out = node("Transpose", inputs(), { perm: { ints: perAxis(op.attrs.perm, 1) } }, base);
    } else if (op.op === "Reshape" && sameShape(shapeOfRef(op.inputs[0], trace), shape)) {
      produced.set(`${op.id}:0`, valueOf(op.inputs[0], op)); // a no-op (tf.moments reshapes its mean to itself)
      continue;
    } else if (op.op === "Reshape") {
      out = node("Reshape", [...inputs(), int64s(`${base}/shape`, shape)], {}, base);
    } else if (op.op === "PadV2" || op.op === "MirrorPad") {
      const paddings = (op.attrs.paddings as number[][]).map((p) => p.map(Number));
      const pads = int64s(`${base}/pads`, [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])]);
      if (op.op === "MirrorPad" && op.attrs.mode !== "reflect") {
        throw new NotExportableError(trace.network, format, op, `in mode ${op.attrs.mode} (ONNX: reflect only)`);
      }
      const value = Number(op.attrs.constantValue ?? 0);
      out = op.op === "PadV2"
        ? node(
          "Pad",
          [
            ...inputs(),
            pads,
            initializer(`${base}/value`, [], FLOAT, new Uint8Array(new Float32Array([value]).buffer)),
          ],
          {},
          base,
        )
        : node("Pad", [...inputs(), pads], { mode: { s: "reflect" } }, base);
    } else if (op.op === "Slice") {
      const begin = perAxis(op.attrs.begin, 1);
      const size = perAxis(op.attrs.size, 1);
      const ends = size.map((s, i) => (s < 0 ? 2 ** 62 : begin[i] + s));
      out = node(
        "Slice",
        [
          ...inputs(),
          int64s(`${base}/starts`, begin),
          int64s(`${base}/ends`, ends),
          int64s(`${base}/axes`, begin.map((_, i) => i)),
        ],
        {},
        base,
      );
    } else if (op.op === "Tile") {
      out = node("Tile", [...inputs(), int64s(`${base}/repeats`, perAxis(op.attrs.reps, 1))], {}, base);
    } else if (op.op === "Cast") {
      const to = ELEM_TYPE[String(op.attrs.dtype)];
      if (!to) throw new NotExportableError(trace.network, format, op, `to ${op.attrs.dtype}`);
      out = node("Cast", inputs(), { to: { i: to } }, base);
    } else if (op.op === "MaxPool" || op.op === "MaxPool3D" || op.op === "AvgPool" || op.op === "AvgPool3D") {
      const r = shape.length - 2;
      const first = toFirst(valueOf(op.inputs[0], op), r, base);
      const pooled = node(op.op.startsWith("Max") ? "MaxPool" : "AveragePool", [first], {
        kernel_shape: { ints: perAxis(op.attrs.filterSize, r) },
        strides: { ints: perAxis(op.attrs.strides, r) },
        auto_pad: { s: padMode(op) },
      }, base);
      out = toLast(pooled, r, base);
    } else if (op.op === "ResizeBilinear" || op.op === "ResizeNearestNeighbor") {
      const bilinear = op.op === "ResizeBilinear";
      const mode = op.attrs.alignCorners
        ? "align_corners"
        : op.attrs.halfPixelCenters
        ? (bilinear ? "half_pixel" : "tf_half_pixel_for_nn")
        : "asymmetric";
      const first = toFirst(valueOf(op.inputs[0], op), 2, base);
      const sizes = int64s(`${base}/sizes`, [shape[0], shape[3], shape[1], shape[2]]);
      const resized = node("Resize", [first, "", "", sizes], {
        mode: { s: bilinear ? "linear" : "nearest" },
        coordinate_transformation_mode: { s: mode },
        nearest_mode: { s: op.attrs.alignCorners ? "round_prefer_ceil" : "floor" },
      }, base);
      out = toLast(resized, 2, base);
    } else {
      throw new NotExportableError(trace.network, format, op, "which has no ONNX mapping here");
    }
    if (SIZE_BOUND.has(op.op)) sizeBound = true;
    produced.set(`${op.id}:0`, out);
  }

  const output = trace.output.kind === "op" ? produced.get(`${trace.output.id}:${trace.output.output}`) : undefined;
  if (!output) throw new Error(`cannot export network "${trace.network}": its output does not depend on its input`);
  const channels = trace.inputShape.at(-1)!;
  const inputShape = sizeBound
    ? [...trace.inputShape]
    : [null, ...trace.inputShape.slice(1, -1).map(() => null), channels];
  const final = node("Identity", [output], {}, "output");
  const opCounts: Record<string, number> = {};
  for (const n of nodes) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
  const parameters = initializers.filter((i) => i.dataType === FLOAT).reduce((s, i) => s + i.raw.length / 4, 0);
  const bytes = encodeModel({
    name: name ?? trace.network,
    nodes,
    initializers,
    input: { name: "input", shape: inputShape },
    output: { name: final, rank: trace.outputShape.length },
  });
  return { bytes, opCounts, parameters, inputShape };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function shapeOfRef(ref: TraceRef, trace: NetworkTrace): readonly number[] {
  if (ref.kind === "input") return trace.inputShape;
  if (ref.kind === "static") return ref.value.shape;
  return trace.ops[ref.id].outputShapes[ref.output];
}

// ---- protobuf encoding (field numbers from onnx/onnx.proto) ----

const LEN = WireType.LengthDelimited, VARINT = WireType.Varint;

function writeAttr(w: BinaryWriter, name: string, a: Attr): void {
  w.tag(1, LEN).string(name); // AttributeProto.name
  if ("f" in a) w.tag(2, WireType.Bit32).float(a.f).tag(20, VARINT).int32(1); // f, type FLOAT
  else if ("i" in a) w.tag(3, VARINT).int64(a.i).tag(20, VARINT).int32(2); // i, type INT
  else if ("s" in a) w.tag(4, LEN).bytes(new TextEncoder().encode(a.s)).tag(20, VARINT).int32(3); // s, STRING
  else if ("floats" in a) {
    for (const f of a.floats) w.tag(7, WireType.Bit32).float(f);
    w.tag(20, VARINT).int32(6); // FLOATS
  } else {
    for (const i of a.ints) w.tag(8, VARINT).int64(i);
    w.tag(20, VARINT).int32(7); // INTS
  }
}

function writeTensorType(w: BinaryWriter, dims: readonly (number | null)[] | undefined, rank: number): void {
  w.tag(1, LEN).fork(); // TypeProto.tensor_type
  w.tag(1, VARINT).int32(FLOAT); // elem_type
  w.tag(2, LEN).fork(); // shape
  for (let k = 0; k < rank; k++) {
    w.tag(1, LEN).fork(); // dim
    const d = dims?.[k] ?? null;
    if (d === null) w.tag(2, LEN).string(dims ? `d${k}` : `out${k}`); // dim_param
    else w.tag(1, VARINT).int64(d); // dim_value
    w.join();
  }
  w.join().join();
}

function encodeModel(m: {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly Initializer[];
  input: { name: string; shape: readonly (number | null)[] };
  output: { name: string; rank: number };
}): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, VARINT).int64(ONNX_IR_VERSION); // ModelProto.ir_version
  w.tag(2, LEN).string("NiftyTS"); // producer_name
  w.tag(3, LEN).string("0.1.0"); // producer_version
  w.tag(8, LEN).fork().tag(1, LEN).string("").tag(2, VARINT).int64(ONNX_OPSET).join(); // opset_import
  w.tag(7, LEN).fork(); // graph
  for (const n of m.nodes) {
    w.tag(1, LEN).fork(); // GraphProto.node
    for (const i of n.inputs) w.tag(1, LEN).string(i);
    for (const o of n.outputs) w.tag(2, LEN).string(o);
    w.tag(3, LEN).string(n.name).tag(4, LEN).string(n.opType);
    for (const [k, a] of Object.entries(n.attrs)) {
      w.tag(5, LEN).fork();
      writeAttr(w, k, a);
      w.join();
    }
    w.join();
  }
  w.tag(2, LEN).string(m.name); // GraphProto.name
  for (const t of m.initializers) {
    w.tag(5, LEN).fork(); // GraphProto.initializer: TensorProto
    for (const d of t.dims) w.tag(1, VARINT).int64(d); // dims
    w.tag(2, VARINT).int32(t.dataType).tag(8, LEN).string(t.name).tag(9, LEN).bytes(t.raw); // data_type, name, raw_data
    w.join();
  }
  w.tag(11, LEN).fork().tag(1, LEN).string(m.input.name).tag(2, LEN).fork(); // input: ValueInfoProto
  writeTensorType(w, m.input.shape, m.input.shape.length);
  w.join().join();
  w.tag(12, LEN).fork().tag(1, LEN).string(m.output.name).tag(2, LEN).fork(); // output
  writeTensorType(w, undefined, m.output.rank);
  w.join().join();
  w.join();
  return w.finish();
}
