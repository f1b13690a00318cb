/**
 * The filter gradient of a dilated convolution as one undilated filter gradient, so oneDNN runs it on its AVX-512
 * kernel (its dilated filter-gradient path is a slow im2col GEMM, and its forward kernels crawl on the 64³ filter
 * the forward-conv formulation of src/kernels/conv_grads.ts uses).
 *
 * For stride 1, dilation s (valid, already padded): dW[k] = Σₒ x[o + k·s] ⊗ dy[o]. Splitting o = q·s + r by its
 * phase r (per axis) gives dW[k] = Σᵣ Σ_q xᵣ[q + k] ⊗ dyᵣ[q] with xᵣ[q] = x[q·s + r], dyᵣ[q] = dy[q·s + r]: an
 * undilated filter gradient whose batch holds the s³ phases. Phases are zero-padded to the largest one; the zeros
 * of dy meet only padding of x, so they add nothing.
 *
 * @module
 */
import type { ConvSpec } from "./dnnl_conv.ts";

/** The undilated problem and the two gathers that build its inputs. */
export interface PhaseSplit {
  /** Undilated, stride 1, valid; batch = number of phases; source channels-last. */
  readonly spec: ConvSpec;
  /** Channels-first source `[c, s…]` (batch 1) → channels-last phases `[phases, xs…, c]`. */
  gatherSource(x: Float32Array): Float32Array;
  /** Output gradient `[f…, o]` (batch 1, channels-last) → phases `[phases, fs…, o]`. */
  gatherOutputGradient(dy: Float32Array): Float32Array;
}

function to3(v: readonly number[], fill: number): [number, number, number] {
  return (v.length === 2 ? [fill, v[0], v[1]] : [v[0], v[1], v[2]]) as [number, number, number];
}

/**
 * Splits `spec` (batch 1, stride 1, dilation > 1 on some axis, no padding) by phase; null when it is not of that
 * form.
 */
export function phaseSplit(spec: ConvSpec): PhaseSplit | null {
  if (spec.batch !== 1 || spec.strides.some((s) => s !== 1) || spec.dilations.every((d) => d === 1)) return null;
  if ([...spec.padsBefore, ...spec.padsAfter].some((p) => p !== 0)) return null;
  const rank = spec.inSize.length;
  const S = to3(spec.inSize, 1), F = to3(spec.outSize, 1), K = to3(spec.kernel, 1), s = to3(spec.dilations, 1);
  if (S.some((n, i) => n !== F[i] + (K[i] - 1) * s[i])) return null;
  const fm = F.map((n, i) => Math.ceil(n / s[i])), xm = fm.map((n, i) => n + K[i] - 1);
  const phases = s[0] * s[1] * s[2];
  const c = spec.inChannels, o = spec.outChannels;
  const back = (v: number[]) => (rank === 2 ? v.slice(1) : v);
  const phaseList: Array<[number, number, number]> = [];
  for (let a = 0; a < s[0]; a++) {
    for (let b = 0; b < s[1]; b++) for (let d = 0; d < s[2]; d++) phaseList.push([a, b, d]);
  }
  return {
    spec: {
      batch: phases,
      inChannels: c,
      outChannels: o,
      inSize: back(xm),
      outSize: back(fm),
      kernel: spec.kernel,
      strides: spec.strides,
      dilations: spec.strides,
      padsBefore: spec.padsBefore,
      padsAfter: spec.padsAfter,
    },
    gatherSource(x) {
      const out = new Float32Array(phases * xm[0] * xm[1] * xm[2] * c);
      const plane = S[0] * S[1] * S[2];
      let p = 0;
      for (const [r0, r1, r2] of phaseList) {
        for (let q0 = 0; q0 < xm[0]; q0++) {
          const z = q0 * s[0] + r0;
          for (let q1 = 0; q1 < xm[1]; q1++) {
            const y = q1 * s[1] + r1;
            for (let q2 = 0; q2 < xm[2]; q2++, p += c) {
              const w = q2 * s[2] + r2;
              if (z >= S[0] || y >= S[1] || w >= S[2]) continue; // stays zero
              const src = (z * S[1] + y) * S[2] + w;
              for (let ch = 0; ch < c; ch++) out[p + ch] = x[ch * plane + src];
            }
          }
        }
      }
      return out;
    },
    gatherOutputGradient(dy) {
      const out = new Float32Array(phases * fm[0] * fm[1] * fm[2] * o);
      let p = 0;
      for (const [r0, r1, r2] of phaseList) {
        for (let q0 = 0; q0 < fm[0]; q0++) {
          const z = q0 * s[0] + r0;
          for (let q1 = 0; q1 < fm[1]; q1++) {
            const y = q1 * s[1] + r1;
            for (let q2 = 0; q2 < fm[2]; q2++, p += o) {
              const w = q2 * s[2] + r2;
              if (z >= F[0] || y >= F[1] || w >= F[2]) continue;
              const src = ((z * F[1] + y) * F[2] + w) * o;
              out.set(dy.subarray(src, src + o), p);
            }
          }
        }
      }
      return out;
    },
  };
}

/**
 * The filter gradient of the dilated convolution `spec` itself (batch 1, stride 1, any padding) by the same phase
 * split, gathering straight from the unpadded channels-last source `[1, s…, c]` (padding read as zeros): no padded,
 * transposed copy of the source is made. The undilated problem writes the gradient in tfjs's filter layout when run
 * with layouts `{ src: "nxc", weights: "xio" }`. Null when `spec` is not of that form.
 */
export function directPhaseSplit(spec: ConvSpec): PhaseSplit | null {
  if (spec.batch !== 1 || spec.strides.some((s) => s !== 1) || spec.dilations.every((d) => d === 1)) return null;
  const rank = spec.inSize.length;
  const S = to3(spec.inSize, 1), F = to3(spec.outSize, 1), K = to3(spec.kernel, 1), s = to3(spec.dilations, 1);
  const pad = to3(spec.padsBefore, 0);
  // the padded source the sums read: F + (K − 1)·s per axis
  const P = F.map((n, i) => n + (K[i] - 1) * s[i]);
  const fm = F.map((n, i) => Math.ceil(n / s[i])), xm = fm.map((n, i) => n + K[i] - 1);
  const c = spec.inChannels;
  const back = (v: number[]) => (rank === 2 ? v.slice(1) : v);
  const phaseList: Array<[number, number, number]> = [];
  for (let a = 0; a < s[0]; a++) {
    for (let b = 0; b < s[1]; b++) for (let d = 0; d < s[2]; d++) phaseList.push([a, b, d]);
  }
  const phases = phaseList.length;
  const undilated = phaseSplit({
    ...spec,
    inSize: back(P),
    padsBefore: spec.padsBefore.map(() => 0),
    padsAfter: spec.padsAfter.map(() => 0),
  });
  if (undilated === null) return null;
  return {
    spec: undilated.spec,
    gatherOutputGradient: undilated.gatherOutputGradient,
    gatherSource(x) {
      const out = new Float32Array(phases * xm[0] * xm[1] * xm[2] * c);
      let p = 0;
      for (const [r0, r1, r2] of phaseList) {
        for (let q0 = 0; q0 < xm[0]; q0++) {
          const z0 = q0 * s[0] + r0, z = z0 - pad[0];
          for (let q1 = 0; q1 < xm[1]; q1++) {
            const y0 = q1 * s[1] + r1, y = y0 - pad[1];
            const rowOk = z0 < P[0] && y0 < P[1] && z >= 0 && z < S[0] && y >= 0 && y < S[1];
            for (let q2 = 0; q2 < xm[2]; q2++, p += c) {
              const w0 = q2 * s[2] + r2, w = w0 - pad[2];
              if (!rowOk || w0 >= P[2] || w < 0 || w >= S[2]) continue; // stays zero
              const src = ((z * S[1] + y) * S[2] + w) * c;
              out.set(x.subarray(src, src + c), p);
            }
          }
        }
      }
      return out;
    },
  };
}
