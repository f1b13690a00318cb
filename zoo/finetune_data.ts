/**
 * Training data for fine-tuning a zoo entry on a few labels: the scan and its label volume (on the scan's grid)
 * conformed as the segmentation pipeline conforms them (same grid, same normalisation), so that what the network
 * learns from is what it sees when it segments. Portable (the web app's worker calls it).
 *
 * Label values: 0 leaves a voxel unlabelled, `1 … classes − 1` teach that class, {@link BACKGROUND_LABEL} (255)
 * teaches background (class 0).
 *
 * @module
 */
import type { Image } from "../src/io/mod.ts";
import { affineMaxDiff, conform, conformGrid } from "../src/geometry/mod.ts";
import type { ZooModel } from "./model.ts";
import { checkZooInput, normalizeZooInput } from "./segment.ts";
import { type Shape3, toCOrder } from "./volume_ops.ts";

/** The label value that teaches background (class 0); 0 itself means "unlabelled". */
export const BACKGROUND_LABEL = 255;

/** A conformed, normalised volume with a sparse set of labelled voxels (what `fineTune` trains on). */
export interface LabelledVolume {
  /** One channel, C order (z fastest). */
  readonly volume: Float32Array;
  readonly shape: Shape3;
  /** Flat C-order indices of the labelled voxels, ascending. */
  readonly voxels: Int32Array;
  /** The class of each labelled voxel. */
  readonly classes: Uint8Array;
}

function sameGrid(a: Image, b: Image): boolean {
  return a.shape[0] === b.shape[0] && a.shape[1] === b.shape[1] && a.shape[2] === b.shape[2] &&
    affineMaxDiff(a.affine, b.affine) < 1e-3;
}

/** Refuses a label volume that is not on the scan's grid or holds values that are not classes of the entry. */
export function checkLabels(model: ZooModel, scan: Image, labels: Image, source = "labels"): void {
  const grid = (i: Image) => `[${i.shape.slice(0, 3).join(", ")}]`;
  if (labels.shape[3] > 1 || labels.shape[4] > 1) {
    throw new Error(`${source}: is not a 3D label volume (shape [${labels.shape.slice(0, labels.ndim).join(", ")}])`);
  }
  if (!sameGrid(scan, labels)) {
    const what = labels.shape.slice(0, 3).join() === scan.shape.slice(0, 3).join()
      ? `its affine differs from the scan's by ${affineMaxDiff(scan.affine, labels.affine).toPrecision(3)} mm`
      : `its grid ${grid(labels)} is not the scan's ${grid(scan)}`;
    throw new Error(`${source}: ${what}; draw or save the labels on the scan's grid`);
  }
  const classes = model.manifest.network.options.numClasses;
  for (let i = 0; i < labels.data.length; i++) {
    const v = labels.data[i];
    if (v === 0 || v === BACKGROUND_LABEL || (Number.isInteger(v) && v >= 1 && v < classes)) continue;
    throw new Error(
      `${source}: value ${v} at voxel ${i} is not a label of ${model.manifest.id} ` +
        `(0 unlabelled, 1–${classes - 1} its classes, ${BACKGROUND_LABEL} background)`,
    );
  }
}

/**
 * The scan conformed and normalised as {@link segmentImage} does, with the labelled voxels of `labels` (nearest
 * neighbour onto the conformed grid). Throws one line naming `options.labelSource` when the labels are off the
 * scan's grid, hold a value that is no class, or label nothing.
 */
export function zooTrainingData(
  model: ZooModel,
  scan: Image,
  labels: Image,
  options: { source?: string; labelSource?: string } = {},
): LabelledVolume {
  const labelSource = options.labelSource ?? "labels";
  const { image } = checkZooInput(scan, options.source);
  checkLabels(model, image, labels, labelSource);
  const c = model.manifest.input.conform;
  const shape = c.shape as unknown as Shape3;
  const grid = conformGrid(image, c);
  const identity = image.shape.slice(0, 3).join() === grid.shape.join() &&
    affineMaxDiff(image.affine, grid.affine) < 1e-4;
  const scanOn = identity ? image : conform(image, { ...c, order: 1 }).image;
  const labelsOn = identity ? labels : conform(labels, { ...c, order: 0 }).image;
  const volume = normalizeZooInput(model, toCOrder(scanOn.data, shape));
  const dense = toCOrder(labelsOn.data, shape);
  const voxels: number[] = [], classes: number[] = [];
  for (let i = 0; i < dense.length; i++) {
    const v = dense[i];
    if (v === 0) continue;
    voxels.push(i);
    classes.push(v === BACKGROUND_LABEL ? 0 : v);
  }
  if (voxels.length === 0) throw new Error(`${labelSource}: labels no voxel (every value is 0, "unlabelled")`);
  return { volume, shape, voxels: Int32Array.from(voxels), classes: Uint8Array.from(classes) };
}
