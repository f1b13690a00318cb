/**
 * Writing images that have no source subject (GAN samples, autoencoder samples and interpolations): each goes to
 * `<save_seg_dir>/<name><output_postfix>.nii.gz` with the affine of the first training image (its voxel size and
 * origin; identity when there is none), and is listed in `inferred.csv`.
 *
 * @module
 */
import {
  type ChannelVolume,
  type ImageGeometry,
  InferenceWriter,
  type SubjectRecord,
  type Window,
} from "../data/mod.ts";
import type { Affine } from "../io/image.ts";
import { readImage } from "../io/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import type { HonouredKeys } from "./honoured_keys.ts";

/** Keys {@link GeneratedWriter} acts on. */
export const GENERATED_OUTPUT_HONOURED_KEYS: HonouredKeys = { INFERENCE: ["save_seg_dir", "output_postfix"] };

/** A geometry for a generated volume of `shape`, borrowing the affine of `reference` (a file) when given. */
export async function generatedGeometry(shape: readonly number[], reference?: string): Promise<ImageGeometry> {
  let affine: Affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  if (reference) affine = (await readImage(reference)).affine;
  const s: [number, number, number] = [shape[0], shape[1] ?? 1, shape[2] ?? 1];
  const pixdim = [0, 1, 2].map((c) => Math.hypot(affine[0][c], affine[1][c], affine[2][c])) as [number, number, number];
  return {
    original: { shape: [...s, 1, 1], ndim: 3, affine, pixdim, datatype: "float32", affineSource: "sform" },
    affine,
    shape: s,
  };
}

/** Writes named generated volumes through an {@link InferenceWriter}. */
export class GeneratedWriter {
  readonly #writer: InferenceWriter;
  readonly #reference?: string;
  #geometry?: Promise<ImageGeometry>;

  constructor(config: NiftyConfig, subjects: readonly SubjectRecord[], imageSection?: string) {
    this.#writer = new InferenceWriter({
      saveSegDir: config.inference.save_seg_dir,
      outputPostfix: config.inference.output_postfix,
    });
    this.#reference = imageSection ? subjects[0]?.files[imageSection] : undefined;
  }

  /** Writes one volume under `name`; returns the path. */
  async write(name: string, volume: ChannelVolume): Promise<string> {
    this.#geometry ??= generatedGeometry(volume.shape, this.#reference);
    return await this.#writer.write(name, volume, await this.#geometry);
  }
}

/** A stand-in window naming a generated output (batches of generated items carry no image window). */
export function namedWindow(name: string, padding = false): Window {
  return { subject: name, location: {}, data: {}, padding };
}
