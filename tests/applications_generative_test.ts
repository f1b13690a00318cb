import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import "../src/applications/mod.ts";
import { findApplication } from "../src/engine/application.ts";
import { loadConfig, runAction } from "../src/engine/mod.ts";
import { VariableStore } from "../src/dsl/mod.ts";
import { readImage } from "../src/io/mod.ts";
import { collector, discData, TEST_AFFINE, writeConfig } from "./_applications_data.ts";
import { assertFlatTensorCount, assertRejectsMatching, inferredRows } from "./_applications_checks.ts";

await useBackend("cpu");

function autoencoderConfig(dir: string, extra: Record<string, string | number> = {}) {
  return writeConfig(dir, {
    images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(8, 8, 1)" },
    SYSTEM: { model_dir: "model", random_seed: 4 },
    NETWORK: { name: "vae", batch_size: 2, window_sampling: "resize" },
    TRAINING: { max_iter: 2, save_every_n: 0, lr: 0.0001, exclude_fraction_for_inference: 0.5, ...extra },
    AUTOENCODER: { image: "images", inference_type: "encode" },
  });
}

function ganConfig(dir: string, extra: Record<string, string | number> = {}) {
  return writeConfig(dir, {
    images: { path_to_search: "data", filename_contains: "img", spatial_window_size: "(16, 16, 1)" },
    SYSTEM: { model_dir: "model", random_seed: 6 },
    NETWORK: { name: "simple_gan", batch_size: 2, window_sampling: "resize" },
    TRAINING: { max_iter: 2, save_every_n: 0, lr: 0.0001, ...extra },
    GAN: { image: "images", noise_size: 8, n_interpolations: 3 },
  });
}

Deno.test("autoencoder end to end: VAE trains, encode writes codes to CSV, encode-decode writes NIfTI on the input grid", async () => {
  assertEquals(findApplication("AUTOENCODER")?.name, "autoencoder");
  const dir = await Deno.makeTempDir();
  await discData(dir, 4, [10, 12]);
  const config = await autoencoderConfig(dir);
  const before = tf.memory().numTensors;
  const { log, lines } = collector();
  await runAction("train", config, [], { log, handleSignals: false });
  assert(lines.some((l) => /^iter 2\/2 {2}loss /.test(l)), lines.join("\n"));
  await runAction("infer", config, [], { log });
  const codes = await inferredRows(dir);
  assertEquals(codes.length, 2);
  assertEquals(codes[0].split(",").length, 1 + 64, "subject id + 64 latent means");
  await runAction("infer", config, ["--inference_type", "encode-decode"], { log });
  const rows = await inferredRows(dir);
  for (const row of rows) {
    const out = await readImage(row.split(",")[1]);
    assertEquals(out.shape, [10, 12, 1, 1, 1]);
    assertEquals(out.affine, TEST_AFFINE);
  }
  await assertRejectsMatching(
    () => runAction("infer", config, ["--inference_type", "sample"], { log }),
    /inference_type = sample needs \[AUTOENCODER\] noise_stddev > 0/,
  );
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("gan end to end: d_loss and g_loss alternate; samples and interpolations are written as NIfTI", async () => {
  assertEquals(findApplication("GAN")?.name, "gan");
  const dir = await Deno.makeTempDir();
  await discData(dir, 3, [16, 16]);
  const config = await ganConfig(dir);
  const before = tf.memory().numTensors;
  const { log, lines } = collector();
  await runAction("train", config, [], { log, handleSignals: false });
  assert(lines.some((l) => /^iter 2\/2 {2}d_loss \d+\.\d{4} {2}g_loss \d+\.\d{4}/.test(l)), lines.join("\n"));
  await runAction("infer", config, [], { log });
  const rows = await inferredRows(dir);
  const names = rows.map((r) => r.split(",")[0]).sort();
  assertEquals(names, ["interpolation_0", "interpolation_1", "interpolation_2", "sample_0", "sample_1", "sample_2"]);
  const image = await readImage(rows[0].split(",")[1]);
  assertEquals(image.shape, [16, 16, 1, 1, 1]);
  assertEquals(image.affine, TEST_AFFINE, "generated images take the training images' affine");
  assertEquals(tf.memory().numTensors, before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("gan: every network variable is updated by exactly one objective (d_loss: discriminator, g_loss: generator)", async () => {
  const dir = await Deno.makeTempDir();
  await discData(dir, 2, [16, 16]);
  const config = await ganConfig(dir, { max_iter: 1 });
  const run = await findApplication("gan")!.setup(await loadConfig(config), { action: "train", seed: 1 });
  const [d, g] = run.objectives;
  assertEquals([d.name, g.name], ["d_loss", "g_loss"]);
  const source = await run.batches("training", { seed: 1 });
  const batch = (await source.next())!;
  const store = new VariableStore({ seed: 1 });
  tf.tidy(() => void d.loss(batch, { store, training: false }));
  const trainable = store.records().filter((r) => r.trainable).map((r) => r.path);
  const ofD = trainable.filter((p) => d.variables!.test(p)), ofG = trainable.filter((p) => g.variables!.test(p));
  assert(ofD.length > 0 && ofG.length > 0, trainable.join(" "));
  assertEquals(ofD.length + ofG.length, trainable.length, "no variable left out");
  assert(ofD.every((p) => !ofG.includes(p)), "no variable in both");
  assert(ofD.every((p) => p.includes("/discriminator/")) && ofG.every((p) => p.includes("/generator/")));
  tf.dispose(Object.values(batch.tensors));
  store.dispose();
  await Deno.remove(dir, { recursive: true });
});

const TINY_VAE = new URL("./_applications_tiny_vae.ts", import.meta.url).pathname;
const TINY_GAN = new URL("./_applications_tiny_gan.ts", import.meta.url).pathname;

Deno.test("autoencoder and gan (dense stand-in plugin networks) keep the tensor count constant over 200 iterations", async () => {
  for (const [make, net] of [[autoencoderConfig, TINY_VAE], [ganConfig, TINY_GAN]] as const) {
    const dir = await Deno.makeTempDir();
    await discData(dir, 2, [4, 4]);
    const config = await make(dir, { max_iter: 200, exclude_fraction_for_inference: 0 });
    const overrides = ["--batch_size", "1", "--name", net, "--images.spatial_window_size", "4,4,1"];
    await assertFlatTensorCount(config, { overrides, label: net });
    await Deno.remove(dir, { recursive: true });
  }
});
