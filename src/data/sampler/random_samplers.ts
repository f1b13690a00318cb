/**
 * Training samplers (NiftyNet's uniform, weighted and balanced window samplers): each draws `sample_per_volume`
 * window positions per subject; they differ only in how the window centre is chosen.
 *
 * @module
 */
import type { ChannelVolume, Spatial3, SubjectId, Window } from "../types.ts";
import { channelOf } from "../types.ts";
import { makeRandom, randomInt, type RandomStream } from "../_random.ts";
import { cropWindow } from "./crop.ts";
import { alignedLocations, largestWindow, type WindowSizes, windowSizes } from "./window_sizes.ts";

/** A subject as samplers see it: an id and one volume per role. */
export interface SamplerSubject {
  readonly id: SubjectId;
  readonly volumes: Readonly<Record<string, ChannelVolume>>;
}

/** Options shared by the random samplers. */
export interface RandomSamplerOptions {
  /** Role → INI `spatial_window_size`. */
  spatialWindowSize: WindowSizes;
  /** INI `sample_per_volume` (default 1). */
  samplePerVolume?: number;
  /** Seed or stream (default: random). */
  seed?: number | RandomStream;
}

/** Options of the weighted and balanced samplers. */
export interface MapSamplerOptions extends RandomSamplerOptions {
  /** The role holding the sampling map (NiftyNet's `sampler` input; default `"sampler"`). */
  samplerRole?: string;
}

function checkFits(subject: SamplerSubject, window: Spatial3): Spatial3 {
  const vols = Object.entries(subject.volumes);
  if (vols.length === 0) throw new Error(`subject "${subject.id}" has no volumes to sample`);
  const shape = vols[0][1].shape;
  for (const [role, v] of vols) {
    if (v.shape.some((n, d) => n !== shape[d])) {
      throw new Error(`subject "${subject.id}": role "${role}" is ${v.shape.join("x")}, expected ${shape.join("x")}`);
    }
  }
  if (window.some((w, d) => w > shape[d])) {
    throw new Error(
      `subject "${subject.id}": window ${window.join("x")} is larger than the volume ${shape.join("x")}; ` +
        `reduce spatial_window_size or set volume_padding_size`,
    );
  }
  return shape;
}

/** Cuts every role's window for a chosen start of the largest window. */
export function windowAt(
  subject: SamplerSubject,
  start: Spatial3,
  sizes: Readonly<Record<string, Spatial3>>,
): Window {
  const location = alignedLocations(start, sizes);
  const data: Record<string, ChannelVolume> = {};
  for (const [role, v] of Object.entries(subject.volumes)) {
    const loc = location[role] ?? { start, size: largestWindow(sizes) };
    data[role] = cropWindow(v, loc.start, loc.size);
  }
  return { subject: subject.id, location, data };
}

/** Uniform sampler: each window start is uniform over the positions where the window fits. */
export function* uniformSampler(subject: SamplerSubject, options: RandomSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const win = largestWindow(sizes);
  const shape = checkFits(subject, win);
  const rng = makeRandom(options.seed);
  for (let i = 0; i < (options.samplePerVolume ?? 1); i++) {
    const start = [0, 1, 2].map((d) => randomInt(rng, shape[d] - win[d] + 1)) as unknown as Spatial3;
    yield windowAt(subject, start, sizes);
  }
}

/**
 * Centres the weighted and balanced samplers may draw, per dimension (inclusive), as NiftyNet's
 * `crop_sampling_map`: from `floor(w / 2)` up to `n − w + ceil(w / 2) − 1` (for an even window the last start
 * `n − w` is never drawn), at least one centre.
 */
function centreRange(shape: Spatial3, win: Spatial3): { lo: number[]; hi: number[] } {
  const lo = win.map((w) => Math.floor(w / 2));
  const hi = shape.map((n, d) => {
    const end = n - win[d] + Math.trunc(win[d] / 2 + 0.6);
    return (end === lo[d] ? end + 1 : end) - 1;
  });
  return { lo, hi };
}

function samplerMap(subject: SamplerSubject, role: string): Float32Array {
  const v = subject.volumes[role];
  if (!v) throw new Error(`subject "${subject.id}" has no "${role}" volume for the weighted/balanced sampler`);
  return channelOf(v, 0);
}

/**
 * Weighted sampler (NiftyNet 0.6's `weighted_spatial_coordinates`): the window centre is drawn with probability
 * proportional to the sampler map's value there, over the centres where the window fits. A map with negative
 * values is shifted by its minimum; an all-zero map gives uniform centres. The `sample_per_volume` draws of a
 * volume are stratified: draw k takes the cumulative share `1 − (k + u) / n` of the map sorted by value.
 */
export function* weightedSampler(subject: SamplerSubject, options: MapSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const win = largestWindow(sizes);
  const shape = checkFits(subject, win);
  const map = samplerMap(subject, options.samplerRole ?? "sampler");
  const { lo, hi } = centreRange(shape, win);
  const idx: number[] = [], value: number[] = [];
  let min = Infinity;
  for (let z = lo[2]; z <= hi[2]; z++) {
    for (let y = lo[1]; y <= hi[1]; y++) {
      for (let x = lo[0]; x <= hi[0]; x++) {
        const i = x + shape[0] * (y + shape[1] * z);
        idx.push(i);
        value.push(map[i]);
        min = Math.min(min, map[i]);
      }
    }
  }
  const shift = min < 0 ? -min : 0;
  const order = idx.map((_, k) => k).sort((a, b) => value[a] - value[b]);
  const cum = new Float64Array(order.length);
  let total = 0;
  order.forEach((k, j) => cum[j] = total += value[k] + shift);
  const rng = makeRandom(options.seed);
  const n = options.samplePerVolume ?? 1;
  for (let s = 0; s < n; s++) {
    let pick: number;
    if (total <= 0) {
      pick = order[randomInt(rng, order.length)];
    } else {
      const ratio = (1 - (rng.uniform() + s) / n) * total;
      let a = 0, b = cum.length - 1;
      while (a < b) {
        const m = (a + b) >> 1;
        if (cum[m] >= ratio) b = m;
        else a = m + 1;
      }
      pick = order[a];
    }
    yield windowAt(subject, startFromCentre(idx[pick], shape, win), sizes);
  }
}

function startFromCentre(i: number, shape: Spatial3, win: Spatial3): Spatial3 {
  const x = i % shape[0], y = Math.floor(i / shape[0]) % shape[1], z = Math.floor(i / (shape[0] * shape[1]));
  return [x - Math.floor(win[0] / 2), y - Math.floor(win[1] / 2), z - Math.floor(win[2] / 2)];
}

/**
 * Balanced sampler: each window first picks a label class uniformly among the classes present (where windows fit)
 * in the sampler map, then a centre uniformly among that class's voxels, so every class is centred equally often.
 */
export function* balancedSampler(subject: SamplerSubject, options: MapSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const win = largestWindow(sizes);
  const shape = checkFits(subject, win);
  const map = samplerMap(subject, options.samplerRole ?? "sampler");
  const { lo, hi } = centreRange(shape, win);
  const byClass = new Map<number, number[]>();
  for (let z = lo[2]; z <= hi[2]; z++) {
    for (let y = lo[1]; y <= hi[1]; y++) {
      for (let x = lo[0]; x <= hi[0]; x++) {
        const i = x + shape[0] * (y + shape[1] * z);
        const list = byClass.get(map[i]);
        if (list) list.push(i);
        else byClass.set(map[i], [i]);
      }
    }
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const rng = makeRandom(options.seed);
  for (let n = 0; n < (options.samplePerVolume ?? 1); n++) {
    const voxels = byClass.get(classes[randomInt(rng, classes.length)])!;
    yield windowAt(subject, startFromCentre(voxels[randomInt(rng, voxels.length)], shape, win), sizes);
  }
}
