/**
 * `cli.ts zoo …` as a user runs it: the list and info, clear one-line errors with no output written for bad input,
 * `zoo export` as a restore-initializer source (weights restore into the registered `meshnet` network), and the
 * whole-scan pipeline on a small re-gridded volume (output on the input's own grid, sidecar CSV, several inputs).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, restoreRuleFromFile, VariableStore } from "../src/dsl/mod.ts";
import { parseLabelTable, readImage, writeNifti } from "../src/io/mod.ts";
import { resolveNetwork } from "../networks/mod.ts";
import { getZooEntry, loadZooModel, segmentImage, type ZooModel, zooNetwork } from "../zoo/mod.ts";
import { cropImage, makeImage } from "./_data_helpers.ts";
import { referencePythonAvailable, runPython } from "./_util.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const present = (() => {
  try {
    return Deno.statSync(`${MIRROR}SHA256SUMS`).isFile;
  } catch {
    return false;
  }
})();
if (!present) console.warn(`zoo CLI tests that need weights skipped: ${MIRROR} is absent`);

// One cache for this file's commands, filled from the mirror (never the user's own cache).
const CACHE = await Deno.makeTempDir({ prefix: "niftyts_zoo_cache_" });
globalThis.addEventListener("unload", () => Deno.removeSync(CACHE, { recursive: true }));

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NIFTYTS_ZOO_MIRROR: MIRROR, NIFTYTS_CACHE: CACHE },
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

const RAS = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] as const;

Deno.test({
  name: "cli zoo pull fills the cache; zoo list then shows it with classes and size; info prints the manifest",
  ignore: !present,
  fn: async () => {
    const pull = await cli(["zoo", "pull", "aparc104"]);
    assertEquals(pull.code, 0, pull.stderr);
    assert(pull.stdout.startsWith("aparc104: 3 files"), pull.stdout);
    assert(
      /\/aparc104\/config\.ini \(infer -c; checkpoint .*model\.ckpt-0\.safetensors\)$/m.test(pull.stdout),
      pull.stdout,
    );
    const r = await cli(["zoo", "list"]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assertEquals(lines.length, 13);
    assert(/^id\s+task\s+classes\s+size \(MB\)\s+cached$/.test(lines[0]), lines[0]);
    assert(lines.some((l) => /^aparc104\s+parcellation\s+104\s+0\.36\s+cached$/.test(l)), r.stdout);
    assert(lines.some((l) => /^mindgrab\s+brain-mask\s+2 \(mask\)\s+0\.65\s+absent$/.test(l)), r.stdout);
    const info = await cli(["zoo", "info", "aparc104"]);
    assertEquals(info.code, 0, info.stderr);
    assert(info.stdout.includes("dilations 1,2,2,4,4,8,8,16"), info.stdout);
    assert(info.stdout.includes("doi:10.21105/joss.05098"), info.stdout);
  },
});

Deno.test("cli zoo run: unknown id, a 2D image and a tiny volume each give one error line and write nothing", async () => {
  const dir = await Deno.makeTempDir();
  const unknown = await cli(["zoo", "run", "aparc-50", `${dir}/x.nii.gz`, "-o", `${dir}/out.nii.gz`]);
  assertEquals(unknown.code, 1);
  assert(/^error: unknown zoo entry "aparc-50"; did you mean "aparc50"\?/m.test(unknown.stderr), unknown.stderr);
  if (!present) return;
  await writeNifti(`${dir}/slice.nii.gz`, makeImage(new Float32Array(200 * 200), [200, 200, 1, 1, 1], RAS));
  await writeNifti(`${dir}/tiny.nii.gz`, makeImage(new Float32Array(30 ** 3).fill(1), [30, 30, 30, 1, 1], RAS));
  for (const [name, message] of [["slice", "is a 2D image"], ["tiny", "covers only 30 × 30 × 30 mm"]]) {
    const r = await cli(["zoo", "run", "gwm-light", `${dir}/${name}.nii.gz`, "-o", `${dir}/out_${name}.nii.gz`]);
    assertEquals(r.code, 1, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assertEquals(errors.length, 1, r.stderr);
    assert(errors[0].includes(message), r.stderr);
    assert(!r.stderr.includes("    at "), "no stack trace");
  }
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["slice.nii.gz", "tiny.nii.gz"]);
  await Deno.remove(dir, { recursive: true });
});

const NIBABEL = referencePythonAvailable(["nibabel"]);

Deno.test({
  name: "cli zoo run writes the label map with NIfTI intent NIFTI_INTENT_LABEL and the entry's label tables beside it",
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    await writeNifti(`${dir}/crop.nii.gz`, cropImage(await readImage(`${MIRROR}t1_crop.nii.gz`), 88, 80));
    const r = await cli(["zoo", "run", "gwm-light", `${dir}/crop.nii.gz`, "-o", `${dir}/out/labels.nii.gz`]);
    assertEquals(r.code, 0, r.stderr);
    const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort();
    assertEquals(files, [
      "gwm-light_colormap.json",
      "gwm-light_lut.lut",
      "gwm-light_lut.txt",
      "labels.csv",
      "labels.nii.gz",
    ]);
    const labels = await readImage(`${dir}/out/labels.nii.gz`);
    assertEquals([labels.header?.intentCode, labels.header?.intentName, labels.header?.auxFile], [
      1002,
      "labels",
      "gwm-light_lut.txt",
    ]);
    if (NIBABEL) {
      // nibabel names intent 1002 "label" and reads aux_file as written.
      const printed = await runPython(
        "import sys, nibabel as nib\nh = nib.load(sys.argv[1]).header\nprint(h.get_intent()[0], h['aux_file'].item().decode())",
        [`${dir}/out/labels.nii.gz`],
      );
      assertEquals(printed, "label gwm-light_lut.txt");
    }
    const entry = getZooEntry("gwm-light").output.labels;
    // A FreeSurfer LUT separates fields by white space: names keep their words joined by "_".
    for (
      const [table, name] of [["gwm-light_lut.txt", (n: string) => n.replaceAll(" ", "_")], [
        "gwm-light_colormap.json",
        (n: string) => n,
      ]] as const
    ) {
      const read = parseLabelTable(await Deno.readTextFile(`${dir}/out/${table}`), table);
      assertEquals(
        read.map((l) => [l.value, l.name, [...l.rgb]]),
        entry.map((l) => [l.value, name(l.name), [...l.rgb]]),
      );
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "cli zoo export writes a checkpoint that restores every variable of the registered meshnet (fine-tuning)",
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const r = await cli(["zoo", "export", "gwm-light", `${dir}/gwm.safetensors`]);
    assertEquals(r.code, 0, r.stderr);
    assert(r.stdout.includes("20 variables of gwm-light"), r.stdout);
    // As a config would: [NETWORK] name = meshnet, restore_from = gwm.safetensors, vars_to_restore = MeshNet/.
    const store = new VariableStore({
      restore: [await restoreRuleFromFile(`${dir}/gwm.safetensors`, { include: /MeshNet\// })],
    });
    const net = (await resolveNetwork("meshnet"))({ numClasses: 3 });
    const x = tf.randomUniform([1, 12, 10, 8, 1], 0, 1, "float32", 5);
    const ours = applyNetwork(net, [x], { store });
    assertEquals(store.restoreReport().initialized, []);
    assertEquals(store.restoreReport().restored.length, 20);
    const zoo = await loadZooModel("gwm-light", { mirror: MIRROR, cacheDir: CACHE });
    const theirs = applyNetwork(zoo.network, [x], { store: zoo.store });
    assertEquals(ours.dataSync(), theirs.dataSync());
    tf.dispose([x, ours, theirs]);
    store.dispose();
    zoo.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});

/** gwm-light's contract with a 2-channel one-layer random network: the full pipeline in seconds. */
function tinyModel(): ZooModel {
  const base = getZooEntry("gwm-light");
  const manifest = {
    ...base,
    network: { ...base.network, options: { ...base.network.options, channels: 2, dilations: [1] } },
  };
  const network = zooNetwork(manifest);
  const store = new VariableStore({ seed: 9 });
  tf.tidy(() => {
    applyNetwork(network, [tf.zeros([1, 4, 4, 4, 1])], { store });
  });
  return { manifest, network, store, dispose: () => store.dispose() };
}

Deno.test("segmentImage puts the labels back on the input's own grid and affine (oblique 2.5 mm input, 4D)", () => {
  const model = tinyModel();
  const n = 40;
  const affine = [[-2.5, 0, 0.3, 90], [0, 0, 2.5, -60], [0, 2.5, 0, -80], [0, 0, 0, 1]] as const;
  const data = new Float32Array(n ** 3 * 2);
  for (let z = 0; z < n; z++) {
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const r = Math.hypot(x - 20, y - 20, z - 20);
        data[x + n * (y + n * z)] = r < 15 ? 100 + (r < 8 ? 50 : 0) : 0;
      }
    }
  }
  const image = makeImage(data, [n, n, n, 2, 1], affine);
  const result = segmentImage(model, image, { source: "head.nii" });
  assertEquals(result.notes, ["head.nii: 4D series with 2 volumes, segmented the first volume (t = 0)"]);
  for (const out of [result.output, result.labels, result.mask]) {
    assertEquals(out.shape, [n, n, n, 1, 1]);
    assertEquals(out.affine, image.affine);
  }
  // Outside the head (value 0, far from it) nothing is labelled; the volumes add up to the field of view.
  assertEquals(result.labels.data[0], 0);
  const total = result.volumes.reduce((s, v) => s + v.voxels, 0);
  assertEquals(total, n ** 3);
  assert(Math.abs(result.volumes.reduce((s, v) => s + v.ml, 0) - n ** 3 * 2.5 ** 3 / 1000) < 1e-6);
  model.dispose();
});

Deno.test({
  name: "cli zoo run on a folder of two re-gridded scans writes each label map on its own grid plus a CSV",
  ignore: !present || !Deno.env.get("NIFTYTS_ZOO_FULL"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const t1 = await readImage(`${MIRROR}t1_crop.nii.gz`);
    // Every 2nd voxel: a 128³ scan at 2 mm, same world space.
    const half = new Float32Array(128 ** 3);
    for (let z = 0; z < 128; z++) {
      for (let y = 0; y < 128; y++) {
        for (let x = 0; x < 128; x++) half[x + 128 * (y + 128 * z)] = t1.data[2 * x + 256 * (2 * y + 256 * 2 * z)];
      }
    }
    const a = t1.affine;
    const affine = a.map((row, i) => i < 3 ? [row[0] * 2, row[1] * 2, row[2] * 2, row[3]] : row) as unknown as typeof a;
    await Deno.mkdir(`${dir}/in`);
    await writeNifti(`${dir}/in/s1.nii.gz`, makeImage(half, [128, 128, 128, 1, 1], affine));
    await writeNifti(`${dir}/in/s2.nii.gz`, makeImage(half, [128, 128, 128, 1, 1], affine));
    const r = await cli(["zoo", "run", "gwm-light", `${dir}/in`, "-o", `${dir}/out`]);
    assertEquals(r.code, 0, r.stderr);
    const files = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name).sort();
    assertEquals(files, [
      "gwm-light_colormap.json",
      "gwm-light_lut.lut",
      "gwm-light_lut.txt",
      "s1_gwm-light.csv",
      "s1_gwm-light.nii.gz",
      "s2_gwm-light.csv",
      "s2_gwm-light.nii.gz",
    ]);
    const labels = await readImage(`${dir}/out/s1_gwm-light.nii.gz`);
    assertEquals(labels.shape, [128, 128, 128, 1, 1]);
    const csv = Deno.readTextFileSync(`${dir}/out/s1_gwm-light.csv`).trim().split("\n");
    assertEquals(csv[0], "label,name,voxels,volume_ml");
    assertEquals(csv.length, 4);
    await Deno.remove(dir, { recursive: true });
  },
});
