import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  configFromJson,
  configToJson,
  loadConfig,
  nonDefaultSettings,
  parseConfig,
  parseIni,
  parseOverrideArgs,
} from "../src/engine/config/mod.ts";
import { assertThrows } from "./_util.ts";

const DIR = fileURLToPath(new URL("./fixtures/engine_configs/", import.meta.url));
const EXAMPLES = [
  "default_segmentation.ini",
  "highres3dnet_config.ini",
  "default_monomodal_regression.ini",
  "vae_config.ini",
  "gan_demo_train_config.ini",
];

for (const file of EXAMPLES) {
  Deno.test(`NiftyNet example ${file} parses and survives a JSON round trip`, async () => {
    const config = await loadConfig(join(DIR, file));
    assert(config.application, "an application section");
    const back = configFromJson(JSON.parse(JSON.stringify(configToJson(config))));
    assertEquals(back, config);
  });
}

Deno.test("default_segmentation.ini: values, NiftyNet defaults and NiftyNet's relative-path rules", async () => {
  const c = await loadConfig(join(DIR, "default_segmentation.ini"));
  assertEquals(c.application?.section, "SEGMENTATION");
  assertEquals(c.application?.values.image, ["modality1"]);
  assertEquals(c.application?.section === "SEGMENTATION" && c.application.values.num_classes, 160);
  assertEquals(c.network.name, "toynet");
  assertEquals(c.network.activation_function, "prelu");
  assertEquals(c.network.volume_padding_size, [21, 21, 21]); // one number stands for three dims
  assertEquals(c.network.cutoff, [0.01, 0.99]);
  assertEquals(c.network.normalise_foreground_only, true);
  assertEquals(c.training.rotation_angle, [-10, 10]);
  assertEquals(c.training.random_flipping_axes, [1]);
  assertEquals(c.inference.border, [0, 0, 1]);
  assertEquals(c.evaluation.evaluations, ["Dice"]);
  assertEquals(c.system.cuda_devices, "");
  assertEquals(c.inputs.modality1.axcodes, ["A", "R", "S"]);
  assertEquals(c.inputs.modality1.pixdim, [1, 1, 1]);
  assertEquals(c.inputs.label.interp_order, 0);
  // Defaults of keys the file does not set.
  assertEquals(c.network.batch_size, 1);
  assertEquals(c.training.optimiser, "adam");
  assertEquals(c.training.tensorboard_every_n, 20);
  assertEquals(c.training.validation_every_n, -1);
  assertEquals(c.inference.output_postfix, "_niftynet_out");
  // Paths: model_dir and path_to_search against the config's folder; the split file and outputs against model_dir.
  const model = join(DIR, "models/model_monomodal_toy");
  assertEquals(c.system.model_dir, model);
  assertEquals(c.inputs.modality1.path_to_search, [join(DIR, "example_volumes/monomodal_parcellation")]);
  assertEquals(c.system.dataset_split_file, join(model, "dataset_split.csv"));
  assertEquals(c.inference.save_seg_dir, join(model, "output/toy"));
  assertEquals(c.evaluation.save_csv_dir, join(model, "evaluation"));
});

Deno.test("keys in the wrong system section (NiftyNet examples put queue_length in [SYSTEM]) move with a warning", async () => {
  const c = await loadConfig(join(DIR, "vae_config.ini"));
  assertEquals(c.network.queue_length, 20);
  assert(c.warnings.some((w) => w.includes(`"queue_length" belongs to [NETWORK]`)), c.warnings.join("\n"));
  assertEquals(c.application?.section === "AUTOENCODER" && c.application.values.noise_stddev, 1);
  assertEquals(c.application?.values.image, ["IXI image"]);
});

Deno.test("model_dir defaults to <config folder>/model", () => {
  const c = parseConfig("[NETWORK]\nname = toynet\n", { source: "/data/exp/config.ini" });
  assertEquals(c.system.model_dir, "/data/exp/model");
  assertEquals(c.system.dataset_split_file, "/data/exp/model/dataset_split.csv");
  assertEquals(c.application, undefined);
});

Deno.test("unknown keys fail naming file, section and key with a did-you-mean suggestion", () => {
  assertThrows(
    () => parseConfig("[TRAINING]\nlrr = 0.1\n", { source: "c.ini" }),
    `unknown key "lrr" in [TRAINING]; did you mean "lr"?`,
  );
  assertThrows(() => parseConfig("[T1]\npath_to_serch = x\n", { source: "c.ini" }), `did you mean "path_to_search"?`);
  // The selective-sampler keys of an older highres3dnet example, misspelt there, point to NiftyNet 0.6's names.
  assertThrows(
    () => parseConfig("[TRAINING]\nmin_ratio_sampling = 0.1\n", { source: "c.ini" }),
    `did you mean "min_sampling_ratio" (a key of [SEGMENTATION])?`,
  );
});

Deno.test("type errors name section, key and value and say what was expected", () => {
  assertThrows(() => parseConfig("[TRAINING]\nlr = fast\n"), `[TRAINING] lr = "fast": expected a number`);
  assertThrows(() => parseConfig("[TRAINING]\nmax_iter = 1.5\n"), `[TRAINING] max_iter = "1.5": expected an integer`);
  assertThrows(() => parseConfig("[TRAINING]\nmax_iter = -3\n"), `[TRAINING] max_iter = "-3": too small`);
  assertThrows(() => parseConfig("[NETWORK]\nwhitening = maybe\n"), `expected a boolean`);
  assertThrows(() => parseConfig("[NETWORK]\nactivation_function = swish\n"), `expected one of "relu"`);
  assertThrows(() => parseConfig("[T1]\npixdim = 1, x\n"), `[T1] pixdim = "1, x": expected a comma-separated list`);
  assertThrows(
    () => parseConfig("[SEGMENTATION]\nimage = T2\n[T1]\nfilename_contains = a\n"),
    `[SEGMENTATION] image names input section [T2], which the file does not have; did you mean [T1]?`,
  );
});

Deno.test("keys NiftyNet has but NiftyTS does not support yet fail loudly when set", () => {
  assertThrows(() => parseConfig("[SYSTEM]\nnum_gpus = 2\n"), "not supported yet");
  assertThrows(() => parseConfig("[SYSTEM]\ncuda_devices = 0\n"), "not supported yet");
  assertThrows(() => parseConfig("[TRAINING]\nearly_stopping_mode = validation_up\n"), "not supported yet");
  assertThrows(
    () => parseConfig("[REGISTRATION]\nlabel_normalisation = True\n"),
    "[REGISTRATION] application is not supported yet",
  );
  // …and are accepted at their default values (NiftyNet examples spell defaults out).
  assertEquals(parseConfig('[SYSTEM]\nnum_gpus = 1\ncuda_devices = ""\n').system.num_gpus, 1);
});

Deno.test("command-line overrides: --key value, --key=value, --section.key, and unknown keys", () => {
  const text = "[T1]\npixdim = 1,1,1\n[TRAINING]\nlr = 0.1\n[INFERENCE]\nborder = 2\n";
  const c = parseConfig(text, {
    overrides: ["--lr", "0.5", "--max_iter=7", "--T1.pixdim", "2,2,2", "--border", "(1,2,3)"],
  });
  assertEquals([c.training.lr, c.training.max_iter, c.inputs.T1.pixdim, c.inference.border], [0.5, 7, [2, 2, 2], [
    1,
    2,
    3,
  ]]);
  const d = parseConfig(text, { overrides: { optimiser: "Momentum", "training.max_iter": "3" } });
  assertEquals([d.training.optimiser, d.training.max_iter], ["momentum", 3]);
  assertThrows(() => parseConfig(text, { overrides: ["--lrr", "1"] }), `unknown key "--lrr"; did you mean "--lr"?`);
  assertThrows(() => parseConfig(text, { overrides: ["--pixdim", "1"] }), "use --<section>.pixdim");
  assertThrows(
    () => parseConfig(text, { overrides: ["--max_iter", "soon"] }),
    `command line --max_iter: [TRAINING] max_iter = "soon"`,
  );
  assertThrows(() => parseOverrideArgs(["--lr"]), `"--lr" has no value`);
});

Deno.test("the application section is chosen by -a or by the file, never two at once", () => {
  const text = "[NETWORK]\nname = toynet\n[GAN]\nnoise_size = 10\n";
  assertEquals(parseConfig(text).application?.section, "GAN");
  assertEquals(parseConfig(text, { application: "gan" }).application?.section, "GAN");
  assertThrows(() => parseConfig(text, { application: "segmentation" }), "application SEGMENTATION was asked for");
  assertThrows(() => parseConfig(text + "[SEGMENTATION]\nnum_classes = 2\n"), "several application sections");
  assertThrows(() => parseConfig(text, { application: "segmentaton" }), `did you mean "segmentation"?`);
});

Deno.test("INI syntax: comments, continuation lines, bare keys; duplicates and orphan entries are errors", () => {
  const [s] = parseIni("[A]\n# comment\n; other\nKey: a,\n  b\nbare\n", "x.ini");
  assertEquals(s.entries.map((e) => [e.key, e.value]), [["key", "a,\nb"], ["bare", ""]]);
  assertThrows(() => parseIni("[A]\nk = 1\nK = 2\n", "x.ini"), `"x.ini" line 3: key "k" of [A] already set on line 2`);
  assertThrows(() => parseIni("k = 1\n", "x.ini"), "comes before any [section]");
  assertThrows(() => parseIni("[A]\n[A]\n", "x.ini"), "section [A] appears twice");
});

Deno.test("a corrupted saved config is refused naming the key", async () => {
  const json = configToJson(await loadConfig(join(DIR, "default_segmentation.ini")));
  (json.training as Record<string, unknown>).lr = "fast";
  assertThrows(
    () => configFromJson(json, { source: "model.ckpt-5.config.json" }),
    "model.ckpt-5.config.json: invalid config at training.lr",
  );
});

Deno.test("nonDefaultSettings lists exactly the settings that differ from NiftyNet's defaults", async () => {
  const c = await loadConfig(join(DIR, "default_segmentation.ini"));
  const set = nonDefaultSettings(c);
  assert(set.includes("SYSTEM.model_dir") && set.includes("INFERENCE.save_seg_dir"), set.join());
  assert(set.includes("TRAINING.rotation_angle") && set.includes("INPUT.pixdim"), set.join());
  assert(
    !set.includes("SYSTEM.dataset_split_file") && !set.includes("EVALUATION.save_csv_dir"),
    "defaults are not settings",
  );
});
