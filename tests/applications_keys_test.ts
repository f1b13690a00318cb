import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import "../src/applications/mod.ts";
import {
  autoencoderApplication,
  classificationApplication,
  ganApplication,
  regressionApplication,
  segmentationApplication,
} from "../src/applications/mod.ts";
import { type Application, findApplication } from "../src/engine/application.ts";
import { assertKeysActedOn, composeKeys, DRIVER_HONOURED_KEYS, ignoredSettings } from "../src/engine/honoured_keys.ts";
import { subjectsFor } from "../src/applications/_inputs.ts";
import { roleTensors, windowBatches } from "../src/applications/_windows.ts";
import { loadConfig, parseConfig } from "../src/engine/config/mod.ts";
import { infer, runAction, train } from "../src/engine/driver.ts";
import { configReferenceMarkdown } from "../src/engine/config/reference.ts";
import { phantomData, writeConfig } from "./_applications_data.ts";
import { assertRejects, assertThrows } from "./_util.ts";

/** The smallest config of each application (roles only), which every application accepts. */
const MINIMAL: Record<string, string> = {
  segmentation: "[SEGMENTATION]\nnum_classes = 2\n",
  regression: "[REGRESSION]\nloss_border = 1\n",
  classification: "[CLASSIFICATION]\nnum_classes = 3\n",
  autoencoder: "[AUTOENCODER]\ninference_type = encode\n",
  gan: "[GAN]\nnoise_size = 4\n",
};

// Configs live in folders that are never created: the check runs before anything is written.
const ROOT = Deno.makeTempDirSync({ prefix: "niftyts_keys_" });
globalThis.addEventListener("unload", () => Deno.removeSync(ROOT, { recursive: true }));
let configs = 0;

function configOf(app: Application, extra: string) {
  const dir = join(ROOT, `config_${configs++}`);
  return { dir, config: parseConfig(MINIMAL[app.name] + extra, { source: join(dir, "c.ini") }) };
}

const message = (dir: string, setting: string, app: string, def: string) =>
  `"${join(dir, "c.ini")}": ${setting} is not supported by ${app} yet ` +
  `(it would be silently ignored; remove it or set the default ${def})`;

Deno.test("every application accepts its minimal config (non-default keys it acts on)", () => {
  for (const app of [segmentationApplication, regressionApplication, classificationApplication, ganApplication]) {
    const { config } = configOf(app, "");
    assertKeysActedOn(config, app);
  }
  const { config } = configOf(autoencoderApplication, "");
  assertKeysActedOn(config, autoencoderApplication);
});

Deno.test("train refuses a key segmentation ignores (keep_prob) before any work, naming section, key and value", async () => {
  const { dir, config } = configOf(segmentationApplication, "[NETWORK]\nkeep_prob = 0.5\n");
  const e = await assertRejects(() => train(config, segmentationApplication, { log: () => {} }), "is not supported by");
  assertEquals(e.message, message(dir, "[NETWORK] keep_prob = 0.5", "segmentation", "1"));
  // Nothing was written: the check runs before model_dir is touched.
  await assertRejects(() => Deno.stat(dir), "No such file");
});

Deno.test("train refuses a selective-sampler key segmentation does not implement (rand_samples)", async () => {
  const { dir, config } = configOf(segmentationApplication, "rand_samples = 3\n");
  const e = await assertRejects(() => train(config, segmentationApplication, { log: () => {} }), "is not supported by");
  assertEquals(e.message, message(dir, "[SEGMENTATION] rand_samples = 3", "segmentation", "0"));
});

Deno.test("infer refuses a key regression ignores (antialiasing = False)", async () => {
  const { dir, config } = configOf(regressionApplication, "[TRAINING]\nantialiasing = False\n");
  const e = await assertRejects(() => infer(config, regressionApplication, { log: () => {} }), "is not supported by");
  assertEquals(e.message, message(dir, "[TRAINING] antialiasing = false", "regression", "true"));
});

Deno.test("train refuses an output key classification ignores (output_postfix: it writes a CSV)", async () => {
  const { dir, config } = configOf(classificationApplication, "[INFERENCE]\noutput_postfix = _seg\n");
  const e = await assertRejects(
    () => train(config, classificationApplication, { log: () => {} }),
    "is not supported by",
  );
  assertEquals(e.message, message(dir, `[INFERENCE] output_postfix = "_seg"`, "classification", `"_niftynet_out"`));
});

Deno.test("infer refuses a key the autoencoder ignores (output_interp_order)", async () => {
  const { dir, config } = configOf(autoencoderApplication, "[INFERENCE]\noutput_interp_order = 3\n");
  const e = await assertRejects(() => infer(config, autoencoderApplication, { log: () => {} }), "is not supported by");
  assertEquals(e.message, message(dir, "[INFERENCE] output_interp_order = 3", "autoencoder", "0"));
});

Deno.test("evaluate (runAction) refuses a key the gan ignores (dataset_to_infer: it infers from noise)", async () => {
  const dir = join(ROOT, "evaluate");
  await Deno.mkdir(dir);
  const path = join(dir, "c.ini");
  await Deno.writeTextFile(path, MINIMAL.gan + "[INFERENCE]\ndataset_to_infer = validation\n");
  const e = await assertRejects(() => runAction("evaluate", path, [], { log: () => {} }), "is not supported by");
  assertEquals(e.message, message(dir, `[INFERENCE] dataset_to_infer = "validation"`, "gan", `""`));
});

Deno.test("num_threads is acted on by every application (windows sampled on worker threads)", () => {
  for (const name of ["segmentation", "regression", "classification", "autoencoder", "gan"]) {
    const app = findApplication(name)!;
    assertKeysActedOn(configOf(app, "[SYSTEM]\nnum_threads = 4\n").config, app);
  }
});

Deno.test("several ignored settings make one line naming them all; honoured and driver keys are not listed", () => {
  const { dir, config } = configOf(
    segmentationApplication,
    "[NETWORK]\nkeep_prob = 0.8\nqueue_length = 9\n[TRAINING]\nspatial_rank = 2\nlr = 0.5\nrotation_angle = (-5, 5)\n",
  );
  const e = assertThrows(() => assertKeysActedOn(config, segmentationApplication), "are not supported by");
  assertEquals(
    e.message,
    `"${join(dir, "c.ini")}": [NETWORK] keep_prob = 0.8, [TRAINING] spatial_rank = 2 are not supported by ` +
      `segmentation yet (they would be silently ignored; remove them or set their defaults)`,
  );
  assert(!e.message.includes("\n"));
  assertEquals(ignoredSettings(config, segmentationApplication.honouredKeys!).map((s) => s.key), [
    "keep_prob",
    "spatial_rank",
  ]);
});

Deno.test("an application without a key list (a plugin) is not checked", () => {
  const { config } = configOf(segmentationApplication, "[NETWORK]\nkeep_prob = 0.5\n");
  assertKeysActedOn(config, { name: "plugin" });
});

Deno.test("composeKeys merges lists without repeating a key; the driver's list leaves out num_threads", () => {
  assertEquals(composeKeys([{ NETWORK: ["batch_size", "name"] }, { NETWORK: ["name"], TRAINING: ["lr"] }]), {
    NETWORK: ["batch_size", "name"],
    TRAINING: ["lr"],
  });
  assert(!DRIVER_HONOURED_KEYS.SYSTEM!.includes("num_threads"));
  assert(DRIVER_HONOURED_KEYS.SYSTEM!.includes("random_seed"));
});

Deno.test("NiftyNet's example configs parse; gan_demo's activation_function fails loudly", async () => {
  const dir = new URL("./fixtures/engine_configs/", import.meta.url).pathname;
  for (const name of ["default_segmentation", "highres3dnet_config", "default_monomodal_regression", "vae_config"]) {
    const config = await loadConfig(join(dir, `${name}.ini`));
    assertKeysActedOn(config, findApplication(config.application!.section)!);
  }
  const gan = await loadConfig(join(dir, "gan_demo_train_config.ini"));
  const e = assertThrows(() => assertKeysActedOn(gan, ganApplication), "is not supported by");
  assertEquals(
    e.message,
    `"${join(dir, "gan_demo_train_config.ini")}": [NETWORK] activation_function = "prelu" is not supported by ` +
      `gan yet (it would be silently ignored; remove it or set the default "relu")`,
  );
});

Deno.test("queue_length reads windows ahead without changing the batches or the resume state", async () => {
  const dir = await Deno.makeTempDir({ prefix: "niftyts_keys_" });
  await phantomData(dir, 3, [8, 8, 6]);
  const batchesWith = async (queueLength: number) => {
    const path = await writeConfig(dir, {
      T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: "(4, 4, 3)" },
      SYSTEM: { model_dir: "model" },
      NETWORK: { queue_length: queueLength, batch_size: 2 },
      TRAINING: { sample_per_volume: 3 },
      SEGMENTATION: { image: "T1", num_classes: 2 },
    });
    const config = await loadConfig(path);
    const roles = { image: ["T1"] };
    const subjects = await subjectsFor(config, roles, { required: ["image"], phases: ["training"], createSplit: true });
    const source = windowBatches({
      config,
      subjects,
      roles,
      sampler: { kind: "uniform", options: { spatialWindowSize: { image: [4, 4, 3] }, samplePerVolume: 3 } },
      batchSize: 2,
      seed: 7,
      endless: true,
      toTensors: (windows) => roleTensors(windows, ["image"]),
    });
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) {
      const batch = (await source.next())!;
      seen.push(...batch.windows!.map((w) => `${w.subject}@${w.location.image.start}`));
      seen.push(String(tf.tidy(() => tf.sum(batch.tensors.image).dataSync()[0])));
      tf.dispose(Object.values(batch.tensors));
    }
    const state = source.state();
    await source.close?.();
    return { seen, state };
  };
  const one = await batchesWith(1);
  const many = await batchesWith(7);
  assertEquals(many.seen, one.seen);
  assertEquals(many.state, one.state);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the key reference names the applications acting on each key", () => {
  const md = configReferenceMarkdown();
  const row = (key: string) => md.split("\n").find((l) => l.startsWith(`| \`${key}\` |`))!;
  assert(row("queue_length").endsWith("| segmentation, regression, classification, autoencoder, gan |"));
  assert(row("output_interp_order").endsWith("| segmentation, regression |"));
  assert(row("lr").endsWith("| all (driver) |"));
  assert(row("keep_prob").includes("| not supported yet (other values refused) | — |"), row("keep_prob"));
});
