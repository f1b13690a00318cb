/**
 * oneDNN's multi-threaded data passes (src/kernels/fast/dnnl_passes.ts) give the same bits as the TypeScript kernels
 * they stand in for: binary arithmetic against binary.ts (itself bit-identical to tfjs's stock kernels), strided
 * copies (the dilated filter gradient's phase gathers, slices, padding, concatenation) against copyBox and
 * slice.ts; and the registered kernels take them for large tensors, equal the stock kernels, and leak no tensors.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { conv } from "../src/kernels/mod.ts";
import { DILATED_FILTER_GRAD } from "../src/kernels/conv_grads.ts";
import {
  fastKernelCounts,
  fastKernelImplementations,
  registerFastCpuKernels,
  unregisterFastCpuKernels,
} from "../src/kernels/fast/mod.ts";
import { openDnnl } from "../src/kernels/fast/_dnnl_ffi.ts";
import { type BinaryOp, planBinary, runBinary } from "../src/kernels/fast/binary.ts";
import { DnnlPasses, MIN_ONEDNN_ELEMENTS } from "../src/kernels/fast/dnnl_passes.ts";
import { directPhaseSplit, GatherScratch, phaseSplit } from "../src/kernels/fast/dilated_filter_grad.ts";
import type { ConvSpec } from "../src/kernels/fast/dnnl_conv.ts";
import { copyBlock, placeBlock } from "../src/kernels/fast/slice.ts";
import { coalesceBox, copyBox, placeBox, sliceBox } from "../src/kernels/fast/strided_copy.ts";
import { assertNoTensorLeak, relativeMaxError } from "./_util.ts";

const oneDnnlPresent = registerFastCpuKernels().active;
/** Every size goes to oneDNN here (the registered kernels keep small ones in TypeScript). */
const passes = oneDnnlPresent ? new DnnlPasses(openDnnl(), { minElements: 0 }) : null;

function size(shape: readonly number[]): number {
  return shape.reduce((p, n) => p * n, 1);
}

/** Deterministic values spanning magnitudes, with zeros of both signs, subnormals, infinities and NaN mixed in. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed * 2654435761 >>> 0;
  const specials = [0, -0, 1e-40, -3e-39, Infinity, -Infinity, NaN, 3.4e38, 1];
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = i % 97 === 5 ? specials[(s >>> 8) % specials.length] : (u - 0.5) * 10 ** Math.floor(u * 12 - 6);
  }
  return out;
}

/** The values of the tensors `fn` returns (copies), with every tensor it made disposed. */
function readAll(fn: () => tf.Tensor[]): Float32Array[] {
  const outs = tf.tidy(fn); // tidy must not walk large typed arrays (it visits every element)
  try {
    return outs.map((t) => (t.dataSync() as Float32Array).slice());
  } finally {
    tf.dispose(outs);
  }
}

function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -2;
  return a.findIndex((v, i) => !Object.is(v, b[i]));
}

Deno.test({
  name: "oneDNN binary Add/Sub/Multiply/RealDiv equal the TypeScript kernels bit for bit, odd shapes, 2D and 3D",
  ignore: !oneDnnlPresent,
  fn: () => {
    const volume = [1, 7, 9, 11, 5], image = [3, 13, 17, 6];
    const pairs: Array<[number[], number[]]> = [
      [volume, volume],
      [volume, [5]],
      [volume, []],
      [volume, [1, 7, 9, 11, 1]],
      [[5], volume],
      [[], volume],
      [image, image],
      [image, [6]],
      [image, [3, 13, 17, 1]],
      [[1, 1, 6], image],
    ];
    let onOneDnn = 0;
    for (const [as, bs] of pairs) {
      const plan = planBinary(as, bs)!;
      const a = values(size(as), 1), b = values(size(bs), 2);
      for (const op of ["Add", "Sub", "Multiply", "RealDiv"] as BinaryOp[]) {
        const want = runBinary(op, plan, a, b), got = new Float32Array(want.length);
        const taken = passes!.binary(op, plan, a, b, got);
        // a short first operand cannot be oneDNN's first source: only the commutative ops swap it
        const firstShort = size(as) < size(bs);
        assertEquals(taken, !firstShort || op === "Add" || op === "Multiply", `${op} [${as}] [${bs}] taken`);
        if (!taken) continue;
        onOneDnn++;
        const bad = firstDifference(got, want);
        assert(bad === -1, `${op} [${as}] with [${bs}]: element ${bad} is ${got[bad]}, TypeScript gives ${want[bad]}`);
      }
    }
    assertEquals(onOneDnn, 34);
  },
});

/** Dilated-conv geometries: 2D and 3D, dilations 2–4 (mixed per axis), with and without padding, odd sizes. */
function specs(): ConvSpec[] {
  const out: ConvSpec[] = [];
  for (const rank of [2, 3]) {
    for (const d of [2, 3, 4]) {
      for (const pad of [0, 1, d]) {
        const inSize = rank === 2 ? [11, 14] : [9, 10, 13];
        const dilations = inSize.map((_, i) => d + (i % 2));
        const outSize = inSize.map((n, i) => n + 2 * pad - 2 * dilations[i]);
        out.push({
          batch: 1,
          inChannels: 3,
          outChannels: 5,
          inSize,
          outSize,
          kernel: inSize.map(() => 3),
          strides: inSize.map(() => 1),
          dilations,
          padsBefore: inSize.map(() => pad),
          padsAfter: inSize.map(() => pad),
        });
      }
    }
  }
  return out;
}

Deno.test({
  name: "phase gathers of the dilated filter gradient by oneDNN reorders equal the TypeScript copies bit for bit",
  ignore: !oneDnnlPresent,
  fn: () => {
    const copier = (src: Float32Array, dst: Float32Array, boxes: Parameters<DnnlPasses["copy"]>[2]) =>
      passes!.copy(src, dst, boxes);
    // one scratch pair over all geometries: reuse after another geometry must zero what the boxes leave out
    const sx = new GatherScratch(), sdy = new GatherScratch();
    let checked = 0;
    for (const spec of specs()) {
      const x = values(size(spec.inSize) * spec.inChannels, 3), dy = values(size(spec.outSize) * spec.outChannels, 4);
      const splits = [directPhaseSplit(spec)];
      if (spec.padsBefore.every((p) => p === 0)) splits.push(phaseSplit(spec));
      for (const split of splits) {
        assert(split !== null, `split of ${JSON.stringify(spec)}`);
        for (let round = 0; round < 2; round++) {
          const what = `${spec.inSize.length}D dilations [${spec.dilations}] pads ${spec.padsBefore[0]} round ${round}`;
          const wantX = split.gatherSource(x), wantDy = split.gatherOutputGradient(dy);
          assertEquals(firstDifference(split.gatherSource(x, copier, sx), wantX), -1, `${what}: source`);
          assertEquals(firstDifference(split.gatherOutputGradient(dy, copier, sdy), wantDy), -1, `${what}: dy`);
          checked++;
        }
      }
    }
    assertEquals(checked, 48);
  },
});

Deno.test({
  name: "large Add/Sub/Multiply/RealDiv through tfjs run on oneDNN, equal the TypeScript kernels, leak no tensors",
  ignore: !oneDnnlPresent,
  fn: async () => {
    const shape = [1, 21, 23, 25, 7]; // 84525 values: above the oneDNN threshold
    assert(size(shape) >= MIN_ONEDNN_ELEMENTS);
    const a = values(size(shape), 5), b = values(size(shape), 6), c = values(7, 7);
    const ops = [[tf.add, "Add"], [tf.sub, "Sub"], [tf.mul, "Multiply"], [tf.div, "RealDiv"]] as const;
    const run = () =>
      readAll(() => {
        const ta = tf.tensor(a, shape), tb = tf.tensor(b, shape), tc = tf.tensor(c, [7]);
        return ops.flatMap(([op]) => [op(ta, tb), op(ta, tc), op(tc, ta)]);
      });
    fastKernelCounts({ reset: true });
    const got = run();
    const counts = fastKernelCounts();
    for (const [, name] of ops) assertEquals(counts[name], { fast: 3, fallback: 0 }, name);
    assert(fastKernelImplementations().some((i) => i.startsWith("binary:")), "no oneDNN binary primitive was built");
    const want = ops.flatMap(([, name]) => [
      runBinary(name, planBinary(shape, shape)!, a, b),
      runBinary(name, planBinary(shape, [7])!, a, c),
      runBinary(name, planBinary([7], shape)!, c, a),
    ]);
    got.forEach((g, i) => assertEquals(firstDifference(g, want[i]), -1, `output ${i}`));
    await assertNoTensorLeak("large binary ops", () => {
      for (let i = 0; i < 3; i++) run();
    });
  },
});

Deno.test({
  name: "a dilated conv3d large enough for oneDNN gathers: filter gradient equals the stock kernels, no leak",
  ignore: !oneDnnlPresent,
  fn: async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.randomNormal([1, 19, 21, 23, 8], 0, 1, "float32", 11) as tf.Tensor5D; // 73416 values
        const w = tf.randomNormal([3, 3, 3, 8, 6], 0, 1, "float32", 12);
        const f = (a: tf.Tensor) => conv(x, a, { strides: [1, 1, 1], dilations: [2, 3, 2], padding: "same" });
        return tf.grad((a: tf.Tensor) => tf.sum(tf.square(f(a))))(w).dataSync() as Float32Array;
      });
    fastKernelCounts({ reset: true });
    const fast = run();
    assertEquals(fastKernelCounts()[DILATED_FILTER_GRAD]?.fast, 1);
    unregisterFastCpuKernels();
    let stock: Float32Array;
    try {
      stock = run();
    } finally {
      registerFastCpuKernels();
    }
    const err = relativeMaxError(fast, stock);
    assert(err <= 1e-5, `dilated filter gradient: relative error ${err} vs the stock kernels`);
    await assertNoTensorLeak("dilated filter gradient", () => {
      for (let i = 0; i < 2; i++) run();
    });
  },
});

Deno.test({
  name: "slice/place boxes copied by oneDNN and by copyBox equal copyBlock/placeBlock, odd shapes, 2D to 5D",
  ignore: !oneDnnlPresent,
  fn: () => {
    const cases: Array<[number[], number[], number[]]> = [
      [[1, 7, 9, 11, 6], [0, 0, 0, 0, 2], [1, 7, 9, 11, 3]], // a channel range
      [[1, 7, 9, 11, 6], [0, 2, 1, 3, 0], [1, 4, 7, 5, 6]], // a spatial crop
      [[13, 17, 5], [3, 0, 1], [9, 17, 4]],
      [[19, 23], [1, 2], [17, 19]],
      [[2, 5, 1, 7], [1, 0, 0, 3], [1, 5, 1, 4]],
    ];
    for (const [shape, begin, sz] of cases) {
      const x = values(size(shape), 8);
      const want = copyBlock(x, shape, begin, sz, new Float32Array(size(sz)));
      const box = sliceBox(shape, begin, sz);
      const viaTs = new Float32Array(size(sz)), viaDnnl = new Float32Array(size(sz));
      copyBox(x, viaTs, box);
      assert(passes!.copy(x, viaDnnl, [box]), `slice [${shape}] taken`);
      assertEquals(firstDifference(viaTs, want), -1, `slice [${shape}] at [${begin}] size [${sz}] (TypeScript)`);
      assertEquals(firstDifference(viaDnnl, want), -1, `slice [${shape}] at [${begin}] size [${sz}] (oneDNN)`);
      // and back: place the block into a zeroed array of the full shape
      const back = placeBlock(want, sz, new Float32Array(size(shape)), shape, begin);
      const placed = new Float32Array(size(shape));
      assert(passes!.copy(want, placed, [placeBox(sz, shape, begin)]));
      assertEquals(firstDifference(placed, back), -1, `place into [${shape}] at [${begin}] (oneDNN)`);
    }
    assertEquals(coalesceBox(sliceBox([4, 5, 6], [0, 0, 0], [4, 5, 6])).dims, [120]);
  },
});

Deno.test({
  name: "large float32 Slice, SplitV, Concat and PadV2 through tfjs run on oneDNN and equal the stock kernels",
  ignore: !oneDnnlPresent,
  fn: async () => {
    const shape = [1, 17, 19, 21, 16]; // 108528 values
    const x = values(size(shape), 9);
    const run = () =>
      readAll(() => {
        const t = tf.tensor(x, shape);
        const [p, q] = tf.split(t, [5, 11], -1);
        return [
          tf.slice(t, [0, 0, 0, 0, 3], [1, 17, 19, 21, 9]),
          p,
          q,
          tf.concat([t, t], -1),
          tf.pad(t, [[0, 0], [0, 0], [0, 0], [0, 0], [4, 4]]),
          tf.pad(t, [[0, 0], [1, 2], [0, 1], [2, 0], [0, 0]], 1.5),
        ];
      });
    fastKernelCounts({ reset: true });
    const got = run();
    const counts = fastKernelCounts();
    for (const name of ["Slice", "SplitV", "Concat", "PadV2"]) assert(counts[name].fast >= 1, `${name} not fast`);
    assert(fastKernelImplementations().some((i) => i.startsWith("copy:")), "no oneDNN reorder was built");
    unregisterFastCpuKernels();
    let stock: Float32Array[];
    try {
      stock = run();
    } finally {
      registerFastCpuKernels();
    }
    got.forEach((g, i) => assertEquals(firstDifference(g, stock[i]), -1, `output ${i}`));
    await assertNoTensorLeak("large copies", () => {
      for (let i = 0; i < 3; i++) run();
    });
  },
});
