/**
 * resize3d and the corrected ResizeBilinearGrad (src/kernels): forward values and input gradients against PyTorch
 * `F.interpolate` (float64, tests/reference/kernels_reference.py) and finite differences, on cpu and wasm.
 */
import { backendLoaders, tf } from "../src/deps.ts";
import { registerKernelFixes, resize3d, type Resize3dOptions } from "../src/kernels/mod.ts";
import { assertClose, finiteDifference, loadFixture } from "./_util.ts";
import { BACKENDS, matchesTorch, onBackend } from "./_kernel_checks.ts";

await backendLoaders.wasm();
registerKernelFixes();

interface ResizeCase {
  size: number[];
  mode: "trilinear" | "bilinear" | "nearest" | "nearest-exact";
  align_corners: boolean;
  out_shape: number[];
  r: number[];
  out: number[];
  grad_x: number[];
}
interface ResizeGroup {
  x_shape: number[];
  x: number[];
  cases: ResizeCase[];
}
const fixture = loadFixture<{ resize3d: ResizeGroup; resize2d: ResizeGroup }>("kernels_reference");

/** PyTorch interpolate mode and align_corners → resize3d options (torch align_corners=False = half-pixel). */
function optionsFor(c: ResizeCase): Resize3dOptions {
  if (c.mode === "nearest") return { method: "nearest" };
  if (c.mode === "nearest-exact") return { method: "nearest", halfPixelCenters: true };
  return c.align_corners ? { alignCorners: true } : { halfPixelCenters: true };
}

function label(c: ResizeCase): string {
  return c.mode.startsWith("nearest") ? c.mode : `${c.mode} align_corners=${c.align_corners}`;
}

/** Finite differences of sum(f(x)·r) at every element against the analytic gradient. */
function matchesFiniteDifference(f: (t: tf.Tensor) => tf.Tensor, x: tf.Tensor, r: tf.Tensor, what: string): void {
  const loss = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(f(t), r));
  const analytic = tf.grad(loss)(x);
  const scale = Math.max(...Array.from(analytic.dataSync(), Math.abs));
  assertClose(analytic, finiteDifference(loss, x), { rtol: 2e-3, atol: 2e-3 * scale, what });
}

for (const backend of BACKENDS) {
  const g3 = fixture.resize3d;
  for (const c of g3.cases) {
    Deno.test(`resize3d ${label(c)} [${g3.x_shape.slice(1, 4)}] → [${c.size}]: output and input gradient match PyTorch on ${backend}`, async () => {
      await onBackend(backend, () => {
        const x: tf.Tensor = tf.tensor(g3.x, g3.x_shape), r = tf.tensor(c.r, c.out_shape);
        const f = (t: tf.Tensor) => resize3d(t as tf.Tensor5D, c.size as [number, number, number], optionsFor(c));
        matchesTorch(f(x), c.out, "output");
        matchesTorch(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x), c.grad_x, "input gradient");
      });
    });
  }

  const g2 = fixture.resize2d;
  for (const c of g2.cases) {
    Deno.test(`tf.image.resizeBilinear align_corners=${c.align_corners} [${g2.x_shape.slice(1, 3)}] → [${c.size}]: input gradient matches PyTorch on ${backend}`, async () => {
      await onBackend(backend, () => {
        const x: tf.Tensor = tf.tensor(g2.x, g2.x_shape), r = tf.tensor(c.r, c.out_shape);
        const f = (t: tf.Tensor) =>
          tf.image.resizeBilinear(t as tf.Tensor4D, c.size as [number, number], c.align_corners, !c.align_corners);
        matchesTorch(f(x), c.out, "output");
        matchesTorch(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x), c.grad_x, "input gradient");
      });
    });
  }

  Deno.test(`resize3d input gradients match finite differences (trilinear legacy/half-pixel/align-corners, nearest) on ${backend}`, async () => {
    await onBackend(backend, () => {
      const x = tf.randomNormal([1, 3, 4, 5, 2], 0, 1, "float32", 11) as tf.Tensor5D;
      const options: Resize3dOptions[] = [
        {},
        { halfPixelCenters: true },
        { alignCorners: true },
        { method: "nearest" },
        { method: "nearest", halfPixelCenters: true },
        { method: "nearest", alignCorners: true },
      ];
      for (const o of options) {
        for (const size of [[5, 7, 3], [2, 3, 9]] as [number, number, number][]) {
          const r = tf.randomNormal([1, ...size, 2], 0, 1, "float32", 12);
          matchesFiniteDifference((t) => resize3d(t as tf.Tensor5D, size, o), x, r, `${JSON.stringify(o)} → [${size}]`);
        }
      }
    });
  });
}

Deno.test("resize3d keeps a same-size volume unchanged and rejects bad rank, size, method and flags", () => {
  tf.tidy(() => {
    const x = tf.randomNormal([1, 3, 4, 5, 2]) as tf.Tensor5D;
    assertClose(resize3d(x, [3, 4, 5], { alignCorners: true }), x, { what: "identity" });
    const expectError = (fn: () => unknown, part: string) => {
      try {
        fn();
      } catch (e) {
        if (!(e as Error).message.includes(part)) throw new Error(`message "${(e as Error).message}" lacks "${part}"`);
        return;
      }
      throw new Error(`no error (expected "${part}")`);
    };
    expectError(() => resize3d(tf.zeros([3, 4, 5, 2]) as unknown as tf.Tensor5D, [2, 2, 2]), "must be rank 5");
    expectError(() => resize3d(x, [2, 0, 2]), "size must be 3 positive integers");
    expectError(() => resize3d(x, [2, 2, 2], { method: "cubic" as "nearest" }), 'got "cubic"');
    expectError(() => resize3d(x, [2, 2, 2], { alignCorners: true, halfPixelCenters: true }), "cannot both be true");
  });
});
