/**
 * tfjs cpu kernel configs for the non-convolution hot spots of a 3D training step, in plain TypeScript (no
 * library needed): broadcast arithmetic, Sum/Mean over adjacent axes, non-contiguous Slice, SplitV, Concat,
 * PadV2, Transpose, Reverse, MaxPool3DGrad, Relu, Step and Softmax. Each hands every call it does not take to the kernel registered before it.
 *
 * Measured in a 64³ U-Net train step with the stock kernels (2 cores): SplitV 24 %, Multiply 22 %, Sum 12 %,
 * Sub 11 %, Mean 11 %, MaxPool3DGrad 5 % of kernel time, against 5 % for all convolutions on oneDNN.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { type BinaryOp, planBinary, runBinary } from "./binary.ts";
import type { DnnlPasses } from "./dnnl_passes.ts";
import { freshOutput } from "./_fresh_output.ts";
import { maxPool3dGrad } from "./max_pool_grad.ts";
import { planReduce, runReduce } from "./reduce.ts";
import { copyBlock, isContiguousBlock, type NumericArray, placeBlock, splitSizes } from "./slice.ts";
import { placeBox, sliceBox } from "./strided_copy.ts";
import { reverse, transpose } from "./transpose.ts";
import { relu, softmaxLastAxis, step } from "./unary.ts";

/** The tfjs kernels this module replaces on the cpu backend. */
export const FAST_HOST_KERNELS = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Sum",
  "Mean",
  "Slice",
  "SplitV",
  "MaxPool3DGrad",
  "Relu",
  "Step",
  "PadV2",
  "Transpose",
  "Reverse",
  "Concat",
  "Softmax",
] as const;

/** Name of a kernel in {@link FAST_HOST_KERNELS}. */
export type FastHostKernelName = typeof FAST_HOST_KERNELS[number];

/** Calls per kernel name served by the fast path (`fast`) or handed to the previous kernel (`fallback`). */
export type KernelCounts = Record<string, { fast: number; fallback: number }>;

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Attrs = Record<string, unknown>;

function values(backend: tf.KernelBackend, info: tf.TensorInfo | undefined): NumericArray | null {
  if (info === undefined || (info.dtype !== "float32" && info.dtype !== "int32" && info.dtype !== "bool")) return null;
  const v = backend.readSync(info.dataId);
  return v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array ? v : null;
}

function float32(backend: tf.KernelBackend, info: tf.TensorInfo | undefined): Float32Array | null {
  if (info?.dtype !== "float32") return null;
  const v = backend.readSync(info.dataId);
  return v instanceof Float32Array ? v : null;
}

function output(backend: tf.KernelBackend, data: NumericArray, shape: number[], dtype: tf.DataType): tf.TensorInfo {
  return { dataId: backend.write(data, shape, dtype), shape, dtype };
}

function binary(op: BinaryOp, { inputs, backend }: KernelArgs, passes?: DnnlPasses): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const a = float32(be, inputs.a), b = float32(be, inputs.b);
  if (!a || !b) return null;
  const plan = planBinary(inputs.a!.shape, inputs.b!.shape);
  if (!plan) return null;
  const n = plan.outer * plan.inner;
  if (passes && n >= passes.minElements) {
    // large: oneDNN's multi-threaded binary primitive, same bits
    const out = freshOutput(n);
    if (passes.binary(op, plan, a, b, out)) return output(be, out, plan.outShape, "float32");
  }
  return output(be, runBinary(op, plan, a, b), plan.outShape, "float32");
}

function reduce({ inputs, backend, attrs }: KernelArgs, mean: boolean): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const x = float32(be, inputs.x);
  const { axis, keepDims } = attrs as Attrs as { axis?: number | number[]; keepDims?: boolean };
  if (!x || inputs.x!.shape.length === 0) return null;
  const plan = planReduce(inputs.x!.shape, axis, keepDims ?? false);
  return plan && output(be, runReduce(plan, x, { mean }), plan.outShape, "float32");
}

/** The block `[begin, begin + size)` of `x` as a new array: one oneDNN reorder when large and float32. */
function sliceOf(
  x: NumericArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  passes?: DnnlPasses,
): NumericArray {
  const n = size.reduce((p, v) => p * v, 1);
  if (passes && x instanceof Float32Array && n >= passes.minElements) {
    const out = freshOutput(n);
    if (passes.copy(x, out, [sliceBox(shape, begin, size)])) return out;
  }
  return copyBlock(x, shape, begin, size, newLike(x, n));
}

/** Writes `x` into `out` at `begin`: one oneDNN reorder when large and float32. */
function place(
  x: NumericArray,
  shape: readonly number[],
  out: NumericArray,
  outShape: readonly number[],
  begin: readonly number[],
  passes?: DnnlPasses,
): void {
  const large = passes && x instanceof Float32Array && out instanceof Float32Array && x.length >= passes.minElements;
  if (large && passes.copy(x, out, [placeBox(shape, outShape, begin)])) return;
  placeBlock(x, shape, out, outShape, begin);
}

function slice({ inputs, backend, attrs }: KernelArgs, passes?: DnnlPasses): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.x, x = values(be, info);
  if (!info || !x || info.shape.length === 0) return null;
  const a = attrs as Attrs as { begin: number | number[]; size?: number | number[] };
  let begin: number[], size: number[];
  try {
    [begin, size] = tf.slice_util.parseSliceParams(info as tf.Tensor, a.begin, a.size);
  } catch {
    return null;
  }
  if (isContiguousBlock(info.shape, begin, size)) return null; // the stock kernel shares these
  return output(be, sliceOf(x, info.shape, begin, size, passes), size, info.dtype);
}

function splitV({ inputs, backend, attrs }: KernelArgs, passes?: DnnlPasses): tf.TensorInfo[] | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.x, x = values(be, info);
  if (!info || !x || info.shape.length === 0) return null;
  const a = attrs as Attrs as { numOrSizeSplits: number | number[]; axis: number | number[] };
  const rank = info.shape.length;
  const rawAxis = Array.isArray(a.axis) ? a.axis[0] : a.axis ?? 0;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) return null;
  const sizes = splitSizes(info.shape[axis], a.numOrSizeSplits);
  if (!sizes) return null;
  const begin = new Array<number>(rank).fill(0);
  return sizes.map((s) => {
    const size = [...info.shape];
    size[axis] = s;
    const out = sliceOf(x, info.shape, begin, size, passes);
    begin[axis] += s;
    return output(be, out, size, info.dtype);
  });
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const input = inputs.input, x = float32(be, input), dy = float32(be, inputs.dy);
  if (!input || !x || !dy || input.shape.length !== 5) return null;
  const a = attrs as Attrs as {
    filterSize: number | [number, number, number];
    strides: number | [number, number, number];
    pad: "same" | "valid" | number;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const i = tf.backend_util.computePool3DInfo(
    input.shape as [number, number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  if (dy.length !== i.outShape.reduce((p, n) => p * n, 1)) return null;
  const dx = maxPool3dGrad(x, dy, {
    batch: i.batchSize,
    channels: i.inChannels,
    inSize: [i.inDepth, i.inHeight, i.inWidth],
    outSize: [i.outDepth, i.outHeight, i.outWidth],
    strides: [i.strideDepth, i.strideHeight, i.strideWidth],
    filter: [i.filterDepth, i.filterHeight, i.filterWidth],
    padsBefore: [i.padInfo.front, i.padInfo.top, i.padInfo.left],
  });
  return output(be, dx, [...input.shape], "float32");
}

function unary({ inputs, backend, attrs }: KernelArgs, op: "Relu" | "Step"): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const x = float32(be, inputs.x);
  if (!x) return null;
  const out = op === "Relu" ? relu(x) : step(x, Number((attrs as Attrs).alpha ?? 0));
  return output(be, out, [...inputs.x!.shape], "float32");
}

/** A zeroed array of `x`'s type; float32 ones through freshOutput (huge pages when large: far fewer page faults). */
function newLike(x: NumericArray, length: number): NumericArray {
  if (x instanceof Float32Array) return freshOutput(length);
  return new (x.constructor as new (n: number) => NumericArray)(length);
}

function pad({ inputs, backend, attrs }: KernelArgs, passes?: DnnlPasses): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.x, x = values(be, info);
  const { paddings, constantValue } = attrs as Attrs as { paddings: Array<[number, number]>; constantValue?: number };
  if (!info || !x || info.shape.length === 0 || paddings?.length !== info.shape.length) return null;
  if (paddings.some(([a, b]) => !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)) return null;
  const outShape = info.shape.map((n, i) => paddings[i][0] + n + paddings[i][1]);
  const out = newLike(x, outShape.reduce((p, n) => p * n, 1));
  if (constantValue) out.fill(constantValue);
  place(x, info.shape, out, outShape, paddings.map((p) => p[0]), passes);
  return output(be, out, outShape, info.dtype);
}

function transposeKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.x, x = values(be, info);
  const perm = (attrs as Attrs).perm as number[] | undefined;
  if (!info || !x || !perm || perm.length !== info.shape.length || info.shape.length === 0) return null;
  if ([...perm].sort((a, b) => a - b).some((p, i) => p !== i)) return null;
  const outShape = perm.map((p) => info.shape[p]);
  // axes of length 1 do not move data: drop them, renumbering the rest
  const kept = info.shape.flatMap((n, i) => (n === 1 ? [] : [i]));
  const shape = kept.map((i) => info.shape[i]);
  const squeezedPerm = perm.filter((p) => info.shape[p] !== 1).map((p) => kept.indexOf(p));
  const out = newLike(x, x.length);
  if (shape.length === 0) out.set(x);
  else transpose(x, shape, squeezedPerm, out);
  return output(be, out, outShape, info.dtype);
}

function reverseKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.x, x = values(be, info);
  if (!info || !x || info.shape.length === 0) return null;
  const raw = (attrs as Attrs).dims as number | number[] | undefined;
  const rank = info.shape.length;
  const dims = (raw === undefined ? [] : typeof raw === "number" ? [raw] : raw).map((d) => (d < 0 ? d + rank : d));
  if (dims.some((d) => !Number.isInteger(d) || d < 0 || d >= rank)) return null;
  return output(be, reverse(x, info.shape, [...new Set(dims)], newLike(x, x.length)), [...info.shape], info.dtype);
}

function concat({ inputs, backend, attrs }: KernelArgs, passes?: DnnlPasses): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const list = inputs as unknown as tf.TensorInfo[];
  if (!Array.isArray(list) || list.length < 2) return null;
  const dtype = list[0].dtype, rank = list[0].shape.length;
  const raw = (attrs as Attrs).axis as number | number[];
  const first = Array.isArray(raw) ? raw[0] : raw;
  const axis = first < 0 ? first + rank : first;
  if (rank === 0 || !Number.isInteger(axis) || axis < 0 || axis >= rank) return null;
  const arrays: NumericArray[] = [];
  for (const t of list) {
    const v = values(be, t);
    if (!v || t.dtype !== dtype || t.shape.length !== rank) return null;
    if (t.shape.some((n, i) => i !== axis && n !== list[0].shape[i])) return null;
    arrays.push(v);
  }
  const outShape = [...list[0].shape];
  outShape[axis] = list.reduce((p, t) => p + t.shape[axis], 0);
  const out = newLike(arrays[0], outShape.reduce((p, n) => p * n, 1));
  const begin = new Array<number>(rank).fill(0);
  list.forEach((t, i) => {
    place(arrays[i], t.shape, out, outShape, begin, passes);
    begin[axis] += t.shape[axis];
  });
  return output(be, out, outShape, dtype);
}

function softmax({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const be = backend as tf.KernelBackend;
  const info = inputs.logits, x = float32(be, info);
  const dim = (attrs as Attrs).dim as number | undefined;
  if (!info || !x || info.shape.length === 0) return null;
  const rank = info.shape.length;
  if (dim !== undefined && dim !== -1 && dim !== rank - 1) return null;
  const n = info.shape[rank - 1];
  if (n === 0) return null;
  return output(be, softmaxLastAxis(x, n), [...info.shape], "float32");
}

function fastPath(
  name: FastHostKernelName,
  args: KernelArgs,
  passes?: DnnlPasses,
): tf.TensorInfo | tf.TensorInfo[] | null {
  switch (name) {
    case "Add":
    case "Sub":
    case "Multiply":
    case "RealDiv":
      return binary(name, args, passes);
    case "Sum":
      return reduce(args, false);
    case "Mean":
      return reduce(args, true);
    case "Slice":
      return slice(args, passes);
    case "SplitV":
      return splitV(args, passes);
    case "MaxPool3DGrad":
      return maxPoolGrad(args);
    case "Relu":
    case "Step":
      return unary(args, name);
    case "PadV2":
      return pad(args, passes);
    case "Transpose":
      return transposeKernel(args);
    case "Reverse":
      return reverseKernel(args);
    case "Concat":
      return concat(args, passes);
    case "Softmax":
      return softmax(args);
  }
}

/**
 * A cpu kernel config for `name` that calls `fallback` for anything its fast path does not take; with `passes`
 * (oneDNN opened), large arrays run on oneDNN's multi-threaded primitives.
 */
export function fastHostKernelConfig(
  name: FastHostKernelName,
  fallback: tf.KernelConfig,
  { counts, passes }: { counts: KernelCounts; passes?: DnnlPasses },
): tf.KernelConfig {
  counts[name] ??= { fast: 0, fallback: 0 };
  return {
    kernelName: name,
    backendName: "cpu",
    kernelFunc: (args) => {
      const out = fastPath(name, args, passes);
      if (out === null) {
        counts[name].fallback++;
        return fallback.kernelFunc(args);
      }
      counts[name].fast++;
      return out;
    },
  };
}
