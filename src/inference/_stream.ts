/**
 * Streams a {@link Chain} through a volume along its first spatial axis, plane by plane, with exact results.
 *
 * Each convolution keeps only the planes of its output that the next one still needs (its chunk plus the next
 * convolution's reach along the axis), so memory is bounded by a few dozen planes per layer whatever the volume's
 * length, and no plane is computed twice. A chunk of layer l is a convolution of a contiguous run of layer l − 1's
 * planes with zero padding only where the run touches the volume's ends: the same sums as the whole-volume
 * convolution.
 *
 * @module
 */
import { type ConvSpec, convSpecOf } from "../kernels/fast/mod.ts";
import { applyPointwise, argmaxInto } from "./_pointwise.ts";
import type { StageRunner } from "./_runners.ts";
import type { Chain } from "./_trace.ts";

/** Options of {@link streamChain}. */
export interface StreamOptions {
  /** `"logits"`: the last layer's output; `"labels"`: the index of its largest channel per voxel. */
  readonly output: "logits" | "labels";
  /** Output planes each layer computes per step; default from `memoryBytes`. */
  readonly planes?: number;
  /** Bytes the layer buffers may take together (default 768 MiB). */
  readonly memoryBytes?: number;
  /** Called after each convolution step with the fraction of all layers' planes computed (increasing, ends at 1). */
  readonly onProgress?: (fraction: number) => void;
}

/** The result of a streamed chain. */
export interface StreamResult {
  /** `[1, …spatial, channels]` for logits, `[1, …spatial]` for labels. */
  readonly shape: number[];
  readonly data: Float32Array | Int32Array;
  /** Planes per step used. */
  readonly planes: number;
}

const product = (v: readonly number[]) => v.reduce((p, n) => p * n, 1);

/** Full-volume geometry of every convolution of `chain` for an input `[1, …spatial, c]`. */
export function chainSpecs(chain: Chain, inputShape: readonly number[]): ConvSpec[] {
  let shape = [...inputShape];
  return chain.convs.map((stage, i) => {
    const spec = convSpecOf(shape, stage.wShape, stage.attrs);
    if (!spec) {
      throw new Error(`predict volume: convolution ${i} rejects input [${shape}] and filter [${stage.wShape}]`);
    }
    shape = [1, ...spec.outSize, spec.outChannels];
    return spec;
  });
}

/** Runs `chain` on `volume` (`[1, …spatial, c]` values, channels-last) through `runner`. */
export function streamChain(
  chain: Chain,
  volume: Float32Array,
  shape: readonly number[],
  runner: StageRunner,
  options: StreamOptions,
): StreamResult {
  const specs = chainSpecs(chain, shape);
  const last = specs.length - 1;
  const reach = specs.map((s) => (s.kernel[0] - 1) * s.dilations[0] + 1);
  const plane = specs.map((s) => product(s.outSize.slice(1)) * s.outChannels);
  const outLength = specs[last].outSize[0];
  const labels = options.output === "labels";

  // planes per step: what the memory budget allows, at least one
  const budget = (options.memoryBytes ?? 768 * 2 ** 20) / 4;
  const fixed = specs.slice(0, last).reduce((n, _, l) => n + (reach[l + 1] - 1) * plane[l], 0);
  const perPlane = specs.slice(0, last).reduce((n, _, l) => n + plane[l], 0) + (labels ? plane[last] : 0);
  const planes = Math.max(
    1,
    Math.min(options.planes ?? Math.floor((budget - fixed) / Math.max(perPlane, 1)), outLength),
  );

  let input = volume;
  if (chain.pre.length > 0) {
    input = Float32Array.from(volume);
    applyPointwise(chain.pre, input, shape[shape.length - 1]);
  }
  const outSpatial = [...specs[last].outSize];
  const result = labels
    ? new Int32Array(product(outSpatial))
    : new Float32Array(product(outSpatial) * specs[last].outChannels);
  const buffers = specs.map((_, l) =>
    l === last
      ? (labels ? new Float32Array(planes * plane[l]) : (result as Float32Array))
      : new Float32Array((planes + reach[l + 1] - 1) * plane[l])
  );
  const start = specs.map(() => 0), end = specs.map(() => 0);
  const work = specs.reduce((n, s) => n + s.outSize[0], 0);
  let done = 0;

  const ensure = (l: number, upTo: number): void => {
    const spec = specs[l];
    const before = spec.padsBefore[0];
    while (end[l] < upTo) {
      const a = end[l], b = Math.min(upTo, a + planes);
      const lo = Math.max(0, a - before), hi = Math.min(spec.inSize[0], b - 1 - before + reach[l]);
      if (l > 0) ensure(l - 1, hi);
      const inPlane = l === 0 ? product(shape.slice(2)) : plane[l - 1];
      const inBuffer = l === 0 ? input : buffers[l - 1];
      const inStart = l === 0 ? 0 : start[l - 1];
      const x = inBuffer.subarray((lo - inStart) * inPlane, (hi - inStart) * inPlane);
      const padBefore = lo - (a - before);
      const chunk: ConvSpec = {
        ...spec,
        inSize: [hi - lo, ...spec.inSize.slice(1)],
        outSize: [b - a, ...spec.outSize.slice(1)],
        padsBefore: [padBefore, ...spec.padsBefore.slice(1)],
        padsAfter: [b - a - 1 + reach[l] - (hi - lo) - padBefore, ...spec.padsAfter.slice(1)],
      };
      let y: Float32Array;
      if (l === last) {
        y = labels ? buffers[l].subarray(0, (b - a) * plane[l]) : buffers[l].subarray(a * plane[l], b * plane[l]);
      } else {
        // drop the planes the next layer no longer needs, then append the chunk
        const keepFrom = Math.min(a, Math.max(start[l], end[l + 1] - specs[l + 1].padsBefore[0]));
        if (keepFrom > start[l]) {
          buffers[l].copyWithin(0, (keepFrom - start[l]) * plane[l], (a - start[l]) * plane[l]);
          start[l] = keepFrom;
        }
        const needed = (b - start[l]) * plane[l];
        if (needed > buffers[l].length) {
          const grown = new Float32Array(needed);
          grown.set(buffers[l].subarray(0, (a - start[l]) * plane[l]));
          buffers[l] = grown;
        }
        y = buffers[l].subarray((a - start[l]) * plane[l], needed);
      }
      runner.run(chain.convs[l], chunk, x, y);
      applyPointwise(chain.convs[l].post, y, spec.outChannels);
      if (l === last && labels) argmaxInto(y, spec.outChannels, result as Int32Array, a * product(outSpatial.slice(1)));
      end[l] = b;
      done += b - a;
      options.onProgress?.(done / work);
    }
  };
  ensure(last, outLength);
  return {
    shape: labels ? [1, ...outSpatial] : [1, ...outSpatial, specs[last].outChannels],
    data: result,
    planes,
  };
}
