/**
 * One scan through a zoo entry, end to end: checks → conform (256³, 1 mm, LIA) → normalise → crop box (threshold
 * or pre-model) with padding → network (argmax) → paste back → largest connected component → back to the input's
 * own grid and affine (nearest neighbour) → label map / mask / extracted brain + per-label volumes.
 *
 * @module
 */
import type { Image } from "../src/io/mod.ts";
import {
  affineMaxDiff,
  conform,
  conformGrid,
  det3,
  type Grid,
  linearPart,
  resampleToGrid,
} from "../src/geometry/mod.ts";
import type { ZooModel } from "./model.ts";
import { type NetworkOutput, runNetwork, runNetworkAsync, type RunNetworkOptions } from "./infer.ts";
import { keepLargestComponent } from "../src/evaluation/morphology.ts";
import {
  boundingBox,
  type Box,
  boxShape,
  cropVolume,
  minMaxNormalize,
  pasteVolume,
  quantileNormalize,
  type Shape3,
  toCOrder,
  toNiftiOrder,
} from "./volume_ops.ts";

/** The smallest field of view (mm, every axis) accepted as a head scan. */
export const MIN_FIELD_OF_VIEW_MM = 80;

/** Options of {@link segmentImage}. */
export interface SegmentOptions {
  /** Also return class probabilities (4D, classes last) on the input grid. */
  readonly probabilities?: boolean;
  /** Progress lines (stage names, network stages). */
  readonly onProgress?: (message: string) => void;
  /** Name of the input in error messages (default "input"). */
  readonly source?: string;
  /** The fraction of the network work done (0 to 1, increasing; a pre-model takes the first half). */
  readonly onFraction?: (fraction: number) => void;
  /** Device backends: cap on one tensor's bytes below the device's own limit (see `predictLabelsFailsafe`). */
  readonly maxTensorBytes?: number;
}

/** One label's size in the output. */
export interface LabelVolume {
  readonly value: number;
  readonly name: string;
  readonly voxels: number;
  readonly ml: number;
}

/** What {@link segmentImage} returns, every image on the input's grid and affine. */
export interface SegmentResult {
  /** The main output: label map (uint8), 0/1 brain mask, or the input times the mask (entry `output.kind`). */
  readonly output: Image;
  /** The label map (before any masking), uint8. */
  readonly labels: Image;
  /** Foreground (label > 0) as 0/1, uint8. */
  readonly mask: Image;
  readonly probabilities?: Image;
  /** Voxel count and volume per label of `output`'s labelling (mask entries: background/brain). */
  readonly volumes: readonly LabelVolume[];
  /** What was done that the user should know (e.g. "4D input: first volume used"). */
  readonly notes: readonly string[];
}

/** Refuses what no zoo model can segment; returns the 3D volume to use (4D: the first), with a note. */
export function checkZooInput(image: Image, source = "input"): { image: Image; notes: string[] } {
  const [x, y, z, t, c] = image.shape;
  const notes: string[] = [];
  if (c > 1) throw new Error(`${source}: has ${c} components per voxel; the zoo's models need a 3D grey-scale scan`);
  if (z === 1 || image.ndim < 3) {
    throw new Error(`${source}: is a 2D image [${x}, ${y}]; the zoo's models need a 3D T1 volume`);
  }
  const fov = [x, y, z].map((n, k) => n * image.pixdim[k]);
  if (fov.some((mm) => mm < MIN_FIELD_OF_VIEW_MM)) {
    throw new Error(
      `${source}: covers only ${fov.map((mm) => mm.toFixed(0)).join(" × ")} mm; the zoo's models expect a whole ` +
        `head (at least ${MIN_FIELD_OF_VIEW_MM} mm along every axis)`,
    );
  }
  if (t === 1) return { image, notes };
  notes.push(`${source}: 4D series with ${t} volumes, segmented the first volume (t = 0)`);
  const n = x * y * z;
  const data = image.data.slice(0, n) as Image["data"];
  return { image: { ...image, data, shape: [x, y, z, 1, 1], ndim: 3 }, notes };
}

function onGrid(image: Image, grid: Grid): boolean {
  return image.shape[0] === grid.shape[0] && image.shape[1] === grid.shape[1] && image.shape[2] === grid.shape[2] &&
    affineMaxDiff(image.affine, grid.affine) < 1e-4;
}

/** The entry's intensity normalisation (quantile or min–max) of a conformed volume. */
export function normalizeZooInput(model: ZooModel, data: Float32Array): Float32Array {
  const n = model.manifest.input.normalization;
  return n.kind === "quantile" ? quantileNormalize(data, n.low, n.high) : minMaxNormalize(data);
}

/**
 * The conformed part of the pipeline on a C-order 256³ volume (raw intensities): normalise, crop box, network,
 * paste, largest component. Returns the label map (C order) and probabilities when asked.
 */
export function segmentConformed(
  model: ZooModel,
  raw: Float32Array,
  shape: Shape3,
  options: ConformedOptions = {},
): ConformedResult {
  return runSync(conformedSteps(model, raw, shape, options));
}

/** {@link segmentConformed} on every backend (device backends read their results asynchronously). */
export function segmentConformedAsync(
  model: ZooModel,
  raw: Float32Array,
  shape: Shape3,
  options: ConformedOptions = {},
): Promise<ConformedResult> {
  return runAsync(conformedSteps(model, raw, shape, options));
}

/** What {@link segmentConformed} returns: the label map (C order), probabilities when asked, the crop box. */
export interface ConformedResult {
  readonly labels: Uint8Array;
  readonly probabilities?: Float32Array;
  readonly box: Box;
}

/** A network run the pipeline asks for; the driver (sync or async) answers it with the network's output. */
interface NetworkCall {
  readonly model: ZooModel;
  readonly volume: Float32Array;
  readonly shape: readonly [number, number, number];
  readonly options?: RunNetworkOptions;
}

/** The pipeline as steps: each network run is yielded, so one code path serves the sync and the async driver. */
type Steps<T> = Generator<NetworkCall, T, NetworkOutput>;

/** What {@link conformedSteps} takes besides the volume. */
type ConformedOptions = Pick<SegmentOptions, "probabilities" | "onProgress" | "onFraction" | "maxTensorBytes">;

function runSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (!next.done) {
    const c = next.value;
    next = steps.next(runNetwork(c.model, c.volume, c.shape, c.options));
  }
  return next.value;
}

async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const c = next.value;
    next = steps.next(await runNetworkAsync(c.model, c.volume, c.shape, c.options));
  }
  return next.value;
}

function* conformedSteps(
  model: ZooModel,
  raw: Float32Array,
  shape: Shape3,
  { probabilities = false, onProgress, onFraction, maxTensorBytes }: ConformedOptions,
): Steps<ConformedResult> {
  const { manifest } = model;
  const share = model.preModel ? 0.5 : 1;
  const device = { maxTensorBytes, onNotice: onProgress };
  const normalized = normalizeZooInput(model, raw);
  let inside: (i: number) => boolean;
  if (model.preModel) {
    onProgress?.(`${manifest.id}: pre-model ${model.preModel.manifest.id} on the whole volume`);
    const pre = yield {
      model: model.preModel,
      volume: normalizeZooInput(model.preModel, raw),
      shape,
      options: { ...device, onFraction: onFraction && ((f) => onFraction(share * f)) },
    };
    inside = (i) => pre.labels[i] > 0;
  } else {
    let max = -Infinity;
    for (const v of normalized) if (v > max) max = v;
    const cut = manifest.input.crop.threshold > 0 ? manifest.input.crop.threshold * max : 0;
    inside = (i) => normalized[i] > cut;
  }
  const box = boundingBox(shape, inside, manifest.input.crop.padding);
  if (!box) throw new Error(`${manifest.id}: the volume has no foreground to segment (empty crop box)`);
  const cropShape = boxShape(box);
  onProgress?.(`${manifest.id}: network on ${cropShape.join("×")} voxels`);
  const out = yield {
    model,
    volume: cropVolume(normalized, shape, box),
    shape: cropShape,
    options: {
      ...device,
      probabilities,
      onStage: (done, total) => onProgress?.(`${manifest.id}: layer ${done}/${total}`),
      onFraction: onFraction && ((f) => onFraction(1 - share + share * f)),
    },
  };
  const labels = pasteVolume(out.labels, box, shape, (n) => new Uint8Array(n));
  if (manifest.output.largestComponent) keepLargestComponent(labels, shape, manifest.output.largestComponent);
  const classes = manifest.network.options.numClasses;
  let probs: Float32Array | undefined;
  if (out.probabilities) {
    probs = pasteVolume(out.probabilities, box, shape, (n) => new Float32Array(n), classes);
    // Outside the box the answer is background with certainty, as in the label map.
    const n = shape[0] * shape[1] * shape[2];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < classes; c++) s += probs[i * classes + c];
      if (s === 0) probs[i * classes] = 1;
    }
  }
  return { labels, probabilities: probs, box };
}

function labelImage(data: Uint8Array, grid: Grid, like: Image): Image {
  return {
    data,
    shape: [grid.shape[0], grid.shape[1], grid.shape[2], 1, 1],
    ndim: 3,
    affine: grid.affine,
    pixdim: like.pixdim,
    datatype: "uint8",
    affineSource: "computed",
  };
}

/**
 * Segments one scan with a loaded entry; every output lies on the input's grid.
 *
 * @example
 * ```ts
 * import { loadZooModel, segmentImage } from "./mod.ts";
 * import { readImage } from "../src/io/mod.ts";
 * const model = await loadZooModel("gwm-light", { mirror: "../shared/data/brainchop" });
 * const { output, volumes } = segmentImage(model, await readImage("t1.nii.gz"));
 * ```
 */
export function segmentImage(model: ZooModel, input: Image, options: SegmentOptions = {}): SegmentResult {
  return runSync(imageSteps(model, input, options));
}

/**
 * {@link segmentImage} on every backend: on webgl/webgpu the network's results are read asynchronously (the same
 * labels); on cpu and wasm it is `segmentImage`.
 */
export function segmentImageAsync(model: ZooModel, input: Image, options: SegmentOptions = {}): Promise<SegmentResult> {
  return runAsync(imageSteps(model, input, options));
}

function* imageSteps(model: ZooModel, input: Image, options: SegmentOptions): Steps<SegmentResult> {
  const { manifest } = model;
  const say = options.onProgress;
  const { image, notes } = checkZooInput(input, options.source);
  for (const note of notes) say?.(note);
  const c = manifest.input.conform;
  const grid = conformGrid(image, c);
  const original: Grid = { shape: [image.shape[0], image.shape[1], image.shape[2]], affine: image.affine };
  const identity = onGrid(image, grid);
  say?.(`${manifest.id}: ${identity ? "input already conformed" : `conform to ${c.shape.join("×")} ${c.axcodes}`}`);
  const conformed = identity ? image : conform(image, { ...c, order: 1 }).image;
  const shape = c.shape as unknown as Shape3;
  const seg = yield* conformedSteps(model, toCOrder(conformed.data, shape), shape, {
    probabilities: options.probabilities,
    onProgress: say,
    onFraction: options.onFraction,
    maxTensorBytes: options.maxTensorBytes,
  });
  const onConformed = labelImage(toNiftiOrder(seg.labels, shape, (n) => new Uint8Array(n)), grid, conformed);
  const labels = identity
    ? { ...onConformed, affine: image.affine }
    : resampleToGrid(onConformed, original, { order: 0 });
  const labelData = Uint8Array.from(labels.data);
  const labelsOut = labelImage(labelData, original, image);
  const maskData = labelData.map((v) => (v > 0 ? 1 : 0));
  const mask = labelImage(maskData, original, image);
  let output: Image = labelsOut;
  if (manifest.output.kind === "mask") output = mask;
  if (manifest.output.kind === "extracted") {
    const data = image.data.map((v, i) => (maskData[i] ? v : 0)) as Image["data"];
    output = { ...image, data };
  }
  let probabilities: Image | undefined;
  if (seg.probabilities) {
    const classes = manifest.network.options.numClasses;
    const probs = toNiftiOrder(seg.probabilities, shape, (n) => new Float32Array(n), classes);
    const p: Image = {
      data: probs,
      shape: [shape[0], shape[1], shape[2], 1, classes],
      ndim: 5,
      affine: grid.affine,
      pixdim: conformed.pixdim,
      datatype: "float32",
      affineSource: "computed",
    };
    probabilities = identity ? { ...p, affine: image.affine } : resampleToGrid(p, original, { order: 0 });
  }
  const voxelMl = Math.abs(det3(linearPart(image.affine))) / 1000;
  const names = manifest.output.labels;
  const counted = manifest.output.kind === "labels" ? labelData : maskData;
  const counts = new Array(names.length).fill(0);
  for (const v of counted) counts[v]++;
  const volumes = names.map((l, i) => ({ value: l.value, name: l.name, voxels: counts[i], ml: counts[i] * voxelMl }));
  if (counts.slice(1).every((n) => n === 0)) {
    throw new Error(`${options.source ?? "input"}: ${manifest.id} found no brain (every voxel is background)`);
  }
  return { output, labels: labelsOut, mask, probabilities, volumes, notes };
}

/** The sidecar CSV: `label,name,voxels,volume_ml`, one row per label. */
export function volumesCsv(volumes: readonly LabelVolume[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return [
    "label,name,voxels,volume_ml",
    ...volumes.map((v) => `${v.value},${quote(v.name)},${v.voxels},${v.ml.toFixed(3)}`),
  ]
    .join("\n") + "\n";
}
