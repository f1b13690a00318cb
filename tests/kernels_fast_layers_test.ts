/**
 * The oneDNN inference layers (src/kernels/fast/dnnl_layers.ts and the transposed convolution) against PyTorch
 * (tests/reference/kernels_fast_layers.py: max/average pooling, trilinear/bilinear resizing with half-pixel centres,
 * transposed convolution with TensorFlow's padding) and against tfjs's own ops on the same data.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { resize3d } from "../src/kernels/mod.ts";
import { convSpecOf, layerPlanners, registerFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { assertClose, loadFixture } from "./_util.ts";

interface Case {
  name: string;
  op: "pool" | "resize" | "deconv";
  alg?: "max" | "avg";
  kernel?: number;
  stride?: number;
  padding?: "same" | "valid";
  x_shape: number[];
  w_shape?: number[];
  y_shape: number[];
  x: number[];
  w?: number[];
  y: number[];
}

await tf.setBackend("cpu");
const active = registerFastCpuKernels().active;
const fixture = loadFixture<{ cases: Case[] }>("kernels_fast_layers");

/** TensorFlow's pads of a pooling (output ⌈n/s⌉ for "same"). */
function poolPads(n: number, k: number, s: number, padding: "same" | "valid"): [number, number, number] {
  const out = padding === "same" ? Math.ceil(n / s) : Math.ceil((n - k + 1) / s);
  const total = padding === "same" ? Math.max((out - 1) * s + k - n, 0) : 0;
  return [out, Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Our oneDNN layer on the case's input. */
function onednn(c: Case): Float32Array {
  const planners = layerPlanners()!;
  const x = Float32Array.from(c.x), y = new Float32Array(c.y.length);
  const batch = c.x_shape[0], channels = c.x_shape.at(-1)!, inSize = c.x_shape.slice(1, -1);
  const plan = c.op === "pool"
    ? (() => {
      const geo = inSize.map((n) => poolPads(n, c.kernel!, c.stride!, c.padding!));
      return planners.pool({
        batch,
        channels,
        inSize,
        outSize: geo.map((g) => g[0]),
        kernel: inSize.map(() => c.kernel!),
        strides: inSize.map(() => c.stride!),
        padsBefore: geo.map((g) => g[1]),
        padsAfter: geo.map((g) => g[2]),
        alg: c.alg!,
      });
    })()
    : c.op === "resize"
    ? planners.resample({ batch, channels, inSize, outSize: c.y_shape.slice(1, -1), alg: "linear" })
    : planners.deconv(convSpecOf(c.y_shape, c.w_shape!, { strides: c.stride!, pad: c.padding! })!);
  try {
    if ("pass" in plan) plan.run(x, Float32Array.from(c.w!), y);
    else plan.run([x], y);
  } finally {
    plan.destroy();
  }
  return y;
}

/** tfjs's own op on the case's input. */
function tfjs(c: Case): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor(c.x, c.x_shape);
    const rank = c.x_shape.length - 2;
    let y: tf.Tensor;
    if (c.op === "pool") {
      const [k, s, p] = [c.kernel!, c.stride!, c.padding!];
      y = rank === 3
        ? (c.alg === "max" ? tf.maxPool3d : tf.avgPool3d)(x as tf.Tensor5D, k, s, p)
        : (c.alg === "max" ? tf.maxPool : tf.avgPool)(x as tf.Tensor4D, k, s, p);
    } else if (c.op === "resize") {
      const size = c.y_shape.slice(1, -1);
      y = rank === 3
        ? resize3d(x as tf.Tensor5D, size as [number, number, number], { halfPixelCenters: true })
        : tf.image.resizeBilinear(x as tf.Tensor4D, size as [number, number], false, true);
    } else {
      const w = tf.tensor(c.w!, c.w_shape!);
      y = tf.conv3dTranspose(x as tf.Tensor5D, w as tf.Tensor5D, c.y_shape as never, c.stride!, c.padding!);
    }
    assertEquals(y.shape, c.y_shape);
    return y.dataSync() as Float32Array;
  });
}

for (const c of fixture.cases) {
  Deno.test({
    name: `oneDNN ${c.op} ${c.name}: matches PyTorch to 1e-5 and tfjs's op`,
    ignore: !active,
    fn: () => {
      const y = onednn(c);
      assertClose(y, c.y, { rtol: 1e-5, atol: 1e-5, what: `${c.name} vs PyTorch` });
      assertClose(y, tfjs(c), { rtol: 1e-5, atol: 1e-5, what: `${c.name} vs tfjs` });
    },
  });
}

Deno.test({
  name: "oneDNN resampling of a 32³ × 16-channel tensor to 64³ runs (oneDNN 2.6's jit kernel crashes there)",
  ignore: !active,
  fn: () => {
    const plan = layerPlanners()!.resample({
      batch: 1,
      channels: 16,
      inSize: [32, 32, 32],
      outSize: [64, 64, 64],
      alg: "linear",
    });
    const x = new Float32Array(32 ** 3 * 16).map((_, i) => i % 16), y = new Float32Array(64 ** 3 * 16);
    plan.run([x], y);
    plan.destroy();
    assertEquals([y[0], y[15], y[y.length - 1]], [0, 15, 15]); // constant per channel stays constant
  },
});

Deno.test({
  name: "oneDNN concatenation along the channels equals tf.concat exactly, three parts, 2-D and 3-D",
  ignore: !active,
  fn: () => {
    for (const size of [[3, 4, 5], [6, 7]]) {
      const channels = [2, 5, 1];
      const parts = channels.map((c, i) => tf.randomUniform([2, ...size, c], -1, 1, "float32", i));
      const plan = layerPlanners()!.concat(2, size, channels);
      const y = new Float32Array(parts.reduce((n, p) => n + p.size, 0));
      plan.run(parts.map((p) => p.dataSync() as Float32Array), y);
      plan.destroy();
      const ref = tf.tidy(() => tf.concat(parts, -1).dataSync() as Float32Array);
      assertEquals([...y], [...ref]);
      tf.dispose(parts);
    }
  },
});
