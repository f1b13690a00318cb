import assert from "node:assert/strict";
import { join } from "node:path";
import { writePngSliceDataset } from "../src/commands/demo_data.ts";
import { runActionCommand } from "../src/commands/run_action.ts";
import { readImage } from "../src/io/mod.ts";

const docsConfig = new URL("../docs/examples/unet_2d_png.ini", import.meta.url).pathname;
const tinyUnet = new URL("./_tiny_unet_2d.ts", import.meta.url).pathname;

Deno.test("the 2D demo config (docs/examples/unet_2d_png.ini) trains and infers on generated PNG slices", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The docs config, its slices folder beside it (as the config's own instructions make it).
    const config = join(dir, "unet_2d_png.ini");
    await Deno.copyFile(docsConfig, config);
    const ids = await writePngSliceDataset(join(dir, "slices"), { count: 4, size: [40, 40] });
    // NiftyNet's unet_2d architecture with few features (same layers and sizes), padded to the 190² window.
    const overrides = [
      "--name",
      tinyUnet,
      "--max_iter",
      "2",
      "--save_every_n",
      "2",
      "--volume_padding_size",
      "75,75,0",
      "--batch_size",
      "1",
    ];
    const log = () => {};
    const trained = await runActionCommand("train", { config, application: "segmentation", overrides, log });
    assert.match(trained[0], /trained to iteration 2/);
    await runActionCommand("infer", { config, application: "segmentation", overrides, log });
    const outputs = join(dir, "unet_2d_model", "output");
    const written = [...Deno.readDirSync(outputs)].map((e) => e.name).filter((n) => n.endsWith(".nii.gz"));
    assert.equal(written.length, 1, `one held-out slice of ${ids.length} is segmented (${written})`);
    const seg = await readImage(join(outputs, written[0]));
    assert.deepEqual([...seg.shape.slice(0, 3)], [40, 40, 1]);
    assert.ok([...seg.data].every((v) => v >= 0 && v < 4));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
