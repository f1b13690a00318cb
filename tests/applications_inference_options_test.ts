/**
 * The inference options end to end through `infer -c` on tiny generated phantoms: window blending with overlap,
 * test-time flips with uncertainty maps written beside the segmentation, post-processing checked against scipy on
 * the plain outputs, label tables beside the label maps with the NIfTI label intent (read back by nibabel), and
 * `evaluate -c --surface-tolerance`.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { runAction } from "../src/engine/mod.ts";
import { readImage } from "../src/io/mod.ts";
import { collector, phantomData, writeConfig } from "./_applications_data.ts";
import { referencePythonAvailable, runPython as python } from "./_util.ts";
import { assertRejectsMatching } from "./_applications_checks.ts";

await useBackend("cpu");

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const PYTHON = referencePythonAvailable(["numpy", "scipy", "nibabel"]);
if (!PYTHON) console.warn("inference options: python3 with numpy/scipy/nibabel missing; scipy comparisons skipped");

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

// scipy on the plain output: largest full-connectivity component per label, then each label's holes
// (binary_fill_holes, background voxels only); prints how many voxels differ from the post-processed file.
const SCIPY_POSTPROCESS = `
import sys, numpy as np, nibabel as nib
from scipy import ndimage
plain = np.asarray(nib.load(sys.argv[1]).dataobj).astype(int)
post = np.asarray(nib.load(sys.argv[2]).dataobj).astype(int)
seg = plain.copy()
labels = sorted(set(np.unique(seg)) - {0})
pieces = 0
for v in labels:
    lab, n = ndimage.label(seg == v, np.ones((3, 3, 3), bool))
    pieces += n
    if n > 1:
        sizes = ndimage.sum(np.ones_like(lab), lab, range(1, n + 1))
        seg[(lab != 0) & (lab != 1 + int(np.argmax(sizes)))] = 0
for v in sorted(set(np.unique(seg)) - {0}):
    seg[ndimage.binary_fill_holes(seg == v) & (seg == 0)] = v
print(int((seg != post).sum()), pieces, len(labels), int((plain != post).sum()))
`;

const NIBABEL_INTENT = `
import sys, nibabel as nib
h = nib.load(sys.argv[1]).header
print(h.get_intent()[0], h['aux_file'].item().decode())
`;

Deno.test("infer -c: blending, flips with variance/entropy maps, post-processing (= scipy), label table and intent", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 4);
  const window = "(8, 8, 8)";
  const config = await writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: window },
    label: { path_to_search: "data", filename_contains: "label", spatial_window_size: window, interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 5 },
    NETWORK: { name: "toynet", batch_size: 2, whitening: "True", volume_padding_size: 1 },
    TRAINING: { max_iter: 4, save_every_n: 0, lr: 0.01, exclude_fraction_for_inference: 0.5, tensorboard_every_n: 0 },
    INFERENCE: { border: "(1, 1, 1)" },
    EVALUATION: { evaluations: "dice,surface_dice" },
    SEGMENTATION: { image: "T1", label: "label", num_classes: 4 },
  });
  await Deno.writeTextFile(
    join(dir, "lut.txt"),
    "0 background 0 0 0 0\n1 csf 0 0 255 0\n2 grey 205 62 78 0\n3 white 245 245 245 0\n",
  );
  const { log } = collector();
  await runAction("train", config, [], { log, handleSignals: false });
  await runAction("infer", config, ["--save_seg_dir", "plain"], { log });
  const ids = (await Deno.readTextFile(join(dir, "model", "plain", "inferred.csv"))).trim().split("\n")
    .map((l) => l.split(",")[0]);
  assertEquals(ids.length, 2);

  // Post-processing (in this process; the command line is exercised below).
  await runAction(
    "infer",
    config,
    ["--save_seg_dir", "post", "--keep_largest_component", "all", "--fill_holes", "all"],
    {
      log,
    },
  );
  for (const id of ids) {
    const plain = join(dir, "model", "plain", `${id}_niftynet_out.nii.gz`);
    const processed = join(dir, "model", "post", `${id}_niftynet_out.nii.gz`);
    if (PYTHON) {
      const [differ, pieces, labels, changed] = (await python(SCIPY_POSTPROCESS, [plain, processed])).split(" ")
        .map(Number);
      assertEquals(differ, 0, `${id}: ${differ} voxels differ from scipy`);
      assert(pieces > labels && changed > 0, `${id}: the plain output must have labels in several pieces to test`);
    }
  }

  // Everything else at once: gaussian blending of overlapping windows, flips over x, y, z, both uncertainty maps,
  // a label table.
  const all = await cli([
    "infer",
    "-c",
    config,
    "--save_seg_dir",
    "tta",
    "--window_blending",
    "gaussian",
    "--window_overlap",
    "0.5",
    "--test_time_flipping_axes",
    "0,1,2",
    "--uncertainty_map",
    "variance,entropy",
    "--label_table",
    join(dir, "lut.txt"),
  ]);
  assertEquals(all.code, 0, all.stderr);
  const out = join(dir, "model", "tta");
  const files = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  for (const id of ids) {
    for (const suffix of ["", "_variance", "_entropy"]) {
      assert(files.includes(`${id}_niftynet_out${suffix}.nii.gz`), `${files}`);
    }
    const seg = await readImage(join(out, `${id}_niftynet_out.nii.gz`));
    const input = await readImage(join(dir, "data", `${id}_T1.nii.gz`));
    assertEquals([seg.shape, seg.affine], [input.shape, input.affine]);
    assertEquals([seg.header?.intentCode, seg.header?.intentName, seg.header?.auxFile], [
      1002,
      "labels",
      "label_lut.txt",
    ]);
    const entropy = await readImage(join(out, `${id}_niftynet_out_entropy.nii.gz`));
    const variance = await readImage(join(out, `${id}_niftynet_out_variance.nii.gz`));
    assertEquals([entropy.shape, variance.shape, entropy.datatype], [input.shape, input.shape, "float32"]);
    const e = Array.from(entropy.data as Float32Array), v = Array.from(variance.data as Float32Array);
    // Entropy of a 4-class distribution lies in [0, ln 4]; the variance of probabilities in [0, 1/4].
    assert(e.every((x) => x >= -1e-6 && x <= Math.log(4) + 1e-5) && e.some((x) => x > 0.01), "entropy range");
    assert(v.every((x) => x >= 0 && x <= 0.25) && v.some((x) => x > 0), "variance range");
    if (PYTHON) {
      assertEquals(await python(NIBABEL_INTENT, [join(out, `${id}_niftynet_out.nii.gz`)]), "label label_lut.txt");
    }
  }
  assertEquals(
    await Deno.readTextFile(join(out, "label_colormap.json")),
    '{"R":[0,0,205,245],"G":[0,0,62,245],"B":[0,255,78,245],"A":[0,255,255,255],"I":[0,1,2,3],' +
      '"labels":["background","csf","grey","white"]}\n',
  );
  assert((await Deno.readTextFile(join(out, "label_lut.txt"))).includes("\n2     grey"));
  assertEquals(
    (await Deno.readTextFile(join(out, "label_lut.lut"))).split("\n")[1],
    "1 0.000000 0.000000 1.000000 csf",
  );
  assertEquals((await Deno.readTextFile(join(out, "inferred.csv"))).trim().split("\n").length, 2);

  // evaluate -c --surface-tolerance reaches the surface_tolerance key: 5.5 mm takes in the face neighbours of the
  // 5 × 5 × 6 mm phantom voxels, which the default 1 mm does not.
  const table = async () =>
    (await Deno.readTextFile(join(dir, "model", "evaluation", "evaluation.csv"))).trim().split("\n");
  const ev = await cli(["evaluate", "-c", config, "--save_seg_dir", "plain", "--surface-tolerance", "5.5"]);
  assertEquals(ev.code, 0, ev.stderr);
  const wide = await table();
  assertEquals(wide[0], "subject_id,label,dice,surface_dice");
  await runAction("evaluate", config, ["--save_seg_dir", "plain"], { log });
  const narrow = await table();
  const nsd = (rows: string[]) => rows.slice(1).map((r) => Number(r.split(",")[3]));
  assert(
    nsd(wide).every((v, k) => v >= nsd(narrow)[k]) && nsd(wide).some((v, k) => v > nsd(narrow)[k]),
    `${wide} ${narrow}`,
  );

  // A bad combination is one line naming the config.
  await assertRejectsMatching(
    () => runAction("infer", config, ["--uncertainty_map", "entropy"], { log }),
    /config.ini": \[INFERENCE\] uncertainty_map = entropy needs test_time_flipping_axes/,
  );
  await Deno.remove(dir, { recursive: true });
});
