/**
 * 2D/3D convolution forward, input gradient and filter gradient on host Float32Arrays through oneDNN, in tfjs's
 * layouts: activations channels-last (NHWC / NDHWC), filters `[k…, in, out]`.
 *
 * oneDNN reads and writes the channels-last activations in place (its AVX-512 kernels take them directly); only
 * the small filter is reordered into the blocked layout the chosen kernel wants. Each distinct geometry is turned
 * into a {@link ConvPlan} once (primitive creation JIT-compiles code) and kept in a small cache.
 *
 * @module
 */
import { check, CONV_DESC_BYTES, DNNL, type Dnnl, DNNL_ELTWISE, MEMORY_DESC_BYTES, outPointer } from "./_dnnl_ffi.ts";

/** Geometry of one convolution: batch, channels and per-spatial-axis sizes (2 or 3 axes). */
export interface ConvSpec {
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly inSize: readonly number[];
  readonly outSize: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBefore: readonly number[];
  readonly padsAfter: readonly number[];
}

/**
 * Memory layouts of a plan's tensors: activations channels-last (`nxc`, tfjs's) or channels-first (`ncx`); filters
 * `[k…, in, out]` (`xio`, tfjs's) or `[in, k…, out]` (`ixo`).
 */
export interface ConvLayouts {
  readonly src: "nxc" | "ncx";
  readonly weights: "xio" | "ixo";
}

/** tfjs's layouts. */
export const TFJS_LAYOUTS: ConvLayouts = { src: "nxc", weights: "xio" };

/** Which pass of the convolution a plan computes. */
export type ConvPass = "forward" | "backwardData" | "backwardWeights";

/** A ready-to-run oneDNN convolution for one geometry and pass. */
export interface ConvPlan {
  readonly pass: ConvPass;
  /** oneDNN's name of the implementation it picked (e.g. `brg:avx512_core`). */
  readonly implementation: string;
  /** Runs the pass: `a`, `b` are the inputs (forward: x, w; backwardData: dy, w; backwardWeights: x, dy). */
  run(a: Float32Array, b: Float32Array, out: Float32Array): void;
  destroy(): void;
}

const MAX_DIMS = 12;

function dimsOf(values: readonly number[]): BigInt64Array {
  const d = new BigInt64Array(MAX_DIMS);
  values.forEach((v, i) => d[i] = BigInt(v));
  return d;
}

/** V8 may keep tiny typed arrays inside its moving heap; give oneDNN a stable, separately allocated copy. */
const STABLE_BYTES = 256;
/** `a`, or a same-length view of a separately allocated buffer when `a` is small enough to move (copy in/out). */
export function stable(a: Float32Array): Float32Array {
  return a.byteLength >= STABLE_BYTES ? a : new Float32Array(new ArrayBuffer(STABLE_BYTES)).subarray(0, a.length);
}

/** Collects the oneDNN objects a plan creates, to destroy them together. */
export class PlanBuilder {
  readonly #dnnl: Dnnl;
  readonly #cell = new BigUint64Array(1);
  readonly pds: Deno.PointerValue[] = [];
  readonly prims: Deno.PointerValue[] = [];
  readonly mems: Deno.PointerValue[] = [];
  /** Buffers oneDNN holds pointers into (descriptors) stay referenced for the plan's life. */
  readonly keep: unknown[] = [];

  constructor(dnnl: Dnnl) {
    this.#dnnl = dnnl;
  }

  md(dims: readonly number[], tag: number): Uint8Array<ArrayBuffer> {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(this.#dnnl.fn.dnnl_memory_desc_init_by_tag(md, dims.length, dimsOf(dims), DNNL.f32, tag), "memory_desc_init");
    this.keep.push(md);
    return md;
  }

  pd(opDesc: Uint8Array<ArrayBuffer>, hint: Deno.PointerValue): Deno.PointerValue {
    const status = this.#dnnl.fn.dnnl_primitive_desc_create(this.#cell, opDesc, null, this.#dnnl.engine, hint);
    check(status, "primitive_desc_create");
    const pd = outPointer(this.#cell);
    this.pds.push(pd);
    return pd;
  }

  reorderPd(from: Deno.PointerValue, to: Deno.PointerValue): Deno.PointerValue {
    const e = this.#dnnl.engine;
    check(this.#dnnl.fn.dnnl_reorder_primitive_desc_create(this.#cell, from, e, to, e, null), "reorder_pd_create");
    const pd = outPointer(this.#cell);
    this.pds.push(pd);
    return pd;
  }

  prim(pd: Deno.PointerValue): Deno.PointerValue {
    check(this.#dnnl.fn.dnnl_primitive_create(this.#cell, pd), "primitive_create");
    const p = outPointer(this.#cell);
    this.prims.push(p);
    return p;
  }

  mem(md: Deno.PointerValue): Deno.PointerValue {
    check(this.#dnnl.fn.dnnl_memory_create(this.#cell, md, this.#dnnl.engine, null), "memory_create");
    const m = outPointer(this.#cell);
    this.mems.push(m);
    return m;
  }

  destroy(): void {
    const fn = this.#dnnl.fn;
    this.mems.forEach((m) => fn.dnnl_memory_destroy(m));
    this.prims.forEach((p) => fn.dnnl_primitive_destroy(p));
    this.pds.forEach((p) => fn.dnnl_primitive_desc_destroy(p));
    this.mems.length = this.prims.length = this.pds.length = 0;
  }
}

/** oneDNN's implementation name of a primitive descriptor. */
export function implementationOf(dnnl: Dnnl, pd: Deno.PointerValue): string {
  const cell = new BigUint64Array(1);
  if (dnnl.fn.dnnl_primitive_desc_query(pd, DNNL.queryImplInfoStr, 0, cell) !== DNNL.success) return "unknown";
  const p = outPointer(cell);
  return p === null ? "unknown" : Deno.UnsafePointerView.getCString(p);
}

/** `dnnl_exec_arg_t` array: { int arg; dnnl_memory_t memory; } × n (16 bytes each). */
export function execArgs(pairs: Array<[number, Deno.PointerValue]>): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(16 * pairs.length);
  const view = new DataView(bytes.buffer);
  pairs.forEach(([arg, mem], i) => {
    view.setInt32(16 * i, arg, true);
    view.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
  });
  return bytes;
}

function ptr(a: Float32Array): Deno.PointerValue {
  return Deno.UnsafePointer.of(a);
}

/** Builds the plan for `pass` of the convolution `spec`; throws when oneDNN rejects the geometry. */
export function buildConvPlan(
  dnnl: Dnnl,
  spec: ConvSpec,
  pass: ConvPass,
  layouts: ConvLayouts = TFJS_LAYOUTS,
): ConvPlan {
  const rank = spec.inSize.length;
  if (rank !== 2 && rank !== 3) throw new Error(`fast conv: expected 2 or 3 spatial axes, got ${rank}`);
  const actTag = rank === 3 ? DNNL.ndhwc : DNNL.nhwc;
  const srcTag = layouts.src === "nxc" ? actTag : rank === 3 ? DNNL.ncdhw : DNNL.nchw;
  const wTag = layouts.weights === "xio" ? (rank === 3 ? DNNL.dhwio : DNNL.hwio) : rank === 3 ? DNNL.idhwo : DNNL.ihwo;
  const fn = dnnl.fn;
  const b = new PlanBuilder(dnnl);
  try {
    const srcDims = [spec.batch, spec.inChannels, ...spec.inSize];
    const srcMd = b.md(srcDims, actTag);
    const dstMd = b.md([spec.batch, spec.outChannels, ...spec.outSize], actTag);
    const wDims = [spec.outChannels, spec.inChannels, ...spec.kernel];
    const wUserMd = b.md(wDims, wTag);
    const wAnyMd = b.md(wDims, DNNL.formatAny);
    const strides = dimsOf(spec.strides);
    const dilates = dimsOf(spec.dilations.map((d) => d - 1)); // oneDNN counts the gaps, not the rate
    const padL = dimsOf(spec.padsBefore);
    const padR = dimsOf(spec.padsAfter);
    const geometry = [strides, dilates, padL, padR] as const;

    const fwdDesc = new Uint8Array(CONV_DESC_BYTES);
    check(
      fn.dnnl_dilated_convolution_forward_desc_init(
        fwdDesc,
        DNNL.forwardTraining,
        DNNL.convolutionDirect,
        srcMd,
        wAnyMd,
        null,
        dstMd,
        ...geometry,
      ),
      "convolution_forward_desc_init",
    );
    const fwdPd = b.pd(fwdDesc, null);
    const wUserPtr = Deno.UnsafePointer.of(wUserMd);
    const srcPtr = Deno.UnsafePointer.of(srcMd);
    const dstPtr = Deno.UnsafePointer.of(dstMd);

    let pd = fwdPd;
    let wQuery: number = DNNL.queryWeightsMd;
    if (pass === "backwardData") {
      const desc = new Uint8Array(CONV_DESC_BYTES);
      check(
        fn.dnnl_dilated_convolution_backward_data_desc_init(
          desc,
          DNNL.convolutionDirect,
          srcMd,
          wAnyMd,
          dstMd,
          ...geometry,
        ),
        "convolution_backward_data_desc_init",
      );
      pd = b.pd(desc, fwdPd);
    } else if (pass === "backwardWeights") {
      const desc = new Uint8Array(CONV_DESC_BYTES);
      check(
        fn.dnnl_dilated_convolution_backward_weights_desc_init(
          desc,
          DNNL.convolutionDirect,
          srcMd,
          wAnyMd,
          null,
          dstMd,
          ...geometry,
        ),
        "convolution_backward_weights_desc_init",
      );
      pd = b.pd(desc, fwdPd);
      wQuery = DNNL.queryDiffWeightsMd;
    }
    const implementation = implementationOf(dnnl, pd);
    const conv = b.prim(pd);
    const wPdPtr = fn.dnnl_primitive_desc_query_md(pd, wQuery, 0);
    const srcMem = b.mem(srcPtr), dstMem = b.mem(dstPtr), wUserMem = b.mem(wUserPtr);

    // A channels-first source is reordered into a channels-last buffer first: oneDNN's fast kernels want that.
    let srcUserMem = srcMem, srcReorder: Deno.PointerValue = null;
    if (srcTag !== actTag) {
      if (pass === "backwardData") throw new Error("fast conv: a channels-first layout is for forward/weights passes");
      const srcUserPtr = Deno.UnsafePointer.of(b.md(srcDims, srcTag));
      srcUserMem = b.mem(srcUserPtr);
      const srcBuffer = new Float32Array(Math.ceil(Number(fn.dnnl_memory_desc_get_size(srcPtr)) / 4) + 16);
      b.keep.push(srcBuffer);
      check(fn.dnnl_memory_set_data_handle(srcMem, ptr(srcBuffer)), "memory_set_data_handle");
      srcReorder = b.prim(b.reorderPd(srcUserPtr, srcPtr));
    }
    const srcReorderArgs = execArgs([[DNNL.argSrc, srcUserMem], [DNNL.argDst, srcMem]]);

    // The filter in the kernel's own layout, when that differs from tfjs's.
    let wMem = wUserMem, reorder: Deno.PointerValue = null, wBuffer: Float32Array | null = null;
    if (fn.dnnl_memory_desc_equal(wUserPtr, wPdPtr) === 0) {
      wMem = b.mem(wPdPtr);
      wBuffer = new Float32Array(Math.ceil(Number(fn.dnnl_memory_desc_get_size(wPdPtr)) / 4) + 16);
      b.keep.push(wBuffer);
      check(fn.dnnl_memory_set_data_handle(wMem, ptr(wBuffer)), "memory_set_data_handle");
      reorder = pass === "backwardWeights"
        ? b.prim(b.reorderPd(wPdPtr, wUserPtr))
        : b.prim(b.reorderPd(wUserPtr, wPdPtr));
    }
    const [aMem, bMem, outMem] = pass === "forward"
      ? [srcUserMem, wUserMem, dstMem]
      : pass === "backwardData"
      ? [dstMem, wUserMem, srcMem]
      : [srcUserMem, dstMem, wUserMem];
    const convArgs = execArgs(
      pass === "forward"
        ? [[DNNL.argSrc, srcMem], [DNNL.argWeights, wMem], [DNNL.argDst, dstMem]]
        : pass === "backwardData"
        ? [[DNNL.argDiffDst, dstMem], [DNNL.argWeights, wMem], [DNNL.argDiffSrc, srcMem]]
        : [[DNNL.argSrc, srcMem], [DNNL.argDiffDst, dstMem], [DNNL.argDiffWeights, wMem]],
    );
    const reorderArgs = pass === "backwardWeights"
      ? execArgs([[DNNL.argSrc, wMem], [DNNL.argDst, wUserMem]])
      : execArgs([[DNNL.argSrc, wUserMem], [DNNL.argDst, wMem]]);
    const stream = dnnl.stream;
    const set = (mem: Deno.PointerValue, a: Float32Array) =>
      check(fn.dnnl_memory_set_data_handle(mem, ptr(a)), "memory_set_data_handle");

    return {
      pass,
      implementation,
      run(a, bIn, out) {
        const sa = stable(a), sb = stable(bIn), so = stable(out);
        if (sa !== a) sa.set(a);
        if (sb !== bIn) sb.set(bIn);
        set(aMem, sa);
        set(bMem, sb);
        set(outMem, so);
        if (srcReorder !== null) {
          check(fn.dnnl_primitive_execute(srcReorder, stream, 2, srcReorderArgs), "reorder execute");
        }
        if (reorder !== null && pass !== "backwardWeights") {
          check(fn.dnnl_primitive_execute(reorder, stream, 2, reorderArgs), "reorder execute");
        }
        check(fn.dnnl_primitive_execute(conv, stream, 3, convArgs), "convolution execute");
        if (reorder !== null && pass === "backwardWeights") {
          check(fn.dnnl_primitive_execute(reorder, stream, 2, reorderArgs), "reorder execute");
        }
        check(fn.dnnl_stream_wait(stream), "stream_wait");
        if (so !== out) out.set(so);
      },
      destroy: () => b.destroy(),
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** An element-wise function oneDNN applies to a convolution's output before writing it (a post-op). */
export interface EltwiseOp {
  readonly alg: keyof typeof DNNL_ELTWISE;
  /** The algorithm's α (negative slope of relu, α of elu, slope of linear, upper bound of bounded relu). */
  readonly alpha?: number;
  /** The algorithm's β (offset of linear). */
  readonly beta?: number;
}

/** Options of {@link buildFusedConvPlan}. */
export interface FusedConvOptions {
  /**
   * Add what `y` holds when the plan runs to the convolution's output, before the element-wise ops (oneDNN's sum
   * post-op): a residual connection in the same pass.
   */
  readonly sum?: boolean;
}

/** A ready-to-run inference convolution with bias and fused element-wise post-ops. */
export interface FusedConvPlan {
  readonly implementation: string;
  /**
   * y = post-ops(conv(x, w) + bias [+ y]), all in tfjs's layouts (x, y channels-last, w `[k…, in, out]`); the
   * `+ y` term (its previous contents) only for a plan built with `sum`.
   */
  run(x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void;
  destroy(): void;
}

/**
 * Builds an inference-only (no saved state for gradients) forward convolution of `spec` that adds a per-channel
 * bias, optionally adds the output buffer's previous contents (`options.sum`: a residual), and applies `eltwise` in
 * order, inside oneDNN's kernel (its post-ops): one pass over the output instead of three or four. Throws when
 * oneDNN rejects the geometry or an operation.
 */
export function buildFusedConvPlan(
  dnnl: Dnnl,
  spec: ConvSpec,
  eltwise: readonly EltwiseOp[] = [],
  options: FusedConvOptions = {},
): FusedConvPlan {
  const rank = spec.inSize.length;
  if (rank !== 2 && rank !== 3) throw new Error(`fast conv: expected 2 or 3 spatial axes, got ${rank}`);
  const actTag = rank === 3 ? DNNL.ndhwc : DNNL.nhwc;
  const wTag = rank === 3 ? DNNL.dhwio : DNNL.hwio;
  const fn = dnnl.fn;
  const b = new PlanBuilder(dnnl);
  const cell = new BigUint64Array(1);
  let postOps: Deno.PointerValue = null, attr: Deno.PointerValue = null;
  try {
    const srcMd = b.md([spec.batch, spec.inChannels, ...spec.inSize], actTag);
    const dstMd = b.md([spec.batch, spec.outChannels, ...spec.outSize], actTag);
    const wDims = [spec.outChannels, spec.inChannels, ...spec.kernel];
    const wUserMd = b.md(wDims, wTag);
    const wAnyMd = b.md(wDims, DNNL.formatAny);
    const biasMd = b.md([spec.outChannels], DNNL.a);
    const desc = new Uint8Array(CONV_DESC_BYTES);
    check(
      fn.dnnl_dilated_convolution_forward_desc_init(
        desc,
        DNNL.forwardInference,
        DNNL.convolutionDirect,
        srcMd,
        wAnyMd,
        Deno.UnsafePointer.of(biasMd),
        dstMd,
        dimsOf(spec.strides),
        dimsOf(spec.dilations.map((d) => d - 1)),
        dimsOf(spec.padsBefore),
        dimsOf(spec.padsAfter),
      ),
      "convolution_forward_desc_init",
    );
    check(fn.dnnl_post_ops_create(cell), "post_ops_create");
    postOps = outPointer(cell);
    if (options.sum) check(fn.dnnl_post_ops_append_sum(postOps, 1), "post_ops_append_sum");
    for (const op of eltwise) {
      const status = fn.dnnl_post_ops_append_eltwise(postOps, 1, DNNL_ELTWISE[op.alg], op.alpha ?? 0, op.beta ?? 0);
      check(status, `post_ops_append_eltwise(${op.alg})`);
    }
    check(fn.dnnl_primitive_attr_create(cell), "primitive_attr_create");
    attr = outPointer(cell);
    check(fn.dnnl_primitive_attr_set_post_ops(attr, postOps), "primitive_attr_set_post_ops");
    check(fn.dnnl_primitive_desc_create(cell, desc, attr, dnnl.engine, null), "primitive_desc_create");
    const pd = outPointer(cell);
    b.pds.push(pd);
    const implementation = implementationOf(dnnl, pd);
    const conv = b.prim(pd);
    const wUserPtr = Deno.UnsafePointer.of(wUserMd);
    const wPdPtr = fn.dnnl_primitive_desc_query_md(pd, DNNL.queryWeightsMd, 0);
    const srcMem = b.mem(Deno.UnsafePointer.of(srcMd)), dstMem = b.mem(Deno.UnsafePointer.of(dstMd));
    const wUserMem = b.mem(wUserPtr), biasMem = b.mem(Deno.UnsafePointer.of(biasMd));
    let wMem = wUserMem, reorder: Deno.PointerValue = null;
    if (fn.dnnl_memory_desc_equal(wUserPtr, wPdPtr) === 0) {
      wMem = b.mem(wPdPtr);
      const wBuffer = new Float32Array(Math.ceil(Number(fn.dnnl_memory_desc_get_size(wPdPtr)) / 4) + 16);
      b.keep.push(wBuffer);
      check(fn.dnnl_memory_set_data_handle(wMem, ptr(wBuffer)), "memory_set_data_handle");
      reorder = b.prim(b.reorderPd(wUserPtr, wPdPtr));
    }
    const reorderArgs = execArgs([[DNNL.argSrc, wUserMem], [DNNL.argDst, wMem]]);
    const convArgs = execArgs([
      [DNNL.argSrc, srcMem],
      [DNNL.argWeights, wMem],
      [DNNL.argBias, biasMem],
      [DNNL.argDst, dstMem],
    ]);
    const set = (mem: Deno.PointerValue, a: Float32Array) =>
      check(fn.dnnl_memory_set_data_handle(mem, ptr(a)), "memory_set_data_handle");
    const stream = dnnl.stream;
    // the filter is reordered once per distinct filter buffer, not per call
    let reorderedFrom: Float32Array | null = null;
    return {
      implementation,
      run(x, w, bias, y) {
        const sx = stable(x), sw = stable(w), sb = stable(bias), sy = stable(y);
        if (sx !== x) sx.set(x);
        if (sw !== w) sw.set(w);
        if (sb !== bias) sb.set(bias);
        if (sy !== y && options.sum) sy.set(y);
        set(srcMem, sx);
        set(biasMem, sb);
        set(dstMem, sy);
        if (reorder !== null && (reorderedFrom !== w || sw !== w)) {
          set(wUserMem, sw);
          check(fn.dnnl_primitive_execute(reorder, stream, 2, reorderArgs), "reorder execute");
          reorderedFrom = w;
        } else if (reorder === null) set(wUserMem, sw);
        check(fn.dnnl_primitive_execute(conv, stream, 4, convArgs), "convolution execute");
        check(fn.dnnl_stream_wait(stream), "stream_wait");
        if (sy !== y) y.set(sy);
      },
      destroy: () => b.destroy(),
    };
  } catch (e) {
    b.destroy();
    throw e;
  } finally {
    if (attr !== null) fn.dnnl_primitive_attr_destroy(attr);
    if (postOps !== null) fn.dnnl_post_ops_destroy(postOps);
  }
}
