/**
 * The webgpu kernel fixes (src/kernels/gpu) and every op the layers use on 3D data: forward and input gradients
 * on webgpu equal cpu's (relative error ≤ 1e−5; cpu's are checked against PyTorch in the other kernel tests), and
 * no kernel leaks tensors. Skips, with the reason, when Deno has no WebGPU adapter.
 */
import { ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { conv, resize3d } from "../src/kernels/mod.ts";
import { batchNormTraining } from "../layers/bn.ts";
import { opParity, webgpuAvailable } from "./_backend_parity.ts";

const gpu = await webgpuAvailable();
if (gpu.ok) await useBackend("webgpu");
await useBackend("cpu");

type Op = (...xs: tf.Tensor[]) => tf.Tensor;
const T5 = (t: tf.Tensor) => t as tf.Tensor5D, T4 = (t: tf.Tensor) => t as tf.Tensor4D;
const PADS: [number, number][] = [[1, 0], [1, 2], [0, 1], [2, 0], [0, 1]];

/** [what, op, input shapes, options]: the fixed kernels first, then the ops they feed. */
const CASES: [string, Op, number[][], { gradients?: boolean; tiny?: boolean }?][] = [
  ["rank-5 pad with a constant (stock webgpu: zeros)", (x) => tf.pad(x, PADS, 0.5), [[1, 3, 4, 3, 2]]],
  ["rank-5 mirror pad, reflect", (x) => tf.mirrorPad(x, PADS.map(([a, b]) => [Math.min(a, 1), b]), "reflect"), [[
    2,
    3,
    4,
    3,
    2,
  ]]],
  ["rank-5 mirror pad, symmetric", (x) => tf.mirrorPad(x, PADS, "symmetric"), [[2, 3, 4, 3, 2]]],
  ["rank-5 slice (its gradient pads)", (x) => tf.slice(x, [0, 1, 0, 1, 0], [1, 2, 3, 2, 2]), [[1, 3, 4, 3, 2]]],
  ["rank-5 tile (stock webgpu throws; cpu has no rank-5 tile gradient)", (x) => tf.tile(x, [2, 1, 2, 3, 1]), [[
    2,
    3,
    4,
    3,
    2,
  ]], { gradients: false }],
  ["rank-5 reverse (stock webgpu drops the first axis)", (x) => tf.reverse(x, [0, 1, 3]), [[3, 3, 4, 3, 2]]],
  [
    "rank-5 where (stock webgpu throws)",
    (x, y) => tf.where(tf.greater(tf.randomNormal(x.shape, 0, 1, "float32", 3), 0), x, y),
    [[1, 3, 4, 3, 2], [
      1,
      3,
      4,
      3,
      2,
    ]],
  ],
  ["leaky ReLU on rank 5 (its gradient selects)", (x) => tf.leakyRelu(x, 0.2), [[1, 3, 4, 3, 2]]],
  ["tanh of tiny values (stock webgpu cancels: 7% off at 5e-7)", (x) => tf.tanh(tf.mul(x, 1e-6)), [[2, 50]]],
  ["tanh over its whole range", (x) => tf.tanh(tf.mul(x, 3)), [[4, 50]]],
  // 2000 elements: smaller tensors still on the host go through tfjs-webgpu's cpu hand-off, which is exact
  ["expm1 of tiny values (stock webgpu: exp(a) − 1 cancels)", (x) => tf.expm1(tf.mul(x, 1e-6)), [[40, 50]]],
  ["expm1 over ±5", (x) => tf.expm1(tf.mul(x, 2)), [[4, 50]]],
  ["ELU of tiny values (stock webgpu: 4.6% off at 1e-6)", (x) => tf.elu(tf.mul(x, 1e-6)), [[1, 3, 4, 3, 2]]],
  ["ELU over its range", (x) => tf.elu(tf.mul(x, 2)), [[1, 3, 4, 3, 2]]],
  ["SELU of tiny values (stock webgpu: 4.6% off at 1e-6)", (x) => tf.selu(tf.mul(x, 1e-6)), [[4, 50]]],
  ["SELU over its range", (x) => tf.selu(tf.mul(x, 2)), [[4, 50]]],
  ["log1p of tiny values (stock webgpu: 2.4% off at 1e-6)", (x) => tf.log1p(tf.mul(x, 1e-6)), [[4, 50]]],
  ["log1p over (−0.9, 20)", (x) => tf.log1p(tf.sub(tf.exp(tf.mul(x, 1.2)), 0.9)), [[4, 50]]],
  ["bilinear resize gradient with half-pixel centres", (x) => tf.image.resizeBilinear(T4(x), [7, 5], false, true), [[
    2,
    3,
    4,
    2,
  ]]],
  ["bilinear resize gradient with aligned corners", (x) => tf.image.resizeBilinear(T4(x), [7, 5], true), [[
    1,
    3,
    4,
    2,
  ]]],
  [
    "nearest resize gradient with half-pixel centres",
    (x) => tf.image.resizeNearestNeighbor(T4(x), [7, 9], false, true),
    [[
      2,
      3,
      4,
      2,
    ]],
  ],
  ["trilinear resize3d", (x) => resize3d(T5(x), [6, 7, 5], { halfPixelCenters: true }), [[1, 3, 4, 3, 2]]],
  ["nearest resize3d", (x) => resize3d(T5(x), [6, 8, 6], { method: "nearest" }), [[1, 3, 4, 3, 2]]],
  ["conv3d, stride 1", (x, w) => conv(T5(x), w), [[1, 5, 6, 4, 2], [3, 3, 3, 2, 3]]],
  ["conv3d, stride 2", (x, w) => conv(T5(x), w, { strides: 2 }), [[1, 6, 5, 4, 2], [3, 3, 3, 2, 3]]],
  ["dilated conv3d (dilation 2)", (x, w) => conv(T5(x), w, { dilations: 2 }), [[1, 6, 6, 6, 2], [3, 3, 3, 2, 3]]],
  ["dilated conv3d (dilation 4, valid)", (x, w) => conv(T5(x), w, { dilations: 4, padding: "valid" }), [[
    1,
    10,
    9,
    9,
    2,
  ], [2, 2, 2, 2, 2]]],
  ["dilated conv2d", (x, w) => conv(T4(x), w, { dilations: 2 }), [[1, 6, 7, 2], [3, 3, 2, 3]]],
  ["conv3d transpose, stride 2", (x, w) => tf.conv3dTranspose(T5(x), T5(w), [1, 6, 6, 6, 3], 2, "same"), [[
    1,
    3,
    3,
    3,
    2,
  ], [3, 3, 3, 3, 2]]],
  ["conv2d transpose, stride 2", (x, w) => tf.conv2dTranspose(T4(x), T4(w), [1, 6, 6, 3], 2, "same"), [[1, 3, 3, 2], [
    2,
    2,
    3,
    2,
  ]]],
  ["max pool 3d", (x) => tf.maxPool3d(T5(x), 2, 2, "same"), [[1, 4, 5, 4, 2]]],
  ["average pool 3d", (x) => tf.avgPool3d(T5(x), 2, 2, "same"), [[1, 4, 5, 4, 2]]],
  ["batch norm, training mode", (x, g, b) => {
    const { y, mean, variance } = batchNormTraining(x, g, b, 1e-5);
    tf.dispose([mean, variance]); // kept by batchNormTraining for the moving averages
    return y;
  }, [[2, 3, 4, 3, 2], [2], [2]]],
  ["softmax over channels", (x) => tf.softmax(x), [[1, 3, 4, 3, 3]]],
  ["concat on channels", (x, y) => tf.concat([x, y], 4), [[1, 3, 4, 3, 2], [1, 3, 4, 3, 3]]],
  ["rank-5 transpose", (x) => tf.transpose(x, [0, 4, 1, 3, 2]), [[1, 3, 4, 3, 2]]],
];

for (const [what, op, shapes, options] of CASES) {
  const gradients = options?.gradients ?? true;
  Deno.test({
    name: `webgpu: ${what}: output${gradients ? " and input gradients" : ""} equal cpu's, no tensor leaks${
      gpu.ok ? "" : ` [skipped: ${gpu.reason}]`
    }`,
    ignore: !gpu.ok,
    fn: async () => {
      const errors = await opParity(op, shapes, "webgpu", { gradients });
      assert(errors.every((e) => e <= 1e-5), `relative errors [output, gradients…]: ${errors.join(", ")}`);
    },
  });
}
