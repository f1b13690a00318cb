/**
 * webgpu and webgl `PadV2`, `MirrorPad`, `Tile` and `Reverse` for rank > 4. tfjs-backend-webgpu 4.22's rank-5 pad and
 * mirror-pad shaders return zeros under Deno (naga: "Access sub-type Struct…") and disturb later work in the queue,
 * so slice gradients (which pad) break too; its tile and reverse support rank ≤ 4 only (tile throws, reverse drops
 * the first axis); tfjs-backend-webgl 4.22 in Chromium fails alike (rank-5 pad shaders do not compile, rank-5
 * reverse is "not yet supported"). All four ops are separable per axis, so a rank-r op is done as two ops of lower rank: first on
 * the last three axes with the leading ones merged, then on the leading axes with the last three merged. Ranks ≤ 4
 * keep the stock kernels.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import { composedKernel, type GpuBackend } from "./_compose.ts";

const product = (a: readonly number[]) => a.reduce((p, n) => p * n, 1);

type PerAxis<T> = (t: tf.Tensor, perAxis: T[]) => tf.Tensor;

/** Applies the separable op `f` (one parameter per axis, `identity` for "leave alone") to a rank > 4 tensor. */
function splitRank<T>(
  x: tf.Tensor,
  params: readonly T[],
  identity: T,
  f: PerAxis<T>,
  grow: (n: number, p: T) => number,
) {
  const lead = x.shape.slice(0, -3), tail = x.shape.slice(-3);
  const inner = f(tf.reshape(x, [product(lead), ...tail]), [identity, ...params.slice(-3)]);
  const grownTail = tail.map((n, i) => grow(n, params[params.length - 3 + i]));
  const outer = f(tf.reshape(inner, [...lead, product(grownTail)]), [...params.slice(0, -3), identity]);
  return tf.reshape(outer, [...lead.map((n, i) => grow(n, params[i])), ...grownTail]);
}

const rankAbove4 = (inputs: tf.NamedTensorInfoMap) => inputs.x!.shape.length > 4;
const padGrow = (n: number, [a, b]: [number, number]) => n + a + b;

/** `PadV2` (`tf.pad`) on a GPU backend. */
export function padV2Config(backend: GpuBackend): tf.KernelConfig {
  return composedKernel("PadV2", rankAbove4, ({ x }, attrs) => {
    const { paddings, constantValue } = attrs as unknown as { paddings: [number, number][]; constantValue: number };
    return splitRank(x, paddings, [0, 0], (t, p) => tf.pad(t, p, constantValue), padGrow);
  }, backend);
}

/** `MirrorPad` (`tf.mirrorPad`) on a GPU backend. */
export function mirrorPadConfig(backend: GpuBackend): tf.KernelConfig {
  return composedKernel("MirrorPad", rankAbove4, ({ x }, attrs) => {
    const { paddings, mode } = attrs as unknown as { paddings: [number, number][]; mode: "reflect" | "symmetric" };
    return splitRank(x, paddings, [0, 0], (t, p) => tf.mirrorPad(t, p, mode), padGrow);
  }, backend);
}

/** `Tile` (`tf.tile`) on a GPU backend. */
export function tileConfig(backend: GpuBackend): tf.KernelConfig {
  return composedKernel("Tile", rankAbove4, ({ x }, attrs) => {
    const { reps } = attrs as unknown as { reps: number[] };
    return splitRank(x, reps, 1, (t, r) => tf.tile(t, r), (n, r) => n * r);
  }, backend);
}

/** `Reverse` (`tf.reverse`) on a GPU backend. */
export function reverseConfig(backend: GpuBackend): tf.KernelConfig {
  return composedKernel("Reverse", rankAbove4, ({ x }, attrs) => {
    const dims = (attrs as unknown as { dims: number | number[] }).dims;
    const flags = x.shape.map((_, i) => [dims].flat().some((d) => (d + x.rank) % x.rank === i));
    const reverse = (t: tf.Tensor, f: boolean[]) => {
      const axes = f.flatMap((on, i) => (on ? [i] : []));
      return axes.length === 0 ? t : tf.reverse(t, axes);
    };
    return splitRank(x, flags, false, reverse, (n) => n);
  }, backend);
}
