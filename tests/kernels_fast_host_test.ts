/**
 * The TypeScript host kernels of src/kernels/fast (broadcast arithmetic, Sum/Mean, Slice, SplitV, MaxPool3DGrad)
 * give bit-identical results to tfjs's stock cpu kernels, take the calls they are meant for and hand the others on.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import "../src/kernels/mod.ts";
import { fastKernelCounts, registerFastCpuKernels, unregisterFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { assertClose, assertNoTensorLeak } from "./_util.ts";

registerFastCpuKernels();

/** Runs `fn` with the fast kernels and with the stock ones; returns both results and the fast run's counts. */
function bothWays(fn: () => tf.Tensor | tf.Tensor[]) {
  const run = () =>
    tf.tidy(() => {
      const out = fn();
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, dtype: t.dtype, data: t.dataSync() }));
    });
  fastKernelCounts({ reset: true });
  const fast = run();
  const counts = fastKernelCounts();
  unregisterFastCpuKernels();
  try {
    return { fast, stock: run(), counts };
  } finally {
    registerFastCpuKernels();
  }
}

function assertSame(what: string, fn: () => tf.Tensor | tf.Tensor[], { rtol = 0, atol = 0 } = {}) {
  const { fast, stock, counts } = bothWays(fn);
  assertEquals(fast.length, stock.length, what);
  fast.forEach((f, i) => {
    assertEquals([f.shape, f.dtype], [stock[i].shape, stock[i].dtype], `${what}: shape/dtype of output ${i}`);
    if (rtol > 0 || atol > 0) assertClose(f.data, stock[i].data, { rtol, atol, what: `${what} output ${i}` });
    else {
      const bad = f.data.findIndex((v, k) => !Object.is(v, stock[i].data[k]));
      assert(bad < 0, `${what} output ${i}: element ${bad} is ${f.data[bad]}, stock gives ${stock[i].data[bad]}`);
    }
  });
  return counts;
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, "float32", seed);
const VOLUME = [2, 3, 4, 5, 6];

Deno.test("fast Add/Sub/Multiply/RealDiv equal the stock kernels bit for bit for every handled broadcast", () => {
  const others: number[][] = [VOLUME, [6], [1, 1, 1, 1, 6], [], [2, 3, 4, 5, 1], [2, 3, 1, 1, 1], [5, 6]];
  const ops = [[tf.add, "Add"], [tf.sub, "Sub"], [tf.mul, "Multiply"], [tf.div, "RealDiv"]] as const;
  for (const shape of others) {
    for (const [op, name] of ops) {
      for (const volumeFirst of [true, false]) {
        const counts = assertSame(`${name} [${VOLUME}] with [${shape}]`, () => {
          const v = rand(VOLUME, 1), o = tf.add(rand(shape, 2), 3); // keep divisors away from 0
          return volumeFirst ? op(v, o) : op(o, v);
        });
        assert(
          counts[name].fast >= 1 && counts[name].fallback === 0,
          `${name} with [${shape}] did not take the fast path`,
        );
      }
    }
  }
});

Deno.test("a broadcast in the middle axes and int32 arithmetic are handed to the stock kernels", () => {
  const counts = assertSame("middle broadcast", () => tf.mul(rand(VOLUME, 1), rand([1, 3, 1, 1, 6], 2)));
  assertEquals(counts.Multiply, { fast: 0, fallback: 1 });
  const ints = assertSame("int32 add", () => tf.add(tf.tensor([1, 2, 3], [3], "int32"), tf.scalar(4, "int32")));
  assertEquals(ints.Add, { fast: 0, fallback: 1 });
});

Deno.test("fast Sum and Mean equal the stock kernels over adjacent axes, with and without keepDims", () => {
  const axesList: Array<number | number[] | undefined> = [[0, 1, 2, 3], [4], -1, [1, 2], [2, 1], undefined, 0];
  for (const axes of axesList) {
    for (const keepDims of [false, true]) {
      const counts = assertSame(`sum/mean axes ${JSON.stringify(axes)} keepDims ${keepDims}`, () => {
        const x = rand(VOLUME, 3);
        return [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims)];
      });
      assertEquals([counts.Sum.fallback, counts.Mean.fallback], [0, 0], `axes ${JSON.stringify(axes)}`);
    }
  }
  const gap = assertSame("sum over axes 0 and 2", () => tf.sum(rand(VOLUME, 4), [0, 2]));
  assertEquals(gap.Sum, { fast: 0, fallback: 1 });
});

Deno.test("fast Slice copies non-contiguous blocks (float32, int32, bool) exactly; contiguous ones stay stock", () => {
  const counts = assertSame("slices", () => {
    const x = rand(VOLUME, 5);
    return [
      tf.slice(x, [0, 1, 0, 2, 1], [1, 2, 3, 2, 4]),
      tf.slice(x, [1, 0, 1, 0, 0], [-1, -1, 2, -1, -1]),
      tf.slice(x, [0, 0, 0, 0, 5], [2, 3, 4, 5, 1]),
      tf.slice(tf.cast(tf.mul(x, 10), "int32"), [0, 1, 1, 1, 2], [2, 1, 2, 3, 3]),
      tf.slice(tf.greater(x, 0), [1, 1, 0, 0, 0], [1, 2, 4, 5, 3]),
    ];
  });
  assertEquals(counts.Slice.fallback, 0);
  const contiguous = assertSame("contiguous slice", () => tf.slice(rand(VOLUME, 6), [1, 0, 0, 0, 0], [1, 3, 4, 5, 6]));
  assertEquals(contiguous.Slice, { fast: 0, fallback: 1 });
});

Deno.test("fast SplitV (the gradient of a channel concat) equals the stock kernel for sizes, -1 and equal parts", () => {
  const counts = assertSame("splits", () => {
    const x = rand(VOLUME, 7);
    return [...tf.split(x, [2, -1, 1], -1), ...tf.split(x, 3, 1), ...tf.split(x, [1, 1], 0)];
  });
  assertEquals(counts.SplitV, { fast: 3, fallback: 0 });
  const grads = assertSame("concat gradient", () => {
    const a = rand([1, 4, 4, 4, 3], 8), b = rand([1, 4, 4, 4, 5], 9), w = rand([1, 4, 4, 4, 8], 10);
    return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], 4), w)))([a, b]);
  });
  assert(grads.SplitV.fast >= 1);
});

Deno.test("fast MaxPool3DGrad equals the stock kernel (overlapping windows: to 1e-6), ties and padding included", () => {
  for (const [k, s, pad] of [[2, 2, "valid"], [3, 2, "same"], [3, 1, "same"], [2, 2, "same"]] as const) {
    const counts = assertSame(`maxPool3d grad k${k} s${s} ${pad}`, () => {
      const x = tf.relu(rand([1, 5, 6, 7, 3], 11)); // about half zeros: many tied windows
      const dy = rand(tf.maxPool3d(x as tf.Tensor5D, k, s, pad).shape, 12);
      return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool3d(v as tf.Tensor5D, k, s, pad), dy)))(x);
    }, k > s ? { rtol: 1e-6, atol: 1e-6 } : {}); // overlapping windows add their dy in another order
    assertEquals(counts.MaxPool3DGrad, { fast: 1, fallback: 0 }, `k${k} s${s} ${pad}`);
  }
});

Deno.test("fast Relu, Step, PadV2, Transpose, Reverse, Concat, Softmax equal the stock kernels, NaN and ±Infinity included", () => {
  const counts = assertSame("unary and layout ops", () => {
    const x = tf.concat([tf.reshape(rand(VOLUME, 15), [-1]), tf.tensor([NaN, 0, -0, Infinity, -Infinity])]);
    const v = rand(VOLUME, 16);
    return [
      tf.relu(x),
      tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x),
      tf.leakyRelu(x, 0.2),
      tf.pad(v, [[0, 0], [1, 2], [0, 1], [2, 0], [0, 0]]),
      tf.pad(v, [[1, 0], [0, 0], [0, 0], [0, 0], [1, 1]], 2.5),
      tf.transpose(v, [4, 1, 2, 3, 0]),
      tf.transpose(v, [2, 0, 4, 1, 3]),
      tf.transpose(tf.reshape(v, [1, 6, 20, 6]), [0, 3, 2, 1]),
      tf.reverse(v, [1, 2, 3]),
      tf.reverse(tf.cast(tf.mul(v, 5), "int32"), -1),
      tf.concat([v, tf.neg(v), tf.slice(v, [0, 0, 0, 0, 0], [-1, -1, -1, -1, 2])], -1),
      tf.concat([v, v], 2),
      tf.concat([tf.cast(v, "int32"), tf.zeros([1, 3, 4, 5, 6], "int32")], 0),
      tf.softmax(tf.mul(v, 20)),
      tf.softmax(tf.reshape(x, [-1, 5])),
    ];
  });
  for (const name of ["Relu", "Step", "PadV2", "Transpose", "Reverse", "Concat", "Softmax"]) {
    assert(counts[name].fast >= 1 && counts[name].fallback === 0, `${name}: ${JSON.stringify(counts[name])}`);
  }
});

Deno.test("host kernels in a batch-norm + ReLU + pool + concat training loop leave the tensor count flat", async () => {
  const x = rand([1, 8, 8, 8, 4], 13);
  const w = tf.variable(rand([4], 14));
  const step = () =>
    tf.tidy(() => {
      const g = tf.grad((v: tf.Tensor) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2, 3]);
        const y = tf.relu(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), v));
        const p = tf.maxPool3d(y as tf.Tensor5D, 2, 2, "valid");
        return tf.sum(tf.concat([p, tf.slice(p, [0, 0, 0, 0, 1], [-1, -1, -1, -1, 2])], 4));
      })(w);
      w.assign(tf.sub(w, tf.mul(0.1, g)));
    });
  step();
  await assertNoTensorLeak("host kernel training loop", () => {
    for (let i = 0; i < 4; i++) step();
  });
  tf.dispose([x, w]);
});
