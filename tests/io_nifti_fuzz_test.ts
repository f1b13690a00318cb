import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { loadFixture } from "./_util.ts";
import { parseNifti, voxelCount } from "../src/io/mod.ts";
import { RandomStream } from "../src/dsl/random.ts";

const { cases } = loadFixture<{ cases: { name: string; file: string; img?: string }[] }>("io_nifti_synthetic");
const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const seeds: { name: string; bytes: Uint8Array }[] = cases.filter((c) => !c.img).map((c) => {
  const raw = b64(c.file);
  return { name: c.name, bytes: raw[0] === 0x1f ? new Uint8Array(gunzipSync(raw)) : raw };
});
const NIBABEL_DATA = "/usr/lib/python3/dist-packages/nibabel/tests/data";
for (const f of ["anatomical.nii", "functional.nii", "standard.nii.gz", "example_nifti2.nii.gz"]) {
  try {
    const raw = Deno.readFileSync(`${NIBABEL_DATA}/${f}`);
    seeds.push({ name: f, bytes: raw[0] === 0x1f ? new Uint8Array(gunzipSync(raw)) : raw });
  } catch { /* nibabel's data absent: the synthetic seeds still cover every layout */ }
}

/** Seeded uniform numbers (the DSL's mulberry32 stream), so a failing case reproduces from its seed. */
function rng(seed: number): () => number {
  const stream = new RandomStream(seed);
  return () => stream.uniform();
}

Deno.test("nifti fuzz: 500 truncated or bit-flipped real headers/files each load or fail with a clear error", () => {
  const rand = rng(20261129);
  let loaded = 0, rejected = 0;
  const started = performance.now();
  for (let k = 0; k < 500; k++) {
    const seed = seeds[k % seeds.length];
    let bytes = seed.bytes.slice();
    if (rand() < 0.3) {
      bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
    } else {
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) {
        // Mostly hit the header, where the interesting fields are.
        const span = rand() < 0.85 ? Math.min(bytes.length, 560) : bytes.length;
        const at = Math.floor(rand() * span);
        bytes[at] ^= 1 << Math.floor(rand() * 8);
      }
    }
    const name = `fuzz${k}-${seed.name}`;
    try {
      const img = parseNifti(bytes, name);
      assert.equal(img.data.length, voxelCount(img.shape), `${name}: data length matches shape`);
      assert.ok(img.affine.flat().every(Number.isFinite), `${name}: finite affine`);
      loaded++;
    } catch (e) {
      assert.ok(e instanceof Error, `${name}: threw a non-Error`);
      assert.ok(e.message.startsWith(`cannot read "${name}": `), `${name}: unclear error: ${e.stack}`);
      rejected++;
    }
  }
  assert.equal(loaded + rejected, 500);
  assert.ok(loaded > 50 && rejected > 50, `both outcomes exercised (loaded ${loaded}, rejected ${rejected})`);
  assert.ok(performance.now() - started < 20000, "no hang");
});
