/**
 * Transposed and dilated convolutions (src/kernels): forward values and both gradients against PyTorch (float64,
 * tests/reference/kernels_reference.py) and against finite differences, on the cpu and wasm backends.
 */
import { backendLoaders, tf } from "../src/deps.ts";
import { conv, registerKernelFixes } from "../src/kernels/mod.ts";
import { assertClose, finiteDifference, loadFixture, relativeMaxError } from "./_util.ts";
import { BACKENDS, matchesTorch, onBackend } from "./_kernel_checks.ts";

await backendLoaders.wasm();
registerKernelFixes();

interface ConvTransposeCase {
  stride: number;
  pad: "same" | "valid";
  x_shape: number[];
  w_shape: number[];
  out_shape: number[];
  x: number[];
  w: number[];
  r: number[];
  out: number[];
  grad_x: number[];
  grad_w: number[];
}
interface ConvCase {
  dilations: number[];
  pad: "same" | "valid";
  out_shape: number[];
  r: number[];
  out: number[];
  grad_x: number[];
  grad_w: number[];
}
interface ConvGroup {
  x_shape: number[];
  w_shape: number[];
  x: number[];
  w: number[];
  cases: ConvCase[];
}
const fixture = loadFixture<{
  conv_transpose3d: ConvTransposeCase[];
  conv3d: ConvGroup;
  conv2d: ConvGroup;
  conv2d_k5: ConvGroup;
}>("kernels_reference");

/** Gradient of sum(f(a, b) · r) with respect to both arguments. */
function gradients(
  f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  a: tf.Tensor,
  b: tf.Tensor,
  r: tf.Tensor,
): tf.Tensor[] {
  return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(f(p, q), r)))([a, b]);
}

/** Finite differences of sum(f(·) · r) at ~12 spread elements, compared with the analytic gradient. */
function matchesFiniteDifference(
  f: (t: tf.Tensor) => tf.Tensor,
  at: tf.Tensor,
  r: tf.Tensor,
  analytic: tf.Tensor,
  what: string,
): void {
  const n = at.size, step = Math.max(1, Math.floor(n / 12));
  const indices = [...Array(Math.ceil(n / step)).keys()].map((i) => (i * step + 7) % n);
  const fd = finiteDifference((t) => tf.sum(tf.mul(f(t), r)), at, { indices });
  const all = analytic.dataSync();
  const picked = indices.map((i) => all[i]);
  const scale = Math.max(...Array.from(all, Math.abs));
  assertClose(picked, fd, { rtol: 2e-3, atol: 2e-3 * scale, what });
}

for (const backend of BACKENDS) {
  for (const c of fixture.conv_transpose3d) {
    Deno.test(`conv3dTranspose stride ${c.stride} ${c.pad}: output, dy and filter gradients match PyTorch conv_transpose3d on ${backend}`, async () => {
      await onBackend(backend, () => {
        const x = tf.tensor(c.x, c.x_shape), w = tf.tensor(c.w, c.w_shape), r = tf.tensor(c.r, c.out_shape);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv3dTranspose(
            a as tf.Tensor5D,
            b as tf.Tensor5D,
            c.out_shape as [number, number, number, number, number],
            c.stride,
            c.pad,
          );
        matchesTorch(f(x, w), c.out, "output");
        const [gx, gw] = gradients(f, x, w, r);
        matchesTorch(gx, c.grad_x, "dy gradient");
        matchesTorch(gw, c.grad_w, "filter gradient");
      });
    });
  }

  Deno.test(`conv3dTranspose dy and filter gradients match finite differences (stride 2 same, stride 1 valid) on ${backend}`, async () => {
    await onBackend(backend, () => {
      for (const c of fixture.conv_transpose3d.filter((c) => (c.stride === 2) === (c.pad === "same"))) {
        const x = tf.tensor(c.x, c.x_shape), w = tf.tensor(c.w, c.w_shape), r = tf.tensor(c.r, c.out_shape);
        const shape = c.out_shape as [number, number, number, number, number];
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          tf.conv3dTranspose(a as tf.Tensor5D, b as tf.Tensor5D, shape, c.stride, c.pad);
        const [gx, gw] = gradients(f, x, w, r);
        matchesFiniteDifference((t) => f(t, w), x, r, gx, `dy gradient, stride ${c.stride}`);
        matchesFiniteDifference((t) => f(x, t), w, r, gw, `filter gradient, stride ${c.stride}`);
      }
    });
  });

  Deno.test(`conv3d stride 2 input gradient (Conv3DBackpropInputV2) matches finite differences on ${backend}`, async () => {
    await onBackend(backend, () => {
      const x = tf.randomNormal([1, 5, 6, 7, 2], 0, 1, "float32", 1);
      const w = tf.randomNormal([3, 3, 3, 2, 3], 0, 1, "float32", 2);
      for (const pad of ["same", "valid"] as const) {
        const f = (t: tf.Tensor) => tf.conv3d(t as tf.Tensor5D, w as tf.Tensor5D, 2, pad);
        const r = tf.randomNormal(f(x).shape, 0, 1, "float32", 3);
        const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x);
        matchesFiniteDifference(f, x, r, gx, `conv3d dx, ${pad}`);
      }
    });
  });

  for (
    const [name, group] of [["conv3d", fixture.conv3d], ["conv2d", fixture.conv2d], [
      "conv2d k5",
      fixture.conv2d_k5,
    ]] as const
  ) {
    for (const c of group.cases) {
      Deno.test(`${name} dilations [${c.dilations}] ${c.pad}: output, input and kernel gradients match PyTorch on ${backend}`, async () => {
        await onBackend(backend, () => {
          const x = tf.tensor(group.x, group.x_shape), w = tf.tensor(group.w, group.w_shape);
          const r = tf.tensor(c.r, c.out_shape);
          const f = (a: tf.Tensor, b: tf.Tensor) =>
            conv(a as tf.Tensor5D, b, { padding: c.pad, dilations: c.dilations });
          const y = f(x, w);
          tf.util.assert(y.shape.join() === c.out_shape.join(), () => `shape [${y.shape}] != [${c.out_shape}]`);
          matchesTorch(y, c.out, "output");
          const [gx, gw] = gradients(f, x, w, r);
          matchesTorch(gx, c.grad_x, "input gradient");
          matchesTorch(gw, c.grad_w, "kernel gradient");
        });
      });
    }
  }

  Deno.test(`conv dilation 2 input and kernel gradients match finite differences, 2D and 3D, on ${backend}`, async () => {
    await onBackend(backend, () => {
      for (const group of [fixture.conv3d, fixture.conv2d]) {
        const c = group.cases.find((c) => c.dilations[0] === 2 && c.pad === "same")!;
        const x = tf.tensor(group.x, group.x_shape), w = tf.tensor(group.w, group.w_shape);
        const r = tf.tensor(c.r, c.out_shape);
        const f = (a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor5D, b, { dilations: c.dilations });
        const [gx, gw] = gradients(f, x, w, r);
        matchesFiniteDifference((t) => f(t, w), x, r, gx, `rank ${x.rank} input gradient`);
        matchesFiniteDifference((t) => f(x, t), w, r, gw, `rank ${x.rank} kernel gradient`);
      }
    });
  });
}

Deno.test("wasm conv2d/conv3d input and kernel gradients equal cpu's for strides 1 and 2, same and valid", async () => {
  const grads = async (backend: string, rank: number, stride: number, pad: "same" | "valid") => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.randomNormal(rank === 3 ? [1, 6, 5, 7, 3] : [2, 7, 6, 3], 0, 1, "float32", 4);
      const w = tf.randomNormal(rank === 3 ? [3, 3, 3, 3, 2] : [3, 3, 3, 2], 0, 1, "float32", 5);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(
          rank === 3
            ? tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride, pad)
            : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad),
        ));
      return tf.grads(f)([x, w]).map((g) => g.dataSync().slice());
    });
  };
  for (const rank of [2, 3]) {
    for (const stride of [1, 2]) {
      for (const pad of ["same", "valid"] as const) {
        const [wx, ww] = await grads("wasm", rank, stride, pad), [cx, cw] = await grads("cpu", rank, stride, pad);
        for (const [what, err] of [["dx", relativeMaxError(wx, cx)], ["dw", relativeMaxError(ww, cw)]] as const) {
          if (!(err < 1e-5)) throw new Error(`conv${rank}d stride ${stride} ${pad} ${what}: wasm vs cpu error ${err}`);
        }
      }
    }
  }
  await tf.setBackend("cpu");
});

Deno.test("conv rejects a bad rank, padding, channel count and strides combined with dilation", () => {
  const x = tf.zeros([1, 4, 4, 4, 2]) as tf.Tensor5D, w = tf.zeros([3, 3, 3, 2, 1]);
  const expectError = (fn: () => unknown, part: string) => {
    try {
      fn();
    } catch (e) {
      if (!(e as Error).message.includes(part)) throw new Error(`message "${(e as Error).message}" lacks "${part}"`);
      return;
    }
    throw new Error(`no error (expected "${part}")`);
  };
  expectError(() => conv(tf.zeros([4, 4, 2]) as unknown as tf.Tensor4D, w), "must be rank 4 (NHWC) or 5 (NDHWC)");
  expectError(() => conv(x, tf.zeros([3, 3, 2, 1])), "kernel must be rank 5");
  expectError(() => conv(x, tf.zeros([3, 3, 3, 4, 1])), "kernel expects 4 input channels, input has 2");
  expectError(() => conv(x, w, { padding: "full" as "same" }), 'padding must be "same" or "valid", got "full"');
  expectError(() => conv(x, w, { strides: 2, dilations: 2 }), "cannot be combined with dilations");
  expectError(() => conv(x, w, { dilations: [1, 2] }), "conv: dilations: expected 3 values (one per axis), got [1, 2]");
  tf.dispose([x, w]);
});
