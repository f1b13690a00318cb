/**
 * Variable initializers with NiftyNet's names and TensorFlow 1.x maths, computed on the host from a seeded stream.
 *
 * Fans follow TensorFlow: for a kernel `[k..., in, out]`, fan_in = in·∏k and fan_out = out·∏k; a vector's fans are
 * its length; a scalar's are 1.
 *
 * | name | values |
 * |---|---|
 * | `zeros`, `ones`, `constant` | the constant |
 * | `uniform_scaling` | U(±factor·√(3 / ∏shape[:-1])) (TF UniformUnitScaling) |
 * | `variance_scaling` | scale/n with n the fan of `mode`; `truncated_normal`: N(0, √(scale/n)/0.8796) cut at 2σ, `untruncated_normal`: N(0, √(scale/n)), `uniform`: U(±√(3·scale/n)) |
 * | `glorot_normal`, `glorot_uniform` | variance_scaling with scale 1, mode fan_avg (TF glorot_*_initializer) |
 * | `he_normal`, `he_uniform` | NiftyNet 0.6 (`application_initializer.py`): TF 1.13 `variance_scaling_initializer(2, fan_in, normal / uniform)`, i.e. variance_scaling scale 2: N(0, √(2/n)/0.8796) cut at 2σ (std √(2/n) after the cut), or U(±√(6/n)) |
 * | `orthogonal` | QR of a normal matrix [∏shape[:-1], shape[-1]], signs fixed by diag(R), times gain |
 * | `niftynet_default` | NiftyNet's conv default: truncated N(0, √(2/∏shape[:-1])) cut at 2σ |
 *
 * @module
 */
import type { RandomStream } from "./random.ts";

/** How the initial values of a variable are drawn. */
export type InitializerSpec =
  | { readonly type: "zeros" }
  | { readonly type: "ones" }
  | { readonly type: "constant"; readonly value: number }
  | { readonly type: "uniform_scaling"; readonly factor?: number }
  | {
    readonly type: "variance_scaling";
    readonly scale?: number;
    readonly mode?: "fan_in" | "fan_out" | "fan_avg";
    readonly distribution?: "truncated_normal" | "untruncated_normal" | "uniform";
  }
  | { readonly type: "glorot_normal" }
  | { readonly type: "glorot_uniform" }
  | { readonly type: "he_normal" }
  | { readonly type: "he_uniform" }
  | { readonly type: "orthogonal"; readonly gain?: number }
  | { readonly type: "niftynet_default" };

/** Initializer names accepted in configs. */
export type InitializerName = InitializerSpec["type"];

/** Every initializer name, for validation messages. */
export const INITIALIZER_NAMES: readonly InitializerName[] = [
  "zeros",
  "ones",
  "constant",
  "uniform_scaling",
  "variance_scaling",
  "glorot_normal",
  "glorot_uniform",
  "he_normal",
  "he_uniform",
  "orthogonal",
  "niftynet_default",
];

/** Turns a name (as written in a config) or a spec into a spec; `constant` by name means 0. */
export function toInitializerSpec(init: InitializerName | InitializerSpec): InitializerSpec {
  if (typeof init !== "string") return init;
  if (!INITIALIZER_NAMES.includes(init)) {
    throw new Error(`unknown initializer "${init}": expected one of ${INITIALIZER_NAMES.join(", ")}`);
  }
  return init === "constant" ? { type: "constant", value: 0 } : { type: init } as InitializerSpec;
}

/** TensorFlow's fan computation for a variable shape. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

// Standard deviation of a unit normal truncated to [−2, 2]; TF divides by it so the result has the asked variance.
const TRUNCATED_STDDEV = 0.87962566103423978;

/** Draws the initial values of a variable of `shape`, row-major. */
export function initialValues(spec: InitializerSpec, shape: readonly number[], rng: RandomStream): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const { fanIn, fanOut } = computeFans(shape);
  const fill = (draw: () => number) => {
    for (let i = 0; i < size; i++) out[i] = draw();
  };
  const uniform = (limit: number) => fill(() => (2 * rng.uniform() - 1) * limit);
  const truncated = (std: number) => fill(() => std * rng.truncatedNormal());
  switch (spec.type) {
    case "zeros":
      break;
    case "ones":
      out.fill(1);
      break;
    case "constant":
      out.fill(spec.value);
      break;
    case "uniform_scaling":
      uniform((spec.factor ?? 1) * Math.sqrt(3 / Math.max(1, size / (shape.at(-1) ?? 1))));
      break;
    case "variance_scaling": {
      const scale = spec.scale ?? 1;
      const mode = spec.mode ?? "fan_in";
      const n = Math.max(1, mode === "fan_in" ? fanIn : mode === "fan_out" ? fanOut : (fanIn + fanOut) / 2);
      const distribution = spec.distribution ?? "truncated_normal";
      if (distribution === "uniform") uniform(Math.sqrt(3 * scale / n));
      else if (distribution === "untruncated_normal") fill(() => Math.sqrt(scale / n) * rng.normal());
      else truncated(Math.sqrt(scale / n) / TRUNCATED_STDDEV);
      break;
    }
    case "glorot_normal":
      return initialValues({ type: "variance_scaling", mode: "fan_avg" }, shape, rng);
    case "glorot_uniform":
      return initialValues({ type: "variance_scaling", mode: "fan_avg", distribution: "uniform" }, shape, rng);
    case "he_normal":
      return initialValues({ type: "variance_scaling", scale: 2, mode: "fan_in" }, shape, rng);
    case "he_uniform":
      return initialValues({ type: "variance_scaling", scale: 2, mode: "fan_in", distribution: "uniform" }, shape, rng);
    case "niftynet_default":
      truncated(Math.sqrt(2 / Math.max(1, size / (shape.at(-1) ?? 1))));
      break;
    case "orthogonal":
      out.set(orthogonal(shape, spec.gain ?? 1, rng));
      break;
  }
  return out;
}

/** Orthogonal matrix [∏shape[:-1], shape[-1]] by modified Gram–Schmidt in float64 (positive diag(R)). */
function orthogonal(shape: readonly number[], gain: number, rng: RandomStream): Float64Array {
  if (shape.length < 2) throw new Error(`orthogonal initializer needs a shape of rank ≥ 2, got [${shape}]`);
  const cols = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  // Orthonormalise the longer side's vectors: k vectors of length m.
  const [m, k] = rows >= cols ? [rows, cols] : [cols, rows];
  const q: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = rng.normal();
    for (const u of q) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += u[i] * v[i];
      for (let i = 0; i < m; i++) v[i] -= dot * u[i];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
    q.push(v);
  }
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? q[c][r] : q[r][c]);
  }
  return out;
}
