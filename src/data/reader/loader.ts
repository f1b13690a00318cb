/**
 * Loading subjects: each section's image is read, reoriented (`axcodes`) and resampled (`pixdim`,
 * `interp_order`), sections of one role are stacked as channels, and the geometry is kept so outputs go back onto
 * the original grid. Loads are lazy and kept in a bounded least-recently-used cache.
 *
 * @module
 */
import type { Affine, Image, Shape5 } from "../../geometry/image.ts";
import { readImage } from "../../io/read_image.ts";
import {
  applyReorientation,
  inverseReorientation,
  type Reorientation,
  reorientationTo,
} from "../../geometry/orientation.ts";
import { type Grid, type InterpOrder, pixdimGrid, resampleToGrid } from "../../geometry/resample.ts";
import { affineMaxDiff, voxelSizes } from "../../geometry/affine.ts";
import { type ChannelVolume, type Spatial3, stackChannels, type SubjectId } from "../types.ts";
import type { InputSectionOptions } from "./input_section.ts";
import type { SubjectRecord } from "./subjects.ts";
import { csvDataImage, readCsvData } from "./csv_data.ts";

/** Everything needed to put a result computed on the loaded grid back onto the file's own grid. */
export interface ImageGeometry {
  /** The file's image without voxels (shape, affine, header, datatype). */
  readonly original: Omit<Image, "data">;
  /** Reorientation applied first (axcodes), if any. */
  readonly reorientation?: Reorientation;
  /** Grid before resampling (the reoriented grid), when `pixdim` resampled the image. */
  readonly beforeResample?: Grid;
  /** Voxel→world affine of the loaded grid. */
  readonly affine: Affine;
  /** Spatial shape of the loaded grid. */
  readonly shape: Spatial3;
}

/** Converts image voxels to a float volume (t and c folded into channels). */
export function imageToVolume(image: Image): ChannelVolume {
  const s = image.shape;
  const data = image.data instanceof Float32Array ? image.data : Float32Array.from(image.data);
  return { data, shape: [s[0], s[1], s[2]], channels: s[3] * s[4] };
}

/** Reorients and resamples an image as a section asks; returns the float volume and its {@link ImageGeometry}. */
export function conformImage(
  image: Image,
  section: Pick<InputSectionOptions, "axcodes" | "pixdim" | "interpOrder"> = {},
): { volume: ChannelVolume; geometry: ImageGeometry } {
  const { data: _data, ...original } = image;
  let img = image;
  let reorientation: Reorientation | undefined;
  if (section.axcodes) {
    reorientation = reorientationTo(img.affine, img.shape, section.axcodes);
    img = applyReorientation(img, reorientation);
  }
  let beforeResample: Grid | undefined;
  if (section.pixdim && section.pixdim.length > 0) {
    const grid = pixdimGrid(img, section.pixdim);
    const same = grid.shape.every((n, i) => n === img.shape[i]) && affineMaxDiff(grid.affine, img.affine) < 1e-6;
    if (!same) {
      beforeResample = { shape: [img.shape[0], img.shape[1], img.shape[2]], affine: img.affine };
      img = resampleToGrid(img, grid, { order: section.interpOrder ?? 1 });
    }
  }
  return {
    volume: imageToVolume(img),
    geometry: {
      original,
      reorientation,
      beforeResample,
      affine: img.affine,
      shape: [img.shape[0], img.shape[1], img.shape[2]],
    },
  };
}

/** Options for {@link restoreToOriginal}. */
export interface RestoreOptions {
  /** Interpolation when undoing a resampling (NiftyNet `output_interp_order`, default 0). */
  order?: InterpOrder;
}

/**
 * The inverse of {@link conformImage}: a volume on the loaded grid becomes an image on the file's original grid
 * and affine (resampling undone first, then the reorientation), carrying the source header.
 */
export function restoreToOriginal(volume: ChannelVolume, geometry: ImageGeometry, options: RestoreOptions = {}): Image {
  const s = volume.shape;
  if (s.some((n, i) => n !== geometry.shape[i])) {
    throw new Error(`cannot restore a ${s.join("x")} volume: the loaded grid is ${geometry.shape.join("x")}`);
  }
  let img: Image = {
    data: volume.data,
    shape: [s[0], s[1], s[2], 1, volume.channels] as Shape5,
    ndim: volume.channels > 1 ? 5 : geometry.original.ndim,
    affine: geometry.affine,
    pixdim: voxelSizes(geometry.affine),
    datatype: "float32",
    affineSource: "computed",
    header: geometry.original.header,
  };
  if (geometry.beforeResample) img = resampleToGrid(img, geometry.beforeResample, { order: options.order ?? 0 });
  if (geometry.reorientation) img = applyReorientation(img, inverseReorientation(geometry.reorientation));
  return {
    ...img,
    affine: geometry.original.affine,
    pixdim: geometry.original.pixdim,
    affineSource: geometry.original.affineSource,
  };
}

/** A subject as loaded: one volume per role (sections stacked as channels) and each role's geometry. */
export interface LoadedSubject {
  readonly id: SubjectId;
  readonly volumes: Readonly<Record<string, ChannelVolume>>;
  /** Geometry of the first section of each role (all sections of a role share the loaded grid). */
  readonly geometry: Readonly<Record<string, ImageGeometry>>;
}

/** Options for {@link SubjectLoader}. */
export interface SubjectLoaderOptions {
  /** Input sections by name. */
  sections: Readonly<Record<string, InputSectionOptions>>;
  /** Role → the sections stacked as its channels, e.g. `{ image: ["T1", "T2"], label: ["seg"] }`. */
  roles: Readonly<Record<string, readonly string[]>>;
  /** Subjects kept in memory at once (default 4). */
  cacheSize?: number;
  /** Reads one file (default `readImage` from src/io). */
  read?: (path: string) => Promise<Image>;
}

/** Lazy subject loader with a bounded LRU cache; concurrent loads of one subject share a single read. */
export class SubjectLoader {
  readonly subjects: readonly SubjectRecord[];
  readonly #options: SubjectLoaderOptions;
  readonly #cache = new Map<SubjectId, Promise<LoadedSubject>>();
  #reads = 0;

  constructor(subjects: readonly SubjectRecord[], options: SubjectLoaderOptions) {
    this.subjects = subjects;
    this.#options = options;
    const cap = options.cacheSize ?? 4;
    if (!(Number.isInteger(cap) && cap >= 1)) throw new Error(`invalid cache size ${cap}: expected an integer >= 1`);
    for (const [role, names] of Object.entries(options.roles)) {
      for (const n of names) {
        if (!(n in options.sections)) {
          throw new Error(`role "${role}" names input section [${n}], which is not defined`);
        }
      }
    }
  }

  /** Number of subjects. */
  get length(): number {
    return this.subjects.length;
  }

  /** Files read so far (cache misses × sections), for tests and logging. */
  get filesRead(): number {
    return this.#reads;
  }

  /** Subjects currently cached. */
  get cached(): SubjectId[] {
    return [...this.#cache.keys()];
  }

  /** Loads subject `index` (or the subject with that id). */
  load(which: number | SubjectId): Promise<LoadedSubject> {
    const rec = typeof which === "number" ? this.subjects[which] : this.subjects.find((s) => s.id === which);
    if (!rec) throw new Error(`no subject ${JSON.stringify(which)} among ${this.subjects.length} subjects`);
    const hit = this.#cache.get(rec.id);
    if (hit) {
      this.#cache.delete(rec.id);
      this.#cache.set(rec.id, hit);
      return hit;
    }
    const p = this.#loadUncached(rec);
    // A failed load is not cached, so a later call retries and reports the error again.
    p.catch(() => this.#cache.delete(rec.id));
    this.#cache.set(rec.id, p);
    while (this.#cache.size > (this.#options.cacheSize ?? 4)) {
      this.#cache.delete(this.#cache.keys().next().value as SubjectId);
    }
    return p;
  }

  async #loadUncached(rec: SubjectRecord): Promise<LoadedSubject> {
    const read = this.#options.read ?? readImage;
    const volumes: Record<string, ChannelVolume> = {};
    const geometry: Record<string, ImageGeometry> = {};
    for (const [role, names] of Object.entries(this.#options.roles)) {
      const parts: ChannelVolume[] = [];
      for (const name of names) {
        const path = rec.files[name];
        if (path === undefined) {
          throw new Error(`subject "${rec.id}" has no file in input section [${name}] (role "${role}")`);
        }
        this.#reads++;
        const section = this.#options.sections[name];
        const image = section.csvDataFile
          ? csvDataImage(await readCsvData(section.csvDataFile, { toOhe: section.toOhe }), rec.id)
          : await read(path);
        for (const w of image.warnings ?? []) console.warn(`warning: ${w}`);
        let conformed: ReturnType<typeof conformImage>;
        try {
          conformed = conformImage(image, this.#options.sections[name]);
        } catch (e) {
          // Geometry errors ("affine is singular") know no file names.
          const message = (e as Error).message;
          throw message.includes(path) ? e : new Error(`cannot load "${path}" (section [${name}]): ${message}`);
        }
        const { volume, geometry: g } = conformed;
        if (parts.length > 0 && volume.shape.some((n, i) => n !== parts[0].shape[i])) {
          throw new Error(
            `subject "${rec.id}": section [${name}] ("${path}") is ${volume.shape.join("x")} after loading but ` +
              `[${names[0]}] is ${parts[0].shape.join("x")}; set the same pixdim/axcodes or resample the files`,
          );
        }
        if (parts.length === 0) geometry[role] = g;
        parts.push(volume);
      }
      volumes[role] = parts.length === 1 ? parts[0] : stackChannels(parts, `subject "${rec.id}" role "${role}"`);
    }
    return { id: rec.id, volumes, geometry };
  }
}
