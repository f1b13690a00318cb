import assert from "node:assert/strict";
import { assertClose, loadFixture } from "./_util.ts";
import { readNifti, readNiftiInfo } from "../src/io/mod.ts";
import { axcodesOf } from "../src/geometry/mod.ts";

interface DataSums {
  dtype: string;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  sample_index: number[];
  sample_value: (number | null)[];
  nan_count: number;
}
interface FileEntry {
  name: string;
  loaded: boolean;
  class?: string;
  shape?: number[];
  disk_dtype?: string;
  affine?: number[][];
  zooms?: number[];
  axcodes?: string;
  sform_code?: number;
  qform_code?: number;
  slope?: number;
  inter?: number;
  data?: DataSums | null;
}
const fixture = loadFixture<{ data_dir: string; files: FileEntry[] }>("io_nibabel_files");
const dir = fixture.data_dir;
let present = false;
try {
  present = Deno.statSync(dir).isDirectory;
} catch { /* absent */ }
if (!present) console.warn(`io_nifti_read: ${dir} is absent (install python3-nibabel); nibabel file tests skipped`);

const niftiEntries = fixture.files.filter((f) => f.loaded && f.affine);
const otherEntries = fixture.files.filter((f) => !(f.loaded && f.affine));

function typedName(data: ArrayLike<number>): string {
  return data.constructor.name.replace("Array", "").toLowerCase();
}

for (const f of niftiEntries) {
  Deno.test({
    name: `nifti read ${f.name}: shape, affine (1e-5), zooms, axcodes, codes${f.data ? " and data" : ""} match nibabel`,
    ignore: !present,
    fn: async () => {
      const path = `${dir}/${f.name}`;
      const info = await readNiftiInfo(path);
      const nd = f.shape!.length;
      if (nd <= 5) assert.deepEqual(info.shape.slice(0, nd), f.shape, "shape");
      else assert.deepEqual(info.shape[4], f.shape!.slice(4).reduce((a, b) => a * b), "folded shape");
      assert.deepEqual(info.shape.slice(nd).every((s) => s === 1), true, "trailing dims are 1");
      assert.equal(info.datatype, f.disk_dtype, "disk datatype");
      assertClose(info.affine.flat(), f.affine!.flat(), { atol: 1e-5, rtol: 0, what: "affine" });
      assertClose(info.pixdim, f.zooms!.slice(0, 3).concat([1, 1, 1]).slice(0, 3), { what: "zooms" });
      assert.deepEqual(axcodesOf(info.affine), f.axcodes);
      if (f.sform_code !== undefined) {
        assert.deepEqual(info.header!.sformCode, f.sform_code);
        assert.deepEqual(info.header!.qformCode, f.qform_code);
      }
      assert.deepEqual(info.slope, f.slope);
      assert.deepEqual(info.inter, f.inter);
      if (!f.data) {
        // nibabel itself cannot read the voxels (the .img of the pair is not shipped): we fail clearly too.
        await assert.rejects(
          () => readNifti(path),
          (e: Error) => e.message.includes(f.name) && /missing/.test(e.message),
        );
        return;
      }
      const img = await readNifti(path);
      const d = f.data;
      assert.deepEqual(typedName(img.data), d.dtype, "scaled data dtype");
      let sum = 0, sumsq = 0, min = Infinity, max = -Infinity, nans = 0;
      for (let i = 0; i < img.data.length; i++) {
        const v = img.data[i];
        if (Number.isNaN(v)) {
          nans++;
          continue;
        }
        sum += v;
        sumsq += v * v;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      const exact = d.dtype.includes("int");
      const tol = exact ? { rtol: 0, atol: 0 } : { rtol: 1e-9, atol: 0 };
      assertClose([min, max], [d.min, d.max], { ...tol, what: "min/max" });
      assertClose([sum, sumsq], [d.sum, d.sumsq], { rtol: exact ? 0 : 1e-9, atol: 0, what: "sum/sumsq" });
      assert.equal(nans, d.nan_count, "NaN voxels");
      const samples = d.sample_index.map((i) => img.data[i]);
      assert.deepEqual(samples.map(Number.isNaN), d.sample_value.map((v) => v === null), "NaN samples");
      const finite = d.sample_value.map((v, k) => [v ?? 0, Number.isNaN(samples[k]) ? 0 : samples[k]]);
      assertClose(finite.map((p) => p[1]), finite.map((p) => p[0]), { ...tol, what: "sampled voxels" });
    },
  });
}

Deno.test({
  name: "nifti read rejects every non-NIfTI file in nibabel's test data with an error naming the file",
  ignore: !present,
  fn: async () => {
    for (const f of otherEntries) {
      await assert.rejects(
        () => readNifti(`${dir}/${f.name}`),
        (e: Error) => {
          assert.ok(e.message.startsWith(`cannot read "${dir}/${f.name}"`), e.message);
          return true;
        },
      );
    }
  },
});
