import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { assertClose, loadFixture } from "./_util.ts";
import { parseNifti } from "../src/io/mod.ts";
import { axcodesOf } from "../src/geometry/mod.ts";

interface Case {
  name: string;
  file: string;
  img?: string;
  shape: number[];
  dtype: string;
  affine: number[][];
  zooms: number[];
  axcodes: string;
  data: (number | null)[];
  extensions: [number, string][];
}
const { cases } = loadFixture<{ cases: Case[] }>("io_nifti_synthetic");

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** Bytes of a case as a reader sees them after gunzip (the reader's file layer does that). */
function fileBytes(c: Case): Uint8Array {
  const raw = b64(c.file);
  return raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(gunzipSync(raw)) : raw;
}

for (const c of cases) {
  Deno.test(`nifti read synthetic "${c.name}": shape, dtype, affine, zooms, axcodes, data and extensions match nibabel`, () => {
    const img = parseNifti(fileBytes(c), c.name, c.img ? b64(c.img) : undefined);
    const rgb = c.name === "rgb24";
    const expectShape = rgb ? [...c.shape.slice(0, 3), 1, 3] : c.shape;
    assert.deepEqual(img.shape.slice(0, expectShape.length), expectShape, "shape");
    assert.equal(
      img.data.constructor.name.replace("Array", "").toLowerCase(),
      c.dtype === "int64" ? "float64" : c.dtype,
    );
    assertClose(img.affine.flat(), c.affine.flat(), { atol: 1e-5, rtol: 0, what: "affine" });
    const z = [...c.zooms.slice(0, 3), 1, 1].slice(0, 3);
    assertClose(img.pixdim, z, { what: "zooms" });
    assert.equal(axcodesOf(img.affine), c.axcodes);
    // nibabel's RGB array is [x, y, z, channel] in Fortran order: channel slowest, as ours.
    const expected = c.data.map((v) => v ?? NaN);
    const exact = c.dtype.includes("int");
    assertClose(img.data, expected, { rtol: exact ? 0 : 1e-7, atol: 0, what: "voxels" });
    const ext = img.header!.extensions.map((e) => [e.code, new TextDecoder().decode(e.data).replace(/\0+$/, "")]);
    assert.deepEqual(
      ext,
      c.extensions.map(([code, d]) => [code, new TextDecoder().decode(b64(d)).replace(/\0+$/, "")]),
      "extensions",
    );
  });
}
