/**
 * Tiny generated datasets and configs for the application tests.
 *
 * @module
 */
import { join } from "node:path";
import { writeNifti } from "../src/io/mod.ts";
import type { Affine, Image } from "../src/geometry/image.ts";
import { writePhantomDataset } from "../src/commands/demo_data.ts";

/** An anisotropic, translated affine used by the tiny datasets (outputs must keep it). */
export const TEST_AFFINE: Affine = [[1.5, 0, 0, -9], [0, 1.5, 0, -7], [0, 0, 3, 4], [0, 0, 0, 1]];

/** A float NIfTI image with {@link TEST_AFFINE}. */
export function testImage(data: Float32Array | Uint8Array, shape: readonly number[]): Image {
  return {
    data,
    shape: [shape[0], shape[1], shape[2] ?? 1, 1, 1],
    ndim: 3,
    affine: TEST_AFFINE,
    pixdim: [1.5, 1.5, 3],
    datatype: data instanceof Uint8Array ? "uint8" : "float32",
    affineSource: "sform",
  };
}

/** Writes `count` tiny phantoms (T1 + label) into `<dir>/data`. */
export async function phantomData(dir: string, count = 4, shape: [number, number, number] = [12, 12, 8]) {
  return await writePhantomDataset(join(dir, "data"), { count, shape, spacing: [5, 5, 6] });
}

/** Writes a config file from sections (`{ SYSTEM: { model_dir: "model" } }`) and returns its path. */
export async function writeConfig(
  dir: string,
  sections: Readonly<Record<string, Readonly<Record<string, string | number>>>>,
): Promise<string> {
  const text = Object.entries(sections).map(([name, keys]) =>
    [`[${name}]`, ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`)].join("\n")
  ).join("\n\n");
  const path = join(dir, "config.ini");
  await Deno.writeTextFile(path, text + "\n");
  return path;
}

/** Writes 2D test images `<dir>/data/caseN_img.nii.gz` (a bright disc of varying size) and returns the ids. */
export async function discData(dir: string, count: number, shape: [number, number]): Promise<string[]> {
  await Deno.mkdir(join(dir, "data"), { recursive: true });
  const ids: string[] = [];
  for (let k = 0; k < count; k++) {
    const id = `case${k}`;
    const data = new Float32Array(shape[0] * shape[1]);
    const r = 2 + (k % 3);
    for (let y = 0; y < shape[1]; y++) {
      for (let x = 0; x < shape[0]; x++) {
        data[x + shape[0] * y] = Math.hypot(x - shape[0] / 2, y - shape[1] / 2) < r ? 0.9 : 0.1;
      }
    }
    await writeNifti(join(dir, "data", `${id}_img.nii.gz`), testImage(data, [shape[0], shape[1], 1]));
    ids.push(id);
  }
  return ids;
}

/** Quiet logger collecting lines. */
export function collector(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line: string) => void lines.push(line) };
}
