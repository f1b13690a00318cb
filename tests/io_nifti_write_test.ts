import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { assertClose, loadFixture, referencePythonAvailable } from "./_util.ts";
import { type Image, parseNifti, readNifti, writeNifti } from "../src/io/mod.ts";
import { affineMaxDiff, axcodesOf } from "../src/geometry/mod.ts";

interface Case {
  name: string;
  file: string;
  img?: string;
}
const { cases } = loadFixture<{ cases: Case[] }>("io_nifti_synthetic");
const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
function load(c: Case): Image {
  const raw = b64(c.file);
  const bytes = raw[0] === 0x1f ? new Uint8Array(gunzipSync(raw)) : raw;
  return parseNifti(bytes, c.name, c.img ? b64(c.img) : undefined);
}
const nibabel = referencePythonAvailable(["nibabel", "numpy"]);
if (!nibabel) console.warn("io_nifti_write: Debian python3-nibabel missing; nibabel reload checks skipped");

Deno.test("nifti write then read gives identical voxels, datatype and affine for every synthetic case (.nii and .nii.gz)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const c of cases) {
      const img = load(c);
      for (const ext of [".nii", ".nii.gz"]) {
        const path = `${dir}/out${ext}`;
        await writeNifti(path, img);
        const back = await readNifti(path);
        assert.deepEqual(back.shape, img.shape, `${c.name}: shape`);
        assert.equal(back.datatype, img.datatype, `${c.name}: datatype`);
        assertClose(back.data, img.data, { rtol: 0, atol: 0, what: `${c.name}: voxels` });
        assert.ok(affineMaxDiff(back.affine, img.affine) < 1e-4, `${c.name}: affine`);
        assert.equal(axcodesOf(back.affine), axcodesOf(img.affine));
        assert.deepEqual(
          back.header!.extensions.map((e) => e.code),
          img.header!.extensions.map((e) => e.code),
          `${c.name}: extensions kept`,
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "nifti files we write reload in nibabel with identical data, sform = our affine and a consistent qform",
  ignore: !nibabel,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const written: { path: string; img: Image }[] = [];
      for (const [k, c] of cases.entries()) {
        const img = load(c);
        const path = `${dir}/case${k}${k % 2 ? ".nii.gz" : ".nii"}`;
        await writeNifti(path, img);
        written.push({ path, img });
      }
      const script = `
import json, sys, nibabel as nib, numpy as np
out = []
for p in sys.argv[1:]:
    im = nib.load(p)
    d = np.asanyarray(im.dataobj)
    if d.dtype.fields: d = np.stack([d[f] for f in d.dtype.names], axis=-1)
    out.append({"affine": im.affine.tolist(), "qform": im.header.get_qform().tolist(),
                "data": [None if not np.isfinite(v) else float(v) for v in d.reshape(-1, order="F").astype(float)]})
print(json.dumps(out))`;
      const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", script, ...written.map((w) => w.path)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const results = JSON.parse(new TextDecoder().decode(stdout));
      written.forEach(({ img }, k) => {
        const r = results[k];
        const name = cases[k].name;
        assertClose(img.data, r.data.map((v: number | null) => v ?? NaN), { rtol: 0, atol: 0, what: `${name} data` });
        assertClose(r.affine.flat(), img.affine.flat(), { rtol: 0, atol: 1e-4, what: `${name} sform` });
        // A qform holds rotation + zooms only; our test affines have a small shear, so compare orientation there.
        assert.equal(axcodesOf(r.qform), axcodesOf(img.affine), `${name} qform orientation`);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("nifti write of a rigid affine stores a qform equal to the sform within 1e-5", async () => {
  const c = Math.cos(0.3), s = Math.sin(0.3);
  const img: Image = {
    data: new Float32Array(24).map((_, i) => i * 0.5),
    shape: [2, 3, 4, 1, 1],
    ndim: 3,
    affine: [[-1.5 * c, -2 * s, 0, 10], [1.5 * s, -2 * c, 0, -7], [0, 0, -2.5, 3.25], [0, 0, 0, 1]],
    pixdim: [1.5, 2, 2.5],
    datatype: "float32",
    affineSource: "computed",
  };
  const dir = await Deno.makeTempDir();
  try {
    await writeNifti(`${dir}/r.nii`, img);
    const back = await readNifti(`${dir}/r.nii`);
    assert.ok(affineMaxDiff(back.header!.qform!, img.affine) < 1e-5, "qform");
    assert.ok(affineMaxDiff(back.header!.sform, img.affine) < 1e-5, "sform");
    assert.deepEqual(back.pixdim.map((v) => Math.fround(v)), [1.5, 2, 2.5].map(Math.fround));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nifti write to an integer datatype scales non-integer data and reads back within half a step", async () => {
  const data = new Float64Array(60).map((_, i) => Math.sin(i) * 1000.3);
  const img: Image = {
    data,
    shape: [3, 4, 5, 1, 1],
    ndim: 3,
    affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    pixdim: [1, 1, 1],
    datatype: "float64",
    affineSource: "computed",
  };
  const dir = await Deno.makeTempDir();
  try {
    await writeNifti(`${dir}/s.nii.gz`, img, { datatype: "int16" });
    const back = await readNifti(`${dir}/s.nii.gz`);
    assert.equal(back.datatype, "int16");
    const step = back.header!.sclSlope;
    assert.ok(step > 0 && step < 0.05, `slope ${step}`);
    assertClose(back.data, data, { rtol: 0, atol: step * 0.5 + 1e-6, what: "scaled voxels" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nifti write never leaves a partial file: a failed write keeps the old file and no temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = load(cases[0]);
    await writeNifti(`${dir}/keep.nii`, good);
    const before = await Deno.readFile(`${dir}/keep.nii`);
    await assert.rejects(() => writeNifti(`${dir}/keep.nii`, good, { datatype: "rgb24" }), /channels/);
    assert.deepEqual(await Deno.readFile(`${dir}/keep.nii`), before);
    await assert.rejects(() => writeNifti(`${dir}/missing/x.nii`, good), /cannot write ".*missing\/x.nii"/);
    await assert.rejects(() => writeNifti(`${dir}/x.mgz`, good), /must end in .nii or .nii.gz/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.nii"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
