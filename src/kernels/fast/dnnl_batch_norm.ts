/**
 * Training batch normalisation (over every axis but the channels) and the relu or prelu after it, forward and
 * backward, on channels-last host Float32Arrays through oneDNN's multi-threaded primitives: the oneDNN form of the
 * TypeScript kernels in `src/kernels/batch_norm.ts`, with their inputs, outputs and semantics.
 *
 * Forward: batch_normalization (forward training, scale and shift) gives y, the batch mean and the biased
 * variance; relu is fused into it (`fuse_norm_relu`, whose relu mask, the workspace, goes to a scratch buffer and is
 * dropped); prelu runs from a scratch buffer into y (prelu primitive).
 * Backward: the kernels keep only x and the statistics, so the activation's input z = BN(x) is recomputed from them
 * (batch_normalization with global statistics). Relu: that pass, fused with relu in training mode, writes the relu
 * mask, and batch_normalization's backward pass with `fuse_norm_relu` reads it: dy → dx, dγ, dβ. Prelu: z goes to
 * the scratch buffer, prelu's backward pass turns dy into dz (and dα) in the output buffer, and
 * batch_normalization's backward pass turns dz into dx in place. The gradient kernel receives 1/std, not the
 * variance: it runs with ε = 0 on variance 1/rstd², which gives back the same 1/std.
 *
 * Each geometry is built once into a plan (primitive creation JIT-compiles code), cached by
 * {@link BatchNormPlanCache}, which also owns the one activation-size scratch buffer all plans share.
 *
 * @module
 */
import { check, DNNL, type Dnnl, DNNL_BNORM, LAYER_DESC_BYTES } from "./_dnnl_ffi.ts";
import { execArgs, implementationOf, PlanBuilder, stable } from "./dnnl_conv.ts";
import { freshOutput } from "./_fresh_output.ts";
import { PlanLru } from "./_plan_lru.ts";
import type { BatchNormActivation } from "../batch_norm.ts";

/** Geometry of a batch norm: channels-last `[batch, …size, channels]`, 2 or 3 spatial axes. */
export interface BatchNormSpec {
  readonly batch: number;
  readonly channels: number;
  readonly size: readonly number[];
  readonly activation: BatchNormActivation;
}

/** Forward results (per-channel statistics are fresh arrays). */
export interface BatchNormForwardResult {
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** A ready-to-run training forward pass for one geometry, activation and ε. */
export interface BatchNormForwardPlan {
  readonly implementation: string;
  /** Writes act(BN(x)) into `y`; `alpha` are the prelu slopes. */
  run(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    alpha: Float32Array | undefined,
    y: Float32Array,
  ): BatchNormForwardResult;
  destroy(): void;
}

/** Backward inputs besides dy and x. */
export interface BatchNormGradInputs {
  readonly mean: Float32Array;
  readonly rstd: Float32Array;
  readonly gamma: Float32Array;
  /** Needed with an activation (to recompute z). */
  readonly beta?: Float32Array;
  /** Needed with prelu. */
  readonly alpha?: Float32Array;
}

/** Backward results: dx is written into the caller's array. */
export interface BatchNormGradResult {
  readonly dGamma: Float32Array;
  readonly dBeta: Float32Array;
  readonly dAlpha?: Float32Array;
}

/** A ready-to-run backward pass for one geometry and activation. */
export interface BatchNormGradPlan {
  readonly implementation: string;
  run(dy: Float32Array, x: Float32Array, inputs: BatchNormGradInputs, dx: Float32Array): BatchNormGradResult;
  destroy(): void;
}

/** A per-channel array oneDNN may keep a pointer to: its own off-heap buffer (V8 can move small in-heap arrays). */
function channelBuffer(channels: number): Float32Array {
  return new Float32Array(new ArrayBuffer(Math.max(256, 4 * channels))).subarray(0, channels);
}

function tagOf(spec: BatchNormSpec): number {
  if (spec.size.length === 3) return DNNL.ndhwc;
  if (spec.size.length === 2) return DNNL.nhwc;
  throw new Error(`oneDNN batch norm: expected 2 or 3 spatial axes, got ${spec.size.length}`);
}

function lengthOf(spec: BatchNormSpec): number {
  return spec.size.reduce((p, n) => p * n, spec.batch * spec.channels);
}

/** Descriptors and helpers shared by the two plan builders. */
class Parts {
  readonly b: PlanBuilder;
  readonly fn: Dnnl["fn"];
  readonly data: Uint8Array<ArrayBuffer>;
  readonly stat: Uint8Array<ArrayBuffer>;
  readonly slopes: Uint8Array<ArrayBuffer>;

  constructor(readonly dnnl: Dnnl, readonly spec: BatchNormSpec) {
    this.b = new PlanBuilder(dnnl);
    this.fn = dnnl.fn;
    const tag = tagOf(spec);
    this.data = this.b.md([spec.batch, spec.channels, ...spec.size], tag);
    this.stat = this.b.md([spec.channels], DNNL.a);
    this.slopes = this.b.md([1, spec.channels, ...spec.size.map(() => 1)], tag);
  }

  desc(): Uint8Array<ArrayBuffer> {
    const d = new Uint8Array(LAYER_DESC_BYTES);
    this.b.keep.push(d);
    return d;
  }

  bnForward(prop: number, eps: number, flags: number): Deno.PointerValue {
    const d = this.desc();
    check(this.fn.dnnl_batch_normalization_forward_desc_init(d, prop, this.data, eps, flags), "bnorm_forward_desc");
    return this.pd(d, null);
  }

  /**
   * The primitive descriptor of `desc`, refusing all but oneDNN's JIT-compiled implementations: for channel counts
   * that are not a multiple of 8 it offers only `bnorm_ref:any` (3D) or `nspc_bnorm:any` (2D), which ran 1.3–10×
   * slower than the TypeScript kernels (2 threads, loaded machine).
   */
  pd(desc: Uint8Array<ArrayBuffer>, hint: Deno.PointerValue): Deno.PointerValue {
    const pd = this.b.pd(desc, hint);
    const implementation = implementationOf(this.dnnl, pd);
    if (!implementation.includes("jit")) throw new Error(`oneDNN batch norm: only ${implementation} for this geometry`);
    return pd;
  }

  /** A memory object for `pd`'s workspace (the relu mask of `fuse_norm_relu`) and its size in float32 values. */
  workspace(pd: Deno.PointerValue): { mem: Deno.PointerValue; floats: number } {
    const md = this.fn.dnnl_primitive_desc_query_md(pd, DNNL_BNORM.queryWorkspaceMd, 0);
    if (md === null) throw new Error("oneDNN batch norm with relu: no workspace");
    const bytes = Number(this.fn.dnnl_memory_desc_get_size(md));
    return { mem: this.b.mem(md), floats: Math.ceil(bytes / 4) };
  }

  /** A memory object of descriptor `md`; bound to `fixed` for good when given. */
  mem(md: Uint8Array<ArrayBuffer>, fixed?: Float32Array): Deno.PointerValue {
    const m = this.b.mem(Deno.UnsafePointer.of(md));
    if (fixed) bind(this.fn, m, fixed);
    return m;
  }
}

function bind(fn: Dnnl["fn"], mem: Deno.PointerValue, a: Float32Array): void {
  check(fn.dnnl_memory_set_data_handle(mem, Deno.UnsafePointer.of(a)), "memory_set_data_handle");
}

function execute(dnnl: Dnnl, prim: Deno.PointerValue, args: Uint8Array<ArrayBuffer>, what: string): void {
  check(dnnl.fn.dnnl_primitive_execute(prim, dnnl.stream, args.length / 16, args), `${what} execute`);
}

const SCALE_SHIFT = DNNL_BNORM.useScale | DNNL_BNORM.useShift;

/** Builds the forward plan; `scratch(n)` lends an n-value buffer for the call (prelu). Throws when oneDNN refuses. */
export function buildBatchNormForwardPlan(
  dnnl: Dnnl,
  spec: BatchNormSpec,
  eps: number,
  scratch: (length: number) => Float32Array,
): BatchNormForwardPlan {
  const p = new Parts(dnnl, spec);
  const { b } = p;
  try {
    const c = spec.channels;
    const gamma = channelBuffer(c), beta = channelBuffer(c), alpha = channelBuffer(c);
    const mean = channelBuffer(c), variance = channelBuffer(c);
    const relu = spec.activation === "relu";
    const bnPd = p.bnForward(DNNL.forwardTraining, eps, SCALE_SHIFT | (relu ? DNNL_BNORM.fuseNormRelu : 0));
    const bn = b.prim(bnPd);
    const src = p.mem(p.data), dst = p.mem(p.data);
    const ws = relu ? p.workspace(bnPd) : null;
    const stats: Array<[number, Deno.PointerValue]> = [
      [DNNL_BNORM.argMean, p.mem(p.stat, mean)],
      [DNNL_BNORM.argVariance, p.mem(p.stat, variance)],
      [DNNL_BNORM.argScale, p.mem(p.stat, gamma)],
      [DNNL_BNORM.argShift, p.mem(p.stat, beta)],
    ];
    const bnArgs = execArgs([
      [DNNL.argSrc, src],
      [DNNL.argDst, dst],
      ...stats,
      ...(ws ? [[DNNL_BNORM.argWorkspace, ws.mem] as [number, Deno.PointerValue]] : []),
    ]);
    let act: { prim: Deno.PointerValue; args: Uint8Array<ArrayBuffer>; out: Deno.PointerValue } | null = null;
    if (spec.activation === "prelu") {
      const d = p.desc();
      check(p.fn.dnnl_prelu_forward_desc_init(d, DNNL.forwardInference, p.data, p.slopes), "prelu_forward_desc");
      const out = p.mem(p.data);
      const args = execArgs([[DNNL.argSrc, dst], [DNNL.argWeights, p.mem(p.slopes, alpha)], [DNNL.argDst, out]]);
      act = { prim: b.prim(p.pd(d, null)), args, out };
    }
    const n = lengthOf(spec);
    return {
      implementation: implementationOf(dnnl, bnPd),
      run(x, g, bt, a, y) {
        if (x.length !== n || y.length !== n) {
          throw new Error(`oneDNN batch norm: expected ${n} values, got ${x.length}`);
        }
        gamma.set(g);
        beta.set(bt);
        if (spec.activation === "prelu") {
          if (a?.length !== c) {
            throw new Error(`batch norm with prelu: expected ${c} slopes, got ${a?.length ?? "none"}`);
          }
          alpha.set(a);
        }
        const sx = stable(x), sy = stable(y);
        if (sx !== x) sx.set(x);
        bind(p.fn, src, sx);
        if (act) {
          // prelu: BN into the scratch buffer, prelu from there into y
          bind(p.fn, dst, scratch(n));
          bind(p.fn, act.out, sy);
        } else {
          bind(p.fn, dst, sy);
        }
        if (ws) bind(p.fn, ws.mem, scratch(ws.floats)); // the relu mask: not kept
        execute(dnnl, bn, bnArgs, "batch norm");
        if (act) execute(dnnl, act.prim, act.args, "activation");
        check(p.fn.dnnl_stream_wait(dnnl.stream), "stream_wait");
        if (sy !== y) y.set(sy);
        return { mean: mean.slice(), variance: variance.slice() };
      },
      destroy: () => b.destroy(),
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** Builds the backward plan; `scratch(n)` lends an n-value buffer for the call. Throws when oneDNN refuses. */
export function buildBatchNormGradPlan(
  dnnl: Dnnl,
  spec: BatchNormSpec,
  scratch: (length: number) => Float32Array,
): BatchNormGradPlan {
  const p = new Parts(dnnl, spec);
  const { b, fn } = p;
  try {
    const c = spec.channels;
    const gamma = channelBuffer(c), beta = channelBuffer(c), alpha = channelBuffer(c);
    const mean = channelBuffer(c), variance = channelBuffer(c);
    const dGamma = channelBuffer(c), dBeta = channelBuffer(c), dAlpha = channelBuffer(c);
    const stats: Array<[number, Deno.PointerValue]> = [
      [DNNL_BNORM.argMean, p.mem(p.stat, mean)],
      [DNNL_BNORM.argVariance, p.mem(p.stat, variance)],
      [DNNL_BNORM.argScale, p.mem(p.stat, gamma)],
      [DNNL_BNORM.argShift, p.mem(p.stat, beta)],
    ];
    const x = p.mem(p.data), dy = p.mem(p.data), dx = p.mem(p.data), z = p.mem(p.data);
    const relu = spec.activation === "relu", prelu = spec.activation === "prelu";
    const flags = SCALE_SHIFT | (relu ? DNNL_BNORM.fuseNormRelu : 0);
    // ε = 0: the variance passed is 1/rstd², so oneDNN's 1/√(variance + ε) is the forward pass's rstd
    const hint = p.bnForward(DNNL.forwardTraining, 0, flags);
    const d = p.desc();
    check(
      fn.dnnl_batch_normalization_backward_desc_init(d, DNNL_BNORM.backward, p.data, p.data, 0, flags),
      "bnorm_backward_desc",
    );
    const bwdPd = p.pd(d, hint);
    const bwd = b.prim(bwdPd);
    const steps: Array<{ prim: Deno.PointerValue; args: Uint8Array<ArrayBuffer> }> = [];
    let ws: { mem: Deno.PointerValue; floats: number } | null = null;
    if (relu) {
      // z = BN(x) from the saved statistics, fused with relu in training mode for its mask; z itself goes to dx's
      // buffer, which the backward pass then overwrites
      const recomputePd = p.bnForward(DNNL.forwardTraining, 0, flags | DNNL_BNORM.useGlobalStats);
      ws = p.workspace(recomputePd);
      const expected = fn.dnnl_primitive_desc_query_md(bwdPd, DNNL_BNORM.queryWorkspaceMd, 0);
      if (expected === null || Math.ceil(Number(fn.dnnl_memory_desc_get_size(expected)) / 4) !== ws.floats) {
        throw new Error("oneDNN batch norm with relu: the recomputed relu mask does not fit the backward pass");
      }
      const args = execArgs([[DNNL.argSrc, x], [DNNL.argDst, dx], ...stats, [DNNL_BNORM.argWorkspace, ws.mem]]);
      steps.push({ prim: b.prim(recomputePd), args });
    }
    // prelu's backward pass leaves dz in dx's buffer, and BN's runs on it in place
    const bwdArgs = execArgs([
      [DNNL.argSrc, x],
      [DNNL.argDiffDst, prelu ? dx : dy],
      [DNNL.argDiffSrc, dx],
      ...stats,
      [DNNL_BNORM.argDiffScale, p.mem(p.stat, dGamma)],
      [DNNL_BNORM.argDiffShift, p.mem(p.stat, dBeta)],
      ...(ws ? [[DNNL_BNORM.argWorkspace, ws.mem] as [number, Deno.PointerValue]] : []),
    ]);
    if (prelu) {
      const recompute = b.prim(p.bnForward(DNNL.forwardInference, 0, SCALE_SHIFT | DNNL_BNORM.useGlobalStats));
      steps.push({ prim: recompute, args: execArgs([[DNNL.argSrc, x], [DNNL.argDst, z], ...stats]) });
      const fwd = p.desc(), back = p.desc();
      check(fn.dnnl_prelu_forward_desc_init(fwd, DNNL.forwardTraining, p.data, p.slopes), "prelu_forward_desc");
      check(fn.dnnl_prelu_backward_desc_init(back, p.data, p.slopes, p.data, p.slopes), "prelu_backward_desc");
      const prim = b.prim(p.pd(back, p.pd(fwd, null)));
      steps.push({
        prim,
        args: execArgs([
          [DNNL.argSrc, z],
          [DNNL.argWeights, p.mem(p.slopes, alpha)],
          [DNNL.argDiffDst, dy],
          [DNNL.argDiffSrc, dx],
          [DNNL.argDiffWeights, p.mem(p.slopes, dAlpha)],
        ]),
      });
    }
    steps.push({ prim: bwd, args: bwdArgs });
    const n = lengthOf(spec);
    return {
      implementation: implementationOf(dnnl, bwdPd),
      run(dyValues, xValues, inputs, dxValues) {
        if (xValues.length !== n || dyValues.length !== n || dxValues.length !== n) {
          throw new Error(`oneDNN batch norm gradient: expected ${n} values, got ${xValues.length}`);
        }
        mean.set(inputs.mean);
        gamma.set(inputs.gamma);
        for (let i = 0; i < c; i++) variance[i] = 1 / (inputs.rstd[i] * inputs.rstd[i]);
        if (relu || prelu) {
          if (inputs.beta?.length !== c) {
            throw new Error(`batch norm with ${spec.activation}: the gradient needs beta (${c} values)`);
          }
          beta.set(inputs.beta);
        }
        if (spec.activation === "prelu") {
          if (inputs.alpha?.length !== c) {
            throw new Error(`batch norm with prelu: expected ${c} slopes, got ${inputs.alpha?.length ?? "none"}`);
          }
          alpha.set(inputs.alpha);
        }
        const sx = stable(xValues), sdy = stable(dyValues), sdx = stable(dxValues);
        if (sx !== xValues) sx.set(xValues);
        if (sdy !== dyValues) sdy.set(dyValues);
        bind(fn, x, sx);
        bind(fn, dy, sdy);
        bind(fn, dx, sdx);
        if (prelu) bind(fn, z, scratch(n));
        if (ws) bind(fn, ws.mem, scratch(ws.floats));
        for (const s of steps) execute(dnnl, s.prim, s.args, "batch norm gradient");
        check(fn.dnnl_stream_wait(dnnl.stream), "stream_wait");
        if (sdx !== dxValues) dxValues.set(sdx);
        return {
          dGamma: dGamma.slice(),
          dBeta: dBeta.slice(),
          dAlpha: spec.activation === "prelu" ? dAlpha.slice() : undefined,
        };
      },
      destroy: () => b.destroy(),
    };
  } catch (e) {
    b.destroy();
    throw e;
  }
}

/** Forward and backward plans by geometry (least recently used dropped first), and their shared scratch buffer. */
export class BatchNormPlanCache {
  readonly #dnnl: Dnnl;
  readonly #plans: PlanLru<BatchNormForwardPlan | BatchNormGradPlan>;
  #scratch: Float32Array = new Float32Array(0);

  constructor(dnnl: Dnnl, { capacity = 64 }: { capacity?: number } = {}) {
    this.#dnnl = dnnl;
    this.#plans = new PlanLru(capacity);
  }

  /** The forward plan for `spec` and `eps`, or null when oneDNN cannot run it. */
  forward(spec: BatchNormSpec, eps: number): BatchNormForwardPlan | null {
    return this.#plans.get(
      `fwd|${eps}|${keyOf(spec)}`,
      () => buildBatchNormForwardPlan(this.#dnnl, spec, eps, this.#lend),
    ) as
      | BatchNormForwardPlan
      | null;
  }

  /** The backward plan for `spec`, or null when oneDNN cannot run it. */
  backward(spec: BatchNormSpec): BatchNormGradPlan | null {
    return this.#plans.get(`bwd|${keyOf(spec)}`, () => buildBatchNormGradPlan(this.#dnnl, spec, this.#lend)) as
      | BatchNormGradPlan
      | null;
  }

  /** Implementations oneDNN chose for the cached plans (for reports). */
  implementations(): string[] {
    return [...new Set([...this.#plans.built()].map(([, p]) => `batch norm: ${p.implementation}`))];
  }

  /** Frees every plan and the scratch buffer. */
  clear(): void {
    this.#plans.clear();
    this.#scratch = new Float32Array(0);
  }

  /** One buffer for all plans (one call runs at a time), grown to the largest activation seen. */
  readonly #lend = (length: number): Float32Array => {
    if (this.#scratch.length < length) {
      this.#scratch = new Float32Array(0); // the old one can go before the new one is allocated
      this.#scratch = freshOutput(Math.max(length, 64)); // 256 bytes and up: off V8's moving heap
    }
    return this.#scratch.length === length ? this.#scratch : this.#scratch.subarray(0, length);
  };
}

function keyOf(spec: BatchNormSpec): string {
  return `${spec.activation}|${spec.batch},${spec.channels}|${spec.size}`;
}
