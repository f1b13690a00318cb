/** The train / infer / evaluate actions and the NiftyNet-style aliases, as a user runs them. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { phantomData, writeConfig } from "./_applications_data.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function cli(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("cli: segment train/infer/evaluate -c config with --key overrides, -a name or plugin module, one-line errors", async () => {
  const dir = await Deno.makeTempDir();
  await phantomData(dir, 4, [8, 8, 8]);
  const w = "(8, 8, 8)";
  const config = await writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: w },
    label: { path_to_search: "data", filename_contains: "label", spatial_window_size: w, interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 1 },
    NETWORK: { name: "toynet", batch_size: 1 },
    TRAINING: { max_iter: 50, save_every_n: 0, exclude_fraction_for_inference: 0.5 },
    EVALUATION: { evaluations: "dice" },
    SEGMENTATION: { image: "T1", label: "label", num_classes: 4 },
  });
  const train = await cli(["segment", "train", "-c", config, "--max_iter", "2", "--lr=0.001"]);
  assertEquals(train.code, 0, train.stderr);
  assert(/^iter 2\/2 {2}loss /m.test(train.stdout), train.stdout);
  assert(train.stdout.includes("trained to iteration 2 (max_iter)"), train.stdout);
  assert(train.stdout.includes(`tensorboard --logdir ${join(dir, "model", "logs")}`), train.stdout);
  assert(train.stderr.includes("backend: cpu"), train.stderr);

  const resumed = await cli(["train", "-c", config, "-a", "net_segment", "--max_iter", "3", "--starting_iter", "-1"]);
  assertEquals(resumed.code, 0, resumed.stderr);
  assert(resumed.stdout.includes("trained to iteration 3"), resumed.stdout);

  const plugin = new URL("./_applications_plugin_app.ts", import.meta.url).pathname;
  const viaPlugin = await cli(["train", "-c", config, "-a", plugin, "--max_iter", "4", "--starting_iter", "-1"]);
  assertEquals(viaPlugin.code, 0, viaPlugin.stderr);
  assert(viaPlugin.stdout.includes("trained to iteration 4"), viaPlugin.stdout);

  const infer = await cli(["infer", "-c", config]);
  assertEquals(infer.code, 0, infer.stderr);
  assert(infer.stdout.includes(`outputs in ${join(dir, "model", "output")}`), infer.stdout);
  const evaluate = await cli(["evaluate", "-c", config]);
  assertEquals(evaluate.code, 0, evaluate.stderr);
  assert(/mean foreground: dice \d/.test(evaluate.stdout), evaluate.stdout);
  assert(Deno.statSync(join(dir, "model", "evaluation", "evaluation.csv")).isFile);

  const typo = await cli(["segment", "train", "-c", config, "--max_iterr", "2"]);
  assertEquals(typo.code, 1);
  assert(typo.stderr.includes('unknown key "--max_iterr"; did you mean "--max_iter"?'), typo.stderr);
  assert(!typo.stderr.includes("    at "), "no stack trace");
  const noConfig = await cli(["train"]);
  assertEquals(noConfig.code, 1);
  assert(noConfig.stderr.includes("train needs a config: -c config.ini"), noConfig.stderr);
  const badAction = await cli(["classify", "fly", "-c", config]);
  assertEquals(badAction.code, 1);
  assert(badAction.stderr.includes('unknown action "fly"'), badAction.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli --help lists train, infer, evaluate and the application aliases", async () => {
  const help = await cli(["--help"]);
  for (
    const command of ["train", "infer", "evaluate", "segment", "regress", "classify", "autoencoder", "gan", "demo"]
  ) {
    assert(new RegExp(`^  ${command}\\b`, "m").test(help.stdout), command);
  }
  const train = await cli(["train", "--help"]);
  assert(train.stdout.includes("-c, --config <file>") && train.stdout.includes("-a, --application <name>"));
});
