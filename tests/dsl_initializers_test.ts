import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { computeFans, type InitializerSpec, initialValues, toInitializerSpec } from "../src/dsl/initializers.ts";
import { RandomStream } from "../src/dsl/random.ts";
import { VariableStore } from "../src/dsl/mod.ts";
import { assertThrows } from "./_util.ts";

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0, maxAbs = 0;
  for (const v of values) {
    variance += (v - mean) ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  return { mean, std: Math.sqrt(variance / values.length), maxAbs };
}

// A 3D conv kernel [3,3,3,16,32]: fan_in 432, fan_out 864 (TensorFlow's _compute_fans).
const SHAPE = [3, 3, 3, 16, 32];
const FAN_IN = 432, FAN_OUT = 864;
// Standard deviation of N(0,1) truncated to [-2, 2].
const TRUNC = 0.8796256610342398;

Deno.test("fans follow TensorFlow: kernel [k…, in, out], vector, scalar", () => {
  assertEquals(computeFans(SHAPE), { fanIn: FAN_IN, fanOut: FAN_OUT });
  assertEquals(computeFans([7]), { fanIn: 7, fanOut: 7 });
  assertEquals(computeFans([]), { fanIn: 1, fanOut: 1 });
  assertEquals(computeFans([5, 3]), { fanIn: 5, fanOut: 3 });
});

const cases: [string, InitializerSpec, { std: number; bound?: number }][] = [
  ["he_normal (NiftyNet 0.6 / TF 1.13: truncated, std √(2/fan_in) after the cut)", { type: "he_normal" }, {
    std: Math.sqrt(2 / FAN_IN),
    bound: 2 * Math.sqrt(2 / FAN_IN) / TRUNC,
  }],
  ["he_uniform (±√(6/fan_in))", { type: "he_uniform" }, {
    std: Math.sqrt(6 / FAN_IN) / Math.sqrt(3),
    bound: Math.sqrt(6 / FAN_IN),
  }],
  ["glorot_uniform (±√(6/(fan_in+fan_out)))", { type: "glorot_uniform" }, {
    std: Math.sqrt(2 / (FAN_IN + FAN_OUT)),
    bound: Math.sqrt(6 / (FAN_IN + FAN_OUT)),
  }],
  ["glorot_normal (variance 2/(fan_in+fan_out))", { type: "glorot_normal" }, {
    std: Math.sqrt(2 / (FAN_IN + FAN_OUT)),
  }],
  ["variance_scaling fan_out untruncated", {
    type: "variance_scaling",
    scale: 3,
    mode: "fan_out",
    distribution: "untruncated_normal",
  }, { std: Math.sqrt(3 / FAN_OUT) }],
  ["uniform_scaling (±√(3/∏shape[:-1]))", { type: "uniform_scaling", factor: 1.5 }, {
    std: 1.5 * Math.sqrt(3 / FAN_IN) / Math.sqrt(3),
    bound: 1.5 * Math.sqrt(3 / FAN_IN),
  }],
  ["niftynet_default (truncated, σ=√(2/fan_in))", { type: "niftynet_default" }, {
    std: Math.sqrt(2 / FAN_IN) * TRUNC,
    bound: 2 * Math.sqrt(2 / FAN_IN),
  }],
];

for (const [name, spec, expected] of cases) {
  Deno.test(`${name}: standard deviation within 2% and values within bounds`, () => {
    const values = initialValues(spec, SHAPE, new RandomStream(3));
    const s = stats(values);
    assert(Math.abs(s.mean) < 0.02 * expected.std * 5, `mean ${s.mean}`);
    assert(Math.abs(s.std / expected.std - 1) < 0.02, `std ${s.std} vs ${expected.std}`);
    if (expected.bound) assert(s.maxAbs <= expected.bound * (1 + 1e-6), `max ${s.maxAbs} > ${expected.bound}`);
  });
}

Deno.test("constant, zeros and ones fill exactly", () => {
  assertEquals([...initialValues({ type: "constant", value: 0.25 }, [3], new RandomStream(0))], [0.25, 0.25, 0.25]);
  assertEquals([...initialValues(toInitializerSpec("zeros"), [2], new RandomStream(0))], [0, 0]);
  assertEquals([...initialValues(toInitializerSpec("ones"), [2], new RandomStream(0))], [1, 1]);
});

Deno.test("orthogonal gives orthonormal columns (tall) and rows (wide), scaled by gain", () => {
  for (const [shape, gain] of [[[3, 3, 4, 6], 1], [[2, 9], 2]] as [number[], number][]) {
    const v = initialValues({ type: "orthogonal", gain }, shape, new RandomStream(5));
    const cols = shape.at(-1)!, rows = v.length / cols;
    const tall = rows >= cols;
    const k = tall ? cols : rows, m = tall ? rows : cols;
    const at = (vec: number, i: number) => tall ? v[i * cols + vec] : v[vec * cols + i];
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += at(a, i) * at(b, i);
        const want = a === b ? gain * gain : 0;
        assert(Math.abs(dot - want) < 1e-5, `<${a},${b}> = ${dot}, expected ${want}`);
      }
    }
  }
});

Deno.test("initial values depend on the seed and the variable path, not on creation order", () => {
  const a = new VariableStore({ seed: 1 }), b = new VariableStore({ seed: 1 }), c = new VariableStore({ seed: 2 });
  a.getOrCreate("n/x/w", [4, 4]);
  a.getOrCreate("n/y/w", [4, 4]);
  b.getOrCreate("n/y/w", [4, 4]);
  b.getOrCreate("n/x/w", [4, 4]);
  c.getOrCreate("n/x/w", [4, 4]);
  const values = (s: VariableStore, p: string) => [...s.get(p)!.variable.dataSync()];
  assertEquals(values(a, "n/x/w"), values(b, "n/x/w"));
  assert(values(a, "n/x/w").join() !== values(a, "n/y/w").join());
  assert(values(a, "n/x/w").join() !== values(c, "n/x/w").join());
  [a, b, c].forEach((s) => s.dispose());
});

Deno.test("an unknown initializer name is refused with the list of known ones", () => {
  assertThrows(() => toInitializerSpec("he_norml" as "he_normal"), 'unknown initializer "he_norml": expected one of');
});
