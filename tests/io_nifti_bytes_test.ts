/**
 * `decodeNiftiFile` (NIfTI bytes in memory, as a browser has them): the same image as the file reader (itself
 * checked against nibabel), every gzip member inflated, and one line naming the file for a truncated gzip, a PNG
 * or a too-short file.
 */
import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { decodeNiftiFile, encodeNifti1, type Image, readNifti } from "../src/io/mod.ts";

const image: Image = {
  data: Int16Array.from({ length: 6 * 5 * 4 * 2 }, (_, i) => i - 50),
  shape: [6, 5, 4, 2, 1],
  ndim: 4,
  affine: [[2, 0, 0, -3], [0, 1.5, 0, 4], [0, 0, 1, 5], [0, 0, 0, 1]],
  pixdim: [2, 1.5, 1],
  datatype: "int16",
  affineSource: "sform",
};

Deno.test("decodeNiftiFile reads .nii and .nii.gz bytes (one or two gzip members) as readNifti reads the file", async () => {
  const nii = encodeNifti1(image);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.nii.gz`, gzipSync(nii));
    const reference = await readNifti(`${dir}/a.nii.gz`);
    const half = nii.length >> 1;
    const twoMembers = new Uint8Array([...gzipSync(nii.subarray(0, half)), ...gzipSync(nii.subarray(half))]);
    for (const [name, bytes] of [["a.nii", nii], ["a.nii.gz", gzipSync(nii)], ["b.nii.gz", twoMembers]] as const) {
      const got = decodeNiftiFile(bytes, name);
      assertEquals([got.shape, got.affine, [...got.data]], [reference.shape, reference.affine, [...reference.data]]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decodeNiftiFile: a truncated .nii.gz, a PNG and a cut .nii each give one line naming the file", () => {
  const gz = gzipSync(encodeNifti1(image));
  throws(() => decodeNiftiFile(gz.subarray(0, gz.length - 20), "cut.nii.gz"), {
    message: "cut.nii.gz: gzip data is truncated (the file ends early)",
  });
  const png = new Uint8Array(600);
  png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  throws(() => decodeNiftiFile(png, "photo.png"), /^Error: cannot read "photo\.png": not a NIfTI or Analyze file/);
  throws(() => decodeNiftiFile(encodeNifti1(image).subarray(0, 400), "short.nii"), /short\.nii/);
});
