/**
 * Multi-threaded data passes on host Float32Arrays through oneDNN: strided copies (one reorder between two strided
 * views: phase gathers of the dilated filter gradient, channel slices, padding) and float32 Add / Sub / Multiply /
 * RealDiv with the broadcasts {@link planBinary} finds. The TypeScript loops run on one core; oneDNN's run on all.
 *
 * Both are exact: a copy moves bits, and one IEEE float32 +, −, × or ÷ gives the same bits as the double-precision
 * operation rounded once to float32 (what tfjs's and our TypeScript kernels compute), so results are bit-identical.
 * Each geometry's primitive is built once (oneDNN JIT-compiles it) and kept in a small least-recently-used cache.
 *
 * @module
 */
import { check, DNNL, type Dnnl, DNNL_BINARY, LAYER_DESC_BYTES, MEMORY_DESC_BYTES } from "./_dnnl_ffi.ts";
import type { BinaryOp, BinaryPlan } from "./binary.ts";
import type { StridedBox } from "./strided_copy.ts";
import { execArgs, implementationOf, PlanBuilder } from "./dnnl_conv.ts";
import { PlanLru } from "./_plan_lru.ts";

const MAX_DIMS = 12;

function dimsOf(values: readonly number[]): BigInt64Array {
  const d = new BigInt64Array(MAX_DIMS);
  values.forEach((v, i) => d[i] = BigInt(v));
  return d;
}

/** A built primitive with its memory objects: `mems[i]` is bound to argument `argIds[i]` at run time. */
interface Pass {
  readonly implementation: string;
  readonly prim: Deno.PointerValue;
  readonly mems: Deno.PointerValue[];
  readonly args: Uint8Array<ArrayBuffer>;
  destroy(): void;
}

function pointerAt(a: Float32Array, offset: number): Deno.PointerValue {
  const p = Deno.UnsafePointer.of(a);
  return offset === 0 ? p : Deno.UnsafePointer.offset(p!, offset * 4);
}

/** oneDNN's binary algorithm per tfjs kernel. */
const BINARY_ALG: Record<BinaryOp, number> = {
  Add: DNNL_BINARY.add,
  Sub: DNNL_BINARY.sub,
  Multiply: DNNL_BINARY.mul,
  RealDiv: DNNL_BINARY.div,
};

/**
 * Arrays shorter than this stay with the TypeScript loops: below it the FFI calls and oneDNN's thread wake-up cost
 * more than the work (measured: 16 Ki elements break even on one thread, 64 Ki run 2.8× faster on oneDNN).
 */
export const MIN_ONEDNN_ELEMENTS = 1 << 16;

/** Options of {@link DnnlPasses}. */
export interface DnnlPassesOptions {
  /** Primitives kept (least recently used dropped first; default 256). */
  readonly capacity?: number;
  /** Size from which callers should use these passes (default {@link MIN_ONEDNN_ELEMENTS}). */
  readonly minElements?: number;
}

/** Strided copies and binary arithmetic on oneDNN, with their primitives cached by geometry. */
export class DnnlPasses {
  readonly #dnnl: Dnnl;
  readonly #passes: PlanLru<Pass>;
  /** Arrays from this many elements on are worth a oneDNN pass; smaller ones stay in TypeScript. */
  readonly minElements: number;

  constructor(dnnl: Dnnl, { capacity = 256, minElements = MIN_ONEDNN_ELEMENTS }: DnnlPassesOptions = {}) {
    this.#dnnl = dnnl;
    this.#passes = new PlanLru(capacity);
    this.minElements = minElements;
  }

  #md(b: PlanBuilder, dims: readonly number[], strides: readonly number[]): Uint8Array<ArrayBuffer> {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    const status = this.#dnnl.fn.dnnl_memory_desc_init_by_strides(
      md,
      dims.length,
      dimsOf(dims),
      DNNL.f32,
      dimsOf(strides),
    );
    check(status, "memory_desc_init_by_strides");
    b.keep.push(md);
    return md;
  }

  #run(pass: Pass, pointers: Deno.PointerValue[]): void {
    const fn = this.#dnnl.fn;
    pointers.forEach((p, i) => check(fn.dnnl_memory_set_data_handle(pass.mems[i], p), "memory_set_data_handle"));
    check(fn.dnnl_primitive_execute(pass.prim, this.#dnnl.stream, pass.mems.length, pass.args), "execute");
    check(fn.dnnl_stream_wait(this.#dnnl.stream), "stream_wait");
  }

  #copyPass(box: StridedBox): Pass | null {
    const key = `copy|${box.dims}|${box.srcStrides}|${box.dstStrides}`;
    return this.#passes.get(key, () => {
      const b = new PlanBuilder(this.#dnnl);
      try {
        const from = Deno.UnsafePointer.of(this.#md(b, box.dims, box.srcStrides));
        const to = Deno.UnsafePointer.of(this.#md(b, box.dims, box.dstStrides));
        const pd = b.reorderPd(from, to);
        const prim = b.prim(pd);
        const mems = [b.mem(from), b.mem(to)];
        const args = execArgs([[DNNL.argSrc, mems[0]], [DNNL.argDst, mems[1]]]);
        return { implementation: implementationOf(this.#dnnl, pd), prim, mems, args, destroy: () => b.destroy() };
      } catch (e) {
        b.destroy();
        throw e;
      }
    });
  }

  /**
   * Copies every box from `src` into `dst` (one multi-threaded reorder each); false, having copied nothing, when
   * oneDNN cannot take one of them (the caller then copies with `copyBox`). Boxes must lie inside both arrays.
   */
  copy(src: Float32Array, dst: Float32Array, boxes: readonly StridedBox[]): boolean {
    const passes = boxes.map((box) => box.dims.some((n) => n <= 0) ? undefined : this.#copyPass(box));
    if (passes.some((p) => p === null)) return false;
    boxes.forEach((box, i) => {
      const pass = passes[i];
      if (pass) this.#run(pass, [pointerAt(src, box.srcOffset), pointerAt(dst, box.dstOffset)]);
    });
    return true;
  }

  /**
   * `out = a op b` over `plan` (see {@link planBinary}) on oneDNN; false when the broadcast is not one oneDNN's
   * binary primitive takes (it broadcasts only its second source: a short first operand is swapped for Add and
   * Multiply, and handed back for Sub and RealDiv).
   */
  binary(op: BinaryOp, plan: BinaryPlan, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
    const { outer, inner } = plan;
    const dims = (l: BinaryPlan["a"]) => [l.outerStep === 0 ? 1 : outer, l.innerStep === 0 ? 1 : inner];
    let da = dims(plan.a), db = dims(plan.b), x = a, y = b;
    const full = (d: number[]) => d[0] === outer && d[1] === inner;
    if (!full(da)) {
      if (!full(db) || op === "Sub" || op === "RealDiv") return false;
      [da, db, x, y] = [db, da, b, a];
    }
    const key = `binary|${op}|${outer},${inner}|${db}`;
    const pass = this.#passes.get(key, () => {
      const bld = new PlanBuilder(this.#dnnl);
      try {
        const dense = (d: number[]) => this.#md(bld, d, [d[1], 1]);
        const src0 = dense(da), src1 = dense(db), dst = dense(da);
        const desc = new Uint8Array(LAYER_DESC_BYTES);
        check(this.#dnnl.fn.dnnl_binary_desc_init(desc, BINARY_ALG[op], src0, src1, dst), "binary_desc_init");
        const pd = bld.pd(desc, null);
        const prim = bld.prim(pd);
        const mems = [src0, src1, dst].map((md) => bld.mem(Deno.UnsafePointer.of(md)));
        const args = execArgs([[DNNL.argSrc, mems[0]], [DNNL_BINARY.argSrc1, mems[1]], [DNNL.argDst, mems[2]]]);
        return { implementation: implementationOf(this.#dnnl, pd), prim, mems, args, destroy: () => bld.destroy() };
      } catch (e) {
        bld.destroy();
        throw e;
      }
    });
    if (pass === null) return false;
    this.#run(pass, [pointerAt(x, 0), pointerAt(y, 0), pointerAt(out, 0)]);
    return true;
  }

  /** Implementations oneDNN chose for the cached primitives (for reports). */
  implementations(): string[] {
    return [
      ...new Set([...this.#passes.built()].map(([k, p]) => `${k.split("|")[0]}: ${p.implementation}`)),
    ];
  }

  /** Frees every primitive. */
  clear(): void {
    this.#passes.clear();
  }
}
