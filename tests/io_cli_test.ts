import assert from "node:assert/strict";
import { assertClose } from "./_util.ts";
import { type Image, readNifti, writeNifti } from "../src/io/mod.ts";
import { convertCommand, infoCommand, parseConvertFlags } from "../src/commands/info_convert.ts";
import { axcodesOf, reorient } from "../src/geometry/mod.ts";

/** A small oblique int16 image with a 4th dimension, written to a temp folder. */
async function sample(dir: string): Promise<{ path: string; image: Image }> {
  const shape = [6, 5, 4, 2, 1] as const;
  const data = new Int16Array(6 * 5 * 4 * 2).map((_, i) => (i * 37) % 200 - 50);
  const c = Math.cos(0.2), s = Math.sin(0.2);
  const image: Image = {
    data,
    shape,
    ndim: 4,
    affine: [[-2 * c, 0, 2.5 * s, 20], [0, 2, 0, -10], [2 * s, 0, 2.5 * c, 5], [0, 0, 0, 1]],
    pixdim: [2, 2, 2.5],
    datatype: "int16",
    affineSource: "computed",
  };
  const path = `${dir}/in.nii.gz`;
  await writeNifti(path, image);
  return { path, image };
}

Deno.test("info prints format, shape, datatype, voxel size, axcodes, codes, affine and intensity range", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path } = await sample(dir);
    const text = await infoCommand(path);
    for (
      const want of [
        /format\s+NIfTI-1, little endian/,
        /dimensions\s+6 x 5 x 4 x 2 \(4D, 240 voxels\)/,
        /datatype\s+int16 \(no scaling\)/,
        /voxel size\s+2 x 2 x 2\.5 mm/,
        /axcodes\s+LAS/,
        /sform_code\s+2 \(aligned\)/,
        /intensity\s+min -50, max 149/,
        /-1\.9601\s+0\.0000\s+0\.4967\s+20\.0000/,
      ]
    ) assert.match(text, want);
    await assert.rejects(() => infoCommand(`${dir}/nope.nii`), /cannot read ".*nope.nii": file or folder not found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("convert --axcodes RAS writes the reoriented voxels; --pixdim and --conform give the expected grids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { path, image } = await sample(dir);
    const report = await convertCommand(path, `${dir}/ras.nii`, parseConvertFlags({ axcodes: "ras" }));
    assert.match(
      report,
      /^wrote .*ras\.nii: 6x5x4x2 int16, .* RAS \(from .*in\.nii\.gz: 6x5x4x2 int16, .* LAS; reoriented/,
    );
    const ras = await readNifti(`${dir}/ras.nii`);
    const expected = reorient(image, "RAS").image;
    assert.equal(axcodesOf(ras.affine), "RAS");
    assert.deepEqual([...ras.data], [...expected.data]);
    assertClose(ras.affine.flat(), expected.affine.flat(), { atol: 1e-5 });

    await convertCommand(path, `${dir}/iso.nii.gz`, parseConvertFlags({ pixdim: "1,1,1.25", order: "0" }));
    const iso = await readNifti(`${dir}/iso.nii.gz`);
    assert.deepEqual(iso.shape, [11, 9, 7, 2, 1]);
    assertClose(iso.pixdim, [1, 1, 1.25], { rtol: 1e-6 });

    await convertCommand(path, `${dir}/conf.nii`, parseConvertFlags({ conform: "8,1.5,LIA", datatype: "float32" }));
    const conf = await readNifti(`${dir}/conf.nii`);
    assert.deepEqual(conf.shape, [8, 8, 8, 2, 1]);
    assert.equal(conf.datatype, "float32");
    assert.equal(axcodesOf(conf.affine), "LIA");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("convert flags and bad inputs fail with messages naming the flag or file, and write nothing", async () => {
  assert.throws(() => parseConvertFlags({ pixdim: "1,x,1" }), /invalid --pixdim "1,x,1"/);
  assert.throws(() => parseConvertFlags({ order: "2" }), /invalid --order "2": expected 0, 1 or 3/);
  assert.throws(() => parseConvertFlags({ axcodes: "RAX" }), /invalid axcodes "RAX"/);
  assert.throws(() => parseConvertFlags({ conform: "256" }), /invalid --conform "256"/);
  assert.throws(() => parseConvertFlags({ datatype: "float16" }), /unknown datatype "float16"/);
  assert.deepEqual(parseConvertFlags({ pixdim: "2", conform: undefined }).pixdim, [2, 2, 2]);
  const dir = await Deno.makeTempDir();
  try {
    const { path } = await sample(dir);
    await assert.rejects(() => convertCommand(path, `${dir}/x.mgz`), /output must end in .nii or .nii.gz/);
    await assert.rejects(
      () => convertCommand(path, `${dir}/x.nii`, { pixdim: [1, 1, 1], conform: { size: 8, voxel: 1, axcodes: "LIA" } }),
      /cannot be combined/,
    );
    await assert.rejects(() => convertCommand(`${dir}/missing.nii`, `${dir}/x.nii`), /missing.nii/);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
    await assert.rejects(
      () => convertCommand(`${dir}/notes.txt`, `${dir}/x.nii`),
      /not a NIfTI, Analyze, DICOM, PNG, JPEG or TIFF file/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["in.nii.gz", "notes.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
