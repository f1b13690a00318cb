/**
 * NiftyNet's way with a zoo entry (src/commands/zoo_niftynet.ts, zoo/network.ts, zoo/infer_config.ts): `zoo pull`
 * leaves a config + checkpoint that `infer -c` runs on a folder of scans (same labels as `zoo run` on a cropped
 * real T1), and the checkpoint is a restore-initializer source for fine-tuning (variables under their MeshNet
 * names).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { checkpointPath, readTrainingCheckpoint, runAction } from "../src/engine/mod.ts";
import { readImage, writeNifti } from "../src/io/mod.ts";
import { readSafetensors } from "../src/weights/mod.ts";
import { zooPullCommand } from "../src/commands/zoo_pull.ts";
import { writeZooNiftyNetFolder, zooModelDir } from "../src/commands/zoo_niftynet.ts";
import { getZooEntry, keepLargestComponent, loadZooModel, segmentImage, zooInferenceConfig } from "../zoo/mod.ts";
import { collector, phantomData, writeConfig } from "./_applications_data.ts";
import { cropImage } from "./_data_helpers.ts";
import { assertRejectsMatching } from "./_applications_checks.ts";

await useBackend("cpu");

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const present = (() => {
  try {
    return Deno.statSync(join(MIRROR, "t1_crop.nii.gz")).isFile;
  } catch {
    return false;
  }
})();
const skip = present ? "" : ` (skipped: ${MIRROR} is absent)`;

async function pulled(cacheDir: string, id: string): Promise<string[]> {
  return await zooPullCommand([id], {
    lookup: (i) => ({ id: i, files: getZooEntry(i).weights.files }),
    from: MIRROR,
    cacheDir,
    afterPull: (i, dir) => writeZooNiftyNetFolder(i, dir),
  });
}

Deno.test({
  name: `zoo pull's config: infer -c on a folder with an 80³ crop of the real T1 gives zoo run's labels${skip}`,
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_zoo_niftynet_" });
    try {
      const cacheDir = join(dir, "cache");
      const lines = await pulled(cacheDir, "gwm-light");
      const config = join(zooModelDir("gwm-light", cacheDir), "config.ini");
      assert(lines.some((l) => l.includes(config)), lines.join("\n"));
      assertEquals(await Deno.readTextFile(config), zooInferenceConfig(getZooEntry("gwm-light")));

      const scans = join(dir, "scans");
      await Deno.mkdir(scans);
      const scan = cropImage(await readImage(join(MIRROR, "t1_crop.nii.gz")), 88, 80);
      await writeNifti(join(scans, "crop.nii.gz"), scan);
      const before = tf.memory().numTensors;
      const { log } = collector();
      // One window: the 80³ scan plus the entry's 18-voxel padding on each side.
      await runAction("infer", config, [
        "--T1.path_to_search",
        scans,
        "--save_seg_dir",
        join(dir, "out"),
        "--T1.spatial_window_size",
        "116, 116, 116",
      ], { log });
      assertEquals(tf.memory().numTensors, before, "infer -c leaves no tensor behind");
      const inferred = await readImage(join(dir, "out", "crop_gwm-light.nii.gz"));
      assertEquals(inferred.shape.slice(0, 3), [80, 80, 80]);
      assertEquals(inferred.affine, scan.affine);

      const model = await loadZooModel("gwm-light", { cacheDir });
      let zoo: Uint8Array;
      try {
        zoo = Uint8Array.from(segmentImage(model, scan).labels.data);
      } finally {
        model.dispose();
      }
      const labels = Uint8Array.from(inferred.data);
      const differing = labels.filter((v, i) => v !== zoo[i]).length;
      assert(differing < labels.length * 1e-2, `${differing} voxels differ before the largest-component filter`);
      // zoo run's one extra step: the largest connected component of the foreground (26-connected; the voxel order
      // does not change the components).
      keepLargestComponent(labels, [80, 80, 80], "foreground");
      assertEquals(labels.filter((v, i) => v !== zoo[i]).length, 0, "infer -c + largest component = zoo run");
      const tissue = zoo.filter((v) => v > 0).length;
      assert(tissue > labels.length / 4, `a brain crop: ${tissue} voxels of grey or white matter`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `a zoo checkpoint is a restore-initializer source: vars_to_restore loads the MeshNet layers by name${skip}`,
  ignore: !present,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "niftyts_zoo_finetune_" });
    try {
      const cacheDir = join(dir, "cache");
      await pulled(cacheDir, "gwm-light");
      const source = checkpointPath(zooModelDir("gwm-light", cacheDir), 0);
      const zoo = (await readSafetensors(source)).tensors;
      assert(zoo.has("MeshNet/conv_0_relu/conv_/w") && zoo.has("MeshNet/conv_output/conv_/b"), [...zoo.keys()].join());
      await phantomData(dir, 2, [12, 12, 12]);
      const sections = (name: string, classes: number) => ({
        T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: "(12, 12, 12)" },
        label: {
          path_to_search: "data",
          filename_contains: "label",
          spatial_window_size: "(12, 12, 12)",
          interp_order: 0,
        },
        SYSTEM: { model_dir: "model", random_seed: 1 },
        NETWORK: { name, batch_size: 1 },
        TRAINING: {
          max_iter: 1,
          save_every_n: 0,
          lr: 0,
          tensorboard_every_n: 0,
          restore_from: source,
          vars_to_restore: "^MeshNet/conv_[0-8]_",
        },
        SEGMENTATION: { image: "T1", label: "label", num_classes: classes, label_normalisation: "False" },
      });
      // Fine-tune the 9 hidden layers of gwm-light into a 4-class MeshNet: the classifier starts fresh.
      const config = await writeConfig(dir, sections("meshnet", 4));
      const { log, lines } = collector();
      await runAction("train", config, [], { log, handleSignals: false });
      assert(lines.includes("restored 18 variables, initialised 2"), lines.join("\n"));
      const trained = await readTrainingCheckpoint(join(dir, "model"), 1);
      for (const [name, t] of zoo) {
        const mine = trained.tensors.get(name);
        assert(mine, `variable ${name}`);
        if (name.startsWith("MeshNet/conv_output/")) assertEquals(mine.shape.at(-1), 4);
        else assertEquals(mine.data, t.data, `${name} restored from the zoo checkpoint (lr 0)`);
      }
      // zoo:<id> fixes its classes: a config asking for others is refused.
      await writeConfig(dir, sections("zoo:gwm-light", 4));
      await assertRejectsMatching(
        () => runAction("train", config, ["--starting_iter", "0", "--model_dir", join(dir, "m2")], { log }),
        /num_classes is 4 but network zoo:gwm-light has 3 classes/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
