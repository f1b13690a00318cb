/**
 * The oneDNN convolution kernels (src/kernels/fast) against PyTorch (tests/reference/kernels_fast_conv.py) and
 * against tfjs's stock cpu kernels, plus their fallbacks: missing library, switched off, unsupported calls.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { conv } from "../src/kernels/mod.ts";
import { DILATED_FILTER_GRAD } from "../src/kernels/conv_grads.ts";
import {
  FAST_CONV_KERNELS,
  FAST_KERNELS_ENV,
  fastKernelCounts,
  fastKernelStatus,
  registerFastCpuKernels,
  unregisterFastCpuKernels,
} from "../src/kernels/fast/mod.ts";
import { freshOutput } from "../src/kernels/fast/_fresh_output.ts";
import { assertClose, assertNoTensorLeak, loadFixture, relativeMaxError } from "./_util.ts";

interface Case {
  name: string;
  strides: number[];
  dilations: number[];
  padding: "same" | "valid";
  x_shape: number[];
  w_shape: number[];
  y_shape: number[];
  x: number[];
  w: number[];
  dy: number[];
  y: number[];
  dx: number[];
  dw: number[];
}

const fixture = loadFixture<{ cases: Case[] }>("kernels_fast_conv");
const oneDnnlPresent = registerFastCpuKernels().active;

/** y, dx, dw of sum(conv(x, w) · dy) through the public ops (so tfjs's and our gradient code call the kernels). */
function convAndGrads(c: Case): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor(c.x, c.x_shape), w = tf.tensor(c.w, c.w_shape), dy = tf.tensor(c.dy, c.y_shape);
    const f = (a: tf.Tensor, b: tf.Tensor) =>
      conv(a as tf.Tensor5D, b, { strides: c.strides, dilations: c.dilations, padding: c.padding });
    const y = f(x, w);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), dy)))([x, w]);
    return { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  });
}

function withStockKernels<T>(fn: () => T): T {
  unregisterFastCpuKernels();
  try {
    return fn();
  } finally {
    registerFastCpuKernels();
  }
}

for (const c of fixture.cases) {
  Deno.test(`fast conv ${c.name}: output, input and kernel gradients match PyTorch to 1e-4`, () => {
    const got = convAndGrads(c);
    assertEquals(got.y.length, c.y.length);
    for (const key of ["y", "dx", "dw"] as const) {
      const err = relativeMaxError(got[key], c[key]);
      assert(err <= 1e-4, `${c.name} ${key}: relative error ${err} > 1e-4`);
    }
  });
}

Deno.test({
  name: "fast conv serves every fixture call on oneDNN (no fallback) and agrees with tfjs's stock kernels to 1e-5",
  ignore: !oneDnnlPresent,
  fn: () => {
    fastKernelCounts({ reset: true });
    const fast = fixture.cases.map(convAndGrads);
    const counts = fastKernelCounts();
    for (const name of FAST_CONV_KERNELS) assertEquals(counts[name].fallback, 0, `${name} fell back`);
    // dilation 1 runs tfjs's gradient (backprop kernels); dilation > 1 runs ours (forward kernels only)
    assert(
      counts.Conv3D.fast >= 9 && counts.Conv3DBackpropInputV2.fast >= 6 && counts.Conv3DBackpropFilterV2.fast >= 6,
    );
    assert(counts.Conv2D.fast >= 2 && counts.Conv2DBackpropInput.fast >= 2 && counts.Conv2DBackpropFilter.fast >= 2);
    // dilated filter gradients of batch 1 (3d d2 same/valid, d[1,2,3], d4, 2d d[2,3]) take the direct phase split
    assertEquals(counts[DILATED_FILTER_GRAD]?.fast, 5);
    const stock = withStockKernels(() => fixture.cases.map(convAndGrads));
    fixture.cases.forEach((c, i) => {
      for (const key of ["y", "dx", "dw"] as const) {
        const err = relativeMaxError(fast[i][key], stock[i][key]);
        assert(err <= 1e-5, `${c.name} ${key}: fast vs stock relative error ${err}`);
      }
    });
  },
});

Deno.test({
  name: "conv3dTranspose (Conv3DBackpropInputV2) stride 2 on oneDNN equals the stock kernel, 8 -> 4 channels",
  ignore: !oneDnnlPresent,
  fn: () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.randomNormal([1, 5, 4, 3, 8], 0, 1, "float32", 3) as tf.Tensor5D;
        const w = tf.randomNormal([3, 3, 3, 4, 8], 0, 1, "float32", 4) as tf.Tensor5D;
        return tf.conv3dTranspose(x, w, [1, 10, 8, 6, 4], 2, "same").dataSync();
      });
    fastKernelCounts({ reset: true });
    const fast = run();
    assertEquals(fastKernelCounts().Conv3DBackpropInputV2.fast, 1);
    assertClose(fast, withStockKernels(run), { rtol: 1e-5, atol: 1e-5, what: "conv3dTranspose" });
  },
});

Deno.test({
  name: "1-channel valid convs with a filter larger than the output (dilated-gradient form) equal the stock kernel",
  ignore: !oneDnnlPresent,
  fn: () => {
    const cases: Array<[number[], number[], number[]]> = [
      [[3, 9, 8, 7, 1], [7, 6, 5, 1, 4], [1, 1, 1]], // stride 1: oneDNN filter gradient, channels-first source
      [[3, 11, 9, 8, 1], [7, 5, 6, 1, 4], [2, 2, 1]], // stride 2 ⇒ phase split
      [[2, 12, 10, 1], [6, 4, 1, 3], [3, 2]], // 2D, strides 3 and 2
    ];
    for (const [xShape, wShape, strides] of cases) {
      const run = () =>
        tf.tidy(() => {
          const x = tf.randomNormal(xShape, 0, 1, "float32", 7), w = tf.randomNormal(wShape, 0, 1, "float32", 8);
          return (xShape.length === 5
            ? tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, strides as [number, number, number], "valid")
            : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides as [number, number], "valid")).dataSync();
        });
      fastKernelCounts({ reset: true });
      const fast = run();
      const counts = fastKernelCounts();
      assertEquals(counts.Conv3D.fast + counts.Conv2D.fast, 1, `[${xShape}] * [${wShape}] took the fast path`);
      assertClose(fast, withStockKernels(run), { rtol: 1e-5, atol: 1e-4, what: `[${xShape}] * [${wShape}]` });
    }
  },
});

Deno.test("channels-first Conv2D (unsupported by the fast path) is handed to the stock kernel", () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.randomNormal([1, 3, 6, 5], 0, 1, "float32", 5) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 3, 2], 0, 1, "float32", 6) as tf.Tensor4D;
      return tf.conv2d(x, w, 1, "same", "NCHW").dataSync();
    });
  fastKernelCounts({ reset: true });
  const got = run();
  if (oneDnnlPresent) assertEquals(fastKernelCounts().Conv2D, { fast: 0, fallback: 1 });
  assertClose(got, withStockKernels(run), { rtol: 0, atol: 0, what: "NCHW conv2d" });
});

Deno.test("a missing oneDNN library gives one console.warn line, keeps the stock kernels, and conv still matches PyTorch", () => {
  const stockConv3d = withStockKernels(() => tf.getKernel("Conv3D", "cpu"));
  const warn = console.warn;
  const lines: string[] = [];
  console.warn = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    const library = "libniftyts_missing_dnnl.so";
    const first = registerFastCpuKernels({ library });
    const second = registerFastCpuKernels({ library });
    assertEquals(lines.length, 1, `expected one notice, got ${JSON.stringify(lines)}`);
    assert(!lines[0].includes("\n") && lines[0].includes(library) && lines[0].includes("libdnnl2"), lines[0]);
    assertEquals([first.active, first.kernel, second.active], [false, "stock", false]);
    assertEquals(tf.getKernel("Conv3D", "cpu"), stockConv3d);
    const c = fixture.cases.find((k) => k.name.startsWith("3d k3 s2 same"))!;
    const got = convAndGrads(c);
    for (const key of ["y", "dx", "dw"] as const) assert(relativeMaxError(got[key], c[key]) <= 1e-4, key);
  } finally {
    console.warn = warn;
    registerFastCpuKernels();
  }
  assertEquals(fastKernelStatus().active, oneDnnlPresent);
});

Deno.test(`${FAST_KERNELS_ENV}=off keeps tfjs's stock kernels; registering again restores the fast ones`, () => {
  const stockConv3d = withStockKernels(() => tf.getKernel("Conv3D", "cpu"));
  const before = Deno.env.get(FAST_KERNELS_ENV);
  Deno.env.set(FAST_KERNELS_ENV, "off");
  try {
    const status = registerFastCpuKernels();
    assertEquals([status.active, status.reason], [false, `disabled by ${FAST_KERNELS_ENV}`]);
    assertEquals(tf.getKernel("Conv3D", "cpu"), stockConv3d);
  } finally {
    if (before === undefined) Deno.env.delete(FAST_KERNELS_ENV);
    else Deno.env.set(FAST_KERNELS_ENV, before);
  }
  assertEquals(registerFastCpuKernels().active, oneDnnlPresent);
  if (oneDnnlPresent) assert(tf.getKernel("Conv3D", "cpu") !== stockConv3d);
});

Deno.test("registering twice keeps one set of fast kernels whose fallback is the stock kernel", () => {
  const a = registerFastCpuKernels(), kernel = tf.getKernel("Conv3D", "cpu");
  const b = registerFastCpuKernels();
  assertEquals(a, b);
  assertEquals(tf.getKernel("Conv3D", "cpu"), kernel);
  const stock = withStockKernels(() => tf.getKernel("Conv3D", "cpu"));
  if (oneDnnlPresent) assert(stock !== kernel && stock !== undefined);
});

Deno.test("fast conv3d forward + backward in a loop leaves the tensor count flat", async () => {
  const x = tf.randomNormal([1, 6, 6, 6, 4], 0, 1, "float32", 1) as tf.Tensor5D;
  const w = tf.variable(tf.randomNormal([3, 3, 3, 4, 4], 0, 0.1, "float32", 2));
  const step = () =>
    tf.tidy(() => {
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(conv(x, v, { strides: 2 }))))(w);
      w.assign(tf.sub(w, tf.mul(0.01, g)));
    });
  step();
  await assertNoTensorLeak("fast conv training loop", () => {
    for (let i = 0; i < 5; i++) step();
  });
  tf.dispose([x, w]);
});

Deno.test("freshOutput gives zeroed, writable arrays of the asked length, small and huge-page advised (16 MiB)", () => {
  for (const length of [3, 64 ** 3 * 16 + 5]) {
    const a = freshOutput(length);
    assertEquals(a.length, length);
    assert(a.every((v) => v === 0));
    a.fill(1.5);
    assertEquals([a[0], a[length - 1]], [1.5, 1.5]);
  }
});
