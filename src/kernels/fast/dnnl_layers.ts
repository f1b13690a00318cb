/**
 * The inference layers around the convolutions of a U-Net-like network, on channels-last host Float32Arrays through
 * oneDNN (multi-threaded, vectorised): max/average pooling, linear (bilinear/trilinear, half-pixel centres) and
 * nearest resampling, and concatenation along the channels. Each geometry is built once into a {@link LayerPlan}
 * (primitive creation JIT-compiles code) that the caller runs on every window and destroys.
 *
 * @module
 */
import {
  check,
  DNNL,
  type Dnnl,
  DNNL_LAYER_ALG,
  LAYER_DESC_BYTES,
  MEMORY_DESC_BYTES,
  MEMORY_DESC_STRUCT_BYTES,
  outPointer,
} from "./_dnnl_ffi.ts";
import { execArgs, implementationOf, PlanBuilder, stable } from "./dnnl_conv.ts";

/** A ready-to-run oneDNN layer for one geometry. */
export interface LayerPlan {
  /** oneDNN's name of the implementation it picked (e.g. `jit:avx512_core`). */
  readonly implementation: string;
  /** Computes `y` from `inputs` (one for pooling and resampling, one per part for concatenation). */
  run(inputs: readonly Float32Array[], y: Float32Array): void;
  destroy(): void;
}

/** Geometry of a pooling: channels-last `[batch, …inSize, channels]` to `[batch, …outSize, channels]`. */
export interface PoolSpec {
  readonly batch: number;
  readonly channels: number;
  readonly inSize: readonly number[];
  readonly outSize: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly padsBefore: readonly number[];
  readonly padsAfter: readonly number[];
  /** `avg` averages over the window's positions inside the input (padding excluded, as tfjs does). */
  readonly alg: "max" | "avg";
}

/** Geometry of a resampling: channels-last `[batch, …inSize, channels]` to `[batch, …outSize, channels]`. */
export interface ResampleSpec {
  readonly batch: number;
  readonly channels: number;
  readonly inSize: readonly number[];
  readonly outSize: readonly number[];
  /** `linear`: source position `(i + ½)·in/out − ½`, clamped at the edges (tfjs `halfPixelCenters`, PyTorch). */
  readonly alg: "linear" | "nearest";
}

const MAX_DIMS = 12;
const ARG_MULTIPLE_SRC = 1024;

function dimsOf(values: readonly number[]): BigInt64Array {
  const d = new BigInt64Array(MAX_DIMS);
  values.forEach((v, i) => d[i] = BigInt(v));
  return d;
}

function channelsLastTag(spatial: number): number {
  if (spatial === 3) return DNNL.ndhwc;
  if (spatial === 2) return DNNL.nhwc;
  throw new Error(`oneDNN layer: expected 2 or 3 spatial axes, got ${spatial}`);
}

/** A one-input, one-output plan around primitive descriptor `pd` (built by `b`). */
function singlePlan(dnnl: Dnnl, b: PlanBuilder, pd: Deno.PointerValue, srcMd: Uint8Array, dstMd: Uint8Array) {
  const fn = dnnl.fn;
  const prim = b.prim(pd);
  const src = b.mem(Deno.UnsafePointer.of(srcMd)), dst = b.mem(Deno.UnsafePointer.of(dstMd));
  const args = execArgs([[DNNL.argSrc, src], [DNNL.argDst, dst]]);
  const implementation = implementationOf(dnnl, pd);
  return {
    implementation,
    run(inputs: readonly Float32Array[], y: Float32Array) {
      const sx = stable(inputs[0]), sy = stable(y);
      if (sx !== inputs[0]) sx.set(inputs[0]);
      check(fn.dnnl_memory_set_data_handle(src, Deno.UnsafePointer.of(sx)), "memory_set_data_handle");
      check(fn.dnnl_memory_set_data_handle(dst, Deno.UnsafePointer.of(sy)), "memory_set_data_handle");
      check(fn.dnnl_primitive_execute(prim, dnnl.stream, 2, args), "layer execute");
      check(fn.dnnl_stream_wait(dnnl.stream), "stream_wait");
      if (sy !== y) y.set(sy);
    },
    destroy: () => b.destroy(),
  };
}

/** The first implementation of `desc` whose name does not start with `avoid` (else the first one). */
function pdAvoiding(dnnl: Dnnl, b: PlanBuilder, desc: Uint8Array<ArrayBuffer>, avoid: string): Deno.PointerValue {
  const fn = dnnl.fn;
  const cell = new BigUint64Array(1);
  check(fn.dnnl_primitive_desc_iterator_create(cell, desc, null, dnnl.engine, null), "primitive_desc_iterator");
  const it = outPointer(cell);
  try {
    let first: Deno.PointerValue = null;
    do {
      const pd = fn.dnnl_primitive_desc_iterator_fetch(it);
      if (pd === null) continue;
      if (!implementationOf(dnnl, pd).startsWith(avoid)) {
        if (first !== null) fn.dnnl_primitive_desc_destroy(first);
        b.pds.push(pd);
        return pd;
      }
      if (first === null) first = pd;
      else fn.dnnl_primitive_desc_destroy(pd);
    } while (fn.dnnl_primitive_desc_iterator_next(it) === DNNL.success);
    if (first === null) throw new Error("oneDNN primitive_desc_iterator: no implementation");
    b.pds.push(first);
    return first;
  } finally {
    fn.dnnl_primitive_desc_iterator_destroy(it);
  }
}

/** Builds a pooling plan; throws when oneDNN rejects the geometry. */
export function buildPoolPlan(dnnl: Dnnl, spec: PoolSpec): LayerPlan {
  const tag = channelsLastTag(spec.inSize.length);
  const b = new PlanBuilder(dnnl);
  try {
    const srcMd = b.md([spec.batch, spec.channels, ...spec.inSize], tag);
    const dstMd = b.md([spec.batch, spec.channels, ...spec.outSize], tag);
    const desc = new Uint8Array(LAYER_DESC_BYTES);
    const alg = spec.alg === "max" ? DNNL_LAYER_ALG.poolingMax : DNNL_LAYER_ALG.poolingAvgExcludePadding;
    check(
      dnnl.fn.dnnl_pooling_forward_desc_init(
        desc,
        DNNL.forwardInference,
        alg,
        srcMd,
        dstMd,
        dimsOf(spec.strides),
        dimsOf(spec.kernel),
        dimsOf(spec.padsBefore),
        dimsOf(spec.padsAfter),
      ),
      "pooling_forward_desc_init",
    );
    return singlePlan(dnnl, b, b.pd(desc, null), srcMd, dstMd);
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** Builds a resampling plan; throws when oneDNN rejects the geometry. */
export function buildResamplePlan(dnnl: Dnnl, spec: ResampleSpec): LayerPlan {
  const tag = channelsLastTag(spec.inSize.length);
  const b = new PlanBuilder(dnnl);
  try {
    const srcMd = b.md([spec.batch, spec.channels, ...spec.inSize], tag);
    const dstMd = b.md([spec.batch, spec.channels, ...spec.outSize], tag);
    const desc = new Uint8Array(LAYER_DESC_BYTES);
    const alg = spec.alg === "linear" ? DNNL_LAYER_ALG.resamplingLinear : DNNL_LAYER_ALG.resamplingNearest;
    // no factors: oneDNN takes them from the sizes (out / in per axis)
    check(
      dnnl.fn.dnnl_resampling_forward_desc_init(desc, DNNL.forwardInference, alg, null, srcMd, dstMd),
      "resampling_forward_desc_init",
    );
    // oneDNN 2.6's first choice, `jit:avx512_core_bf16`, crashes (SIGSEGV) on outputs of about 48³ × 16 channels
    // and up in f32, in either layout and with one thread: take the next implementation, `simple:any`.
    return singlePlan(dnnl, b, pdAvoiding(dnnl, b, desc, "jit:"), srcMd, dstMd);
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/**
 * Builds the concatenation along the channels of channels-last tensors of one spatial size (`channels[i]` channels
 * in part `i`); throws when oneDNN rejects it.
 */
export function buildConcatPlan(
  dnnl: Dnnl,
  batch: number,
  size: readonly number[],
  channels: readonly number[],
): LayerPlan {
  const tag = channelsLastTag(size.length);
  const fn = dnnl.fn;
  const b = new PlanBuilder(dnnl);
  try {
    const total = channels.reduce((s, c) => s + c, 0);
    const dstMd = b.md([batch, total, ...size], tag);
    // the sources as one C array of descriptors (exact struct size), with room for oneDNN to write each fully
    const srcMds = new Uint8Array(MEMORY_DESC_STRUCT_BYTES * channels.length + MEMORY_DESC_BYTES);
    b.keep.push(srcMds);
    channels.forEach((c, i) => {
      const at = srcMds.subarray(i * MEMORY_DESC_STRUCT_BYTES);
      const dims = dimsOf([batch, c, ...size]);
      check(fn.dnnl_memory_desc_init_by_tag(at, size.length + 2, dims, DNNL.f32, tag), "memory_desc_init");
    });
    const cell = new BigUint64Array(1);
    check(
      fn.dnnl_concat_primitive_desc_create(cell, dstMd, channels.length, 1, srcMds, null, dnnl.engine),
      "concat_primitive_desc_create",
    );
    const pd = outPointer(cell);
    b.pds.push(pd);
    const prim = b.prim(pd);
    const srcBase = Deno.UnsafePointer.value(Deno.UnsafePointer.of(srcMds));
    const srcs = channels.map((_, i) =>
      b.mem(Deno.UnsafePointer.create(BigInt(srcBase) + BigInt(i * MEMORY_DESC_STRUCT_BYTES)))
    );
    const dst = b.mem(Deno.UnsafePointer.of(dstMd));
    const args = execArgs([...srcs.map((m, i): [number, Deno.PointerValue] => [ARG_MULTIPLE_SRC + i, m]), [
      DNNL.argDst,
      dst,
    ]]);
    const implementation = implementationOf(dnnl, pd);
    const set = (mem: Deno.PointerValue, a: Float32Array) =>
      check(fn.dnnl_memory_set_data_handle(mem, Deno.UnsafePointer.of(a)), "memory_set_data_handle");
    return {
      implementation,
      run(inputs, y) {
        if (inputs.length !== channels.length) {
          throw new Error(`oneDNN concat: expected ${channels.length} inputs, got ${inputs.length}`);
        }
        inputs.forEach((x, i) => {
          const sx = stable(x);
          if (sx !== x) sx.set(x);
          set(srcs[i], sx);
        });
        const sy = stable(y);
        set(dst, sy);
        check(fn.dnnl_primitive_execute(prim, dnnl.stream, srcs.length + 1, args), "concat execute");
        check(fn.dnnl_stream_wait(dnnl.stream), "stream_wait");
        if (sy !== y) y.set(sy);
      },
      destroy: () => b.destroy(),
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}
