/**
 * The NiftyTS command line: `deno run -A cli.ts <command> --help`.
 *
 * Thin by design: each command lives in `src/commands/` and returns what to print; this file parses options,
 * selects the backend and turns errors into one clear line (no stack traces for bad input).
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "./src/deps_deno.ts";
import { BACKENDS, requestedBackend, useBackend } from "./src/backend.ts";
import { VERSION } from "./src/version.ts";
import { graphCommand, parseShape } from "./src/commands/graph.ts";
import { importWeightsCommand } from "./src/commands/import_weights.ts";
import { exportCommand } from "./src/commands/export_model.ts";
import { demoCommand } from "./src/commands/demo.ts";
import { writePngSliceDataset } from "./src/commands/demo_data.ts";
import { evaluateCommand } from "./src/commands/evaluate.ts";
import { mergeCommand } from "./src/commands/merge.ts";
import { cvCommand } from "./src/commands/cv.ts";
import { ACTIONS, applicationCommands, Interrupted, runActionCommand } from "./src/commands/run_action.ts";
import { convertCommand, infoCommand, parseConvertFlags } from "./src/commands/info_convert.ts";
import { getNetwork, networkNames } from "./networks/mod.ts";
import { configReferenceMarkdown } from "./src/engine/config/reference.ts";
import { zooExportCommand, zooInfoCommand, zooListCommand, zooRunCommand } from "./src/commands/zoo.ts";
import { stderrProgress, zooPullCommand } from "./src/commands/zoo_pull.ts";
import { writeZooNiftyNetFolder } from "./src/commands/zoo_niftynet.ts";
import { getZooEntry } from "./zoo/mod.ts";
import { bundleCommand } from "./src/commands/web_bundle.ts";
import { startServer } from "./src/commands/serve.ts";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return n;
}

function parseMm(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a distance in mm >= 0, got "${value}"`);
  }
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// Validated when the backend starts (not with .choices), so that e.g. `webgl` is refused with its reason.
const backendOption = () =>
  new Option("--backend <name>", `tfjs backend: ${BACKENDS.join(", ")} (default: env NIFTYTS_BACKEND, else cpu)`);

async function startBackend(name: string | undefined): Promise<void> {
  console.error(`backend: ${await useBackend(name)}`);
}

/** Commands that compute no tensors accept `--backend` (every command does) and only check the name. */
function checkBackend(name: string | undefined): void {
  if (name !== undefined) requestedBackend(name);
}

// Errors (ours and the parser's) are one line; `--help` prints usage.
const program = new Command("niftyts")
  .description("NiftyTS: deep learning for medical imaging, in TypeScript on Deno")
  .version(VERSION);

program.command("graph")
  .description("build a network, print its parameter count, write graph.json, graph.html and a TensorBoard graph")
  .argument("<network>", `registered name (${networkNames().join(", ")}) or module path/URL`)
  .requiredOption("--input-shape <dims>", "input shape, channels last, e.g. 1,32,32,32,1", (v) => parseShape(v))
  .option("--out <dir>", "output folder", "graph_output")
  .option("--num-classes <n>", "output channels", positiveInt, 2)
  .option("--noise-size <n>", "GANs (simple_gan, simulator_gan): length of the noise vector", positiveInt, 100)
  .addOption(backendOption())
  .action(async (
    network: string,
    o: { inputShape: number[]; out: string; numClasses: number; noiseSize: number; backend?: string },
  ) => {
    await startBackend(o.backend);
    for (const line of await graphCommand(network, o)) console.log(line);
  });

program.command("import-weights")
  .description("convert a tfjs layers-model (model.json + shards) to a safetensors checkpoint with DSL names")
  .argument("<model.json>", "the model's model.json (weight shards beside it)")
  .requiredOption("--out <file>", "output .safetensors file")
  .option("--network <name>", "pair weights with this network's variables (e.g. meshnet)")
  .option("--network-options <json>", "network constructor options as JSON, e.g. '{\"channels\":5}'")
  .option("--map <from=to>", "scope mapping from/=to/ (repeatable)", collect, [])
  .addOption(backendOption())
  .action(
    async (
      modelJson: string,
      o: { out: string; network?: string; networkOptions?: string; map: string[]; backend?: string },
    ) => {
      await startBackend(o.backend);
      for (const line of await importWeightsCommand(modelJson, o)) console.log(line);
    },
  );

program.command("export")
  .description("write a checkpoint's network as a deployable model: tfjs layers-model (model.json + shards) or ONNX")
  .argument("<checkpoint>", "a .safetensors checkpoint (from train, import-weights or zoo export)")
  .requiredOption("--out <dir>", "output folder")
  .option(
    "--format <format>",
    "tfjs (layers-model for tf.loadLayersModel and brainchop) or onnx (DIR/model.onnx)",
    "tfjs",
  )
  .option("--network <name>", "registered network name or module (default: the checkpoint's network metadata)")
  .option("-c, --config <file>", "config whose [NETWORK] and application section describe the network")
  .option("--network-options <json>", "network constructor options as JSON, e.g. '{\"channels\":5}'")
  .option(
    "--num-classes <n>",
    "output channels (default: the config's num_classes, else read off the checkpoint)",
    positiveInt,
  )
  .option(
    "--input-shape <dims>",
    "shape the network is traced on (default 1,16,16,16,1; 2D nets 1,16,16,1)",
    (v) => parseShape(v),
  )
  .addOption(backendOption())
  .action(async (checkpoint: string, o: {
    out: string;
    format: string;
    network?: string;
    config?: string;
    networkOptions?: string;
    numClasses?: number;
    inputShape?: number[];
    backend?: string;
  }) => {
    await startBackend(o.backend);
    for (const line of await exportCommand(checkpoint, o)) console.log(line);
  });

program.command("info")
  .description("print a readable header summary of an image (NIfTI file, DICOM file or folder)")
  .argument("<file>", "image file or DICOM folder (a DICOM file is that one image unless --series)")
  .option("--series", "a DICOM file stands for its whole series (the files of its folder with its SeriesInstanceUID)")
  .addOption(backendOption())
  .action(async (file: string, o: { series?: boolean; backend?: string }) => {
    checkBackend(o.backend);
    console.log(await infoCommand(file, { series: o.series }));
  });

program.command("convert")
  .description("read any supported image, optionally reorient/resample/conform, write NIfTI")
  .argument("<input>", "NIfTI file, DICOM file (that one image unless --series) or DICOM folder")
  .argument("<output>", "output .nii or .nii.gz")
  .option("--series", "a DICOM file stands for its whole series (the files of its folder with its SeriesInstanceUID)")
  .option("--axcodes <codes>", "reorient without resampling, e.g. RAS")
  .option("--pixdim <mm>", "resample to voxel size, e.g. 1,1,1 (one number: isotropic)")
  .option("--order <n>", "interpolation order 0 (nearest), 1 (linear) or 3 (cubic B-spline)")
  .option("--conform <spec>", "conform to size,voxel[,axcodes], e.g. 256,1,LIA")
  .option("--datatype <type>", "output datatype, e.g. float32, int16, uint8")
  .addOption(backendOption())
  .action(async (input: string, output: string, flags: Record<string, string> & { series?: boolean }) => {
    const { series, backend, ...rest } = flags;
    checkBackend(backend as string | undefined);
    console.log(await convertCommand(input, output, { ...parseConvertFlags(rest), series: series === true }));
  });

function actionCommand(name: string, description: string): Command {
  return program.command(name)
    .description(description)
    .option("-c, --config <file>", "NiftyNet-style config (INI)")
    .option("-a, --application <name>", "segmentation, regression, classification, autoencoder, gan (or net_segment…)")
    .addOption(backendOption())
    .argument("[overrides...]", "config overrides: --key value (e.g. --max_iter 100, --T1.pixdim 1,1,1)")
    .allowUnknownOption()
    .allowExcessArguments();
}

async function runConfigured(
  action: string,
  overrides: string[],
  o: { config?: string; application?: string; backend?: string },
) {
  if (!o.config) throw new Error(`${action} needs a config: -c config.ini`);
  await startBackend(o.backend);
  for (const line of await runActionCommand(action, { config: o.config, application: o.application, overrides })) {
    console.log(line);
  }
}

actionCommand("train", "train the config's application (checkpoints, TensorBoard logs in model_dir)")
  .action((overrides: string[], o: { config?: string; application?: string; backend?: string }) =>
    runConfigured("train", overrides, o)
  );

actionCommand("infer", "run inference with the latest (or inference_iter) checkpoint; outputs in save_seg_dir")
  .action((overrides: string[], o: { config?: string; application?: string; backend?: string }) =>
    runConfigured("infer", overrides, o)
  );

actionCommand(
  "evaluate",
  "-c config.ini: [EVALUATION] metrics of the inferred outputs; or --seg/--ref: segmentation metrics of files/folders",
)
  .option("--seg <path>", "segmentation file or folder")
  .option("--ref <path>", "reference file or folder (paired by subject id)")
  .option("--evaluations <names>", "comma-separated metrics, e.g. dice,hausdorff95_distance")
  .option("--evaluation-units <unit>", "foreground, label or cc (comma-separated for several)", "foreground")
  .option("--seg-postfix <text>", "stripped from segmentation file names to get the subject id", "_niftynet_out")
  .option("--ref-postfix <text>", "stripped from reference file names", "")
  .option(
    "--surface-tolerance <mm>",
    "tolerance of surface_dice in mm (default 1; with -c: surface_tolerance)",
    parseMm,
  )
  .option("--csv <file>", "output CSV")
  .option(
    "--shard <i/n>",
    "evaluate only shard i of n (0 <= i < n); default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX",
  )
  .action(
    async (
      overrides: string[],
      o: Partial<Parameters<typeof evaluateCommand>[0]> & { config?: string; application?: string; backend?: string },
    ) => {
      if (o.config) {
        const tolerance = o.surfaceTolerance === undefined ? [] : ["--surface_tolerance", String(o.surfaceTolerance)];
        return await runConfigured("evaluate", [...overrides, ...tolerance], o);
      }
      const missing = (["seg", "ref", "evaluations", "csv"] as const).filter((k) => !o[k]);
      if (missing.length) {
        throw new Error(`evaluate needs -c config.ini, or ${missing.map((k) => `--${k}`).join(", ")}`);
      }
      for (const line of await evaluateCommand(o as Parameters<typeof evaluateCommand>[0])) console.log(line);
    },
  );

for (const [command, application] of applicationCommands()) {
  program.command(command)
    .description(`${application}: train, infer or evaluate`)
    .argument("<action>", ACTIONS.join(", "))
    .option("-c, --config <file>", "NiftyNet-style config (INI)")
    .addOption(backendOption())
    .argument("[overrides...]", "config overrides: --key value")
    .allowUnknownOption()
    .allowExcessArguments()
    .action((action: string, overrides: string[], o: { config?: string; backend?: string }) =>
      runConfigured(action, overrides, { ...o, application })
    );
}

program.command("cv")
  .description("k-fold cross-validation: train, infer, evaluate every fold; per-fold and summary CSVs (mean ± sd)")
  .requiredOption("-c, --config <file>", "NiftyNet-style config (INI)")
  .requiredOption("--folds <K>", "number of folds (at least 2)", positiveInt)
  .option("-a, --application <name>", "segmentation, regression, classification … (default: the config's section)")
  .option(
    "--shard <i/n>",
    "run only folds k with (k-1) mod n = i; default: from SLURM_ARRAY_TASK_ID/JOB_COMPLETION_INDEX",
  )
  .option("--summary-only", "only gather the finished folds into cv_folds.csv and cv_summary.csv")
  .addOption(backendOption())
  .argument("[overrides...]", "config overrides for every fold: --key value")
  .allowUnknownOption()
  .allowExcessArguments()
  .action(async (
    overrides: string[],
    o: { config: string; folds: number; application?: string; shard?: string; summaryOnly?: boolean; backend?: string },
  ) => {
    await startBackend(o.backend);
    for (const line of await cvCommand({ ...o, overrides })) console.log(line);
  });

program.command("merge")
  .description("gather per-shard CSVs (inferred, evaluation, zoo tables) into one; check every subject is there once")
  .argument("<files...>", "the shard CSVs, e.g. out/inferred_shard_*_of_4.csv")
  .requiredOption("--out <file>", "merged CSV (evaluation tables also get <out>_summary.csv)")
  .option("--expect <file>", "CSV or list naming every expected subject in its first column")
  .action(async (files: string[], o: { out: string; expect?: string }) => {
    for (const line of await mergeCommand(files, o)) console.log(line);
  });

program.command("bundle")
  .description("build the browser bundle of the library and the web app (ES modules) into a folder")
  .option("--out <dir>", "output folder (default web/dist)")
  .option("--no-minify", "keep the output readable")
  .action(async (o: { out?: string; minify: boolean }) => {
    for (const line of await bundleCommand({ outDir: o.out, minify: o.minify })) console.log(line);
  });

program.command("serve")
  .description("serve the web app, its bundle and the zoo's weights (cache or NIFTYTS_ZOO_MIRROR) at one origin")
  .option("--port <n>", "TCP port", (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port, got "${v}"`);
    return n;
  }, 8080)
  .option("--hostname <name>", "interface to listen on", "127.0.0.1")
  .option("--mirror <dir-or-url>", "zoo mirror (default: env NIFTYTS_ZOO_MIRROR, else the public URLs)")
  .action(async (o: { port: number; hostname: string; mirror?: string }) => {
    console.error("checking the browser bundle (web/dist)…");
    const server = await startServer({
      port: o.port,
      hostname: o.hostname,
      mirror: o.mirror,
      onBundle: (built) => console.error(built ? "built the browser bundle" : "the browser bundle is current: reused"),
    });
    console.log(`serving NiftyTS at ${server.url} (Ctrl+C stops)`);
    await server.finished;
  });

program.command("config-keys")
  .description("print every config key with its default, meaning and support status (Markdown)")
  .addOption(backendOption())
  .action((o: { backend?: string }) => {
    checkBackend(o.backend);
    console.log(configReferenceMarkdown());
  });

program.command("networks")
  .description("list the registered networks")
  .addOption(backendOption())
  .action((o: { backend?: string }) => {
    checkBackend(o.backend);
    for (const name of networkNames()) console.log(`${name.padEnd(16)} ${getNetwork(name).description}`);
  });

const zoo = program.command("zoo")
  .description("pretrained brain MRI models (brainchop's MeshNets): list, info, run, export");

const mirrorOption = () =>
  new Option(
    "--from <dir>",
    "mirror folder laid out like upstream models/<dir>/<file> (default: env NIFTYTS_ZOO_MIRROR)",
  );

zoo.command("list")
  .description("table of entries: id, task, classes, download size, cached (in NIFTYTS_CACHE or the platform cache)")
  .action(async () => {
    for (const line of await zooListCommand()) console.log(line);
  });

zoo.command("pull")
  .description("download entries into the cache, verified (size + sha256), resumable; or copy them from a mirror")
  .argument("<ids...>", "zoo entry ids (see zoo list)")
  .addOption(
    new Option("--from <dir|url>", "mirror folder or URL laid out like upstream (default: env NIFTYTS_ZOO_MIRROR)"),
  )
  .action(async (ids: string[], o: { from?: string }) => {
    const lookup = (id: string) => ({ id, files: getZooEntry(id).weights.files });
    const lines = await zooPullCommand(ids, {
      lookup,
      from: o.from,
      onProgress: stderrProgress(),
      onWaiting: (dir) => console.error(`waiting for another zoo pull to finish with ${dir}`),
      afterPull: (id, cacheDir) => writeZooNiftyNetFolder(id, cacheDir),
    });
    for (const line of lines) console.log(line);
  });

zoo.command("info")
  .description("everything in an entry's manifest")
  .argument("<id>", "zoo entry id, e.g. gwm-light")
  .option("--json", "print the manifest as JSON")
  .action((id: string, o: { json?: boolean }) => {
    for (const line of zooInfoCommand(id, o)) console.log(line);
  });

zoo.command("run")
  .description("segment scans end to end: conform, normalise, crop, network, post-process, back to the input grid")
  .argument("<id>", "zoo entry id, e.g. gwm-light")
  .argument("<inputs...>", "NIfTI files, DICOM folders, or folders of NIfTI files (model loaded once)")
  .requiredOption("-o, --out <path>", "output .nii.gz for one input, else a folder")
  .option("--prob", "also write class probabilities (<out>_prob.nii.gz, 4D float32)")
  .option("--mask-input", "also write the input times the brain mask (<out>_masked.nii.gz)")
  .addOption(mirrorOption())
  .addOption(backendOption())
  .option(
    "--shard <i/n>",
    "only shard i of n of the scans, resumable (default: SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX)",
  )
  .action(
    async (
      id: string,
      inputs: string[],
      o: { out: string; prob?: boolean; maskInput?: boolean; from?: string; backend?: string; shard?: string },
    ) => {
      await startBackend(o.backend);
      const lines = await zooRunCommand(id, inputs, {
        out: o.out,
        prob: o.prob,
        maskInput: o.maskInput,
        mirror: o.from,
        shard: o.shard,
      });
      for (const line of lines) console.log(line);
    },
  );

zoo.command("export")
  .description("write an entry's weights as a safetensors checkpoint (DSL names, a restore_from source) or a model")
  .argument("<id>", "zoo entry id")
  .argument("<out>", "output .safetensors file, or folder with --format tfjs|onnx")
  .option("--format <format>", "safetensors, or tfjs / onnx (a model folder, as cli.ts export)", "safetensors")
  .addOption(mirrorOption())
  .addOption(backendOption())
  .action(async (id: string, out: string, o: { from?: string; format: string; backend?: string }) => {
    await startBackend(o.backend);
    for (const line of await zooExportCommand(id, out, { mirror: o.from, format: o.format })) console.log(line);
  });

program.command("demo")
  .description("generate 12 phantoms, train a segmentation network, infer on held-out volumes, evaluate Dice/HD95")
  .option("--out <dir>", "output folder (a previous demo there is replaced)", "demo_output")
  .option("--iterations <n>", "training iterations", positiveInt, 400)
  .option("--png-slices <dir>", "only write 8 generated 2D PNG slices and labels there (docs/examples/unet_2d_png.ini)")
  .addOption(backendOption())
  .action(async (o: { out: string; iterations: number; pngSlices?: string; backend?: string }) => {
    if (o.pngSlices) {
      checkBackend(o.backend);
      const ids = await writePngSliceDataset(o.pngSlices);
      console.log(`wrote ${ids.length} PNG slices and labels (64x64, labels 0-3) in ${o.pngSlices}`);
      return;
    }
    await startBackend(o.backend);
    await demoCommand(o);
  });

try {
  await program.parseAsync(Deno.args, { from: "user" });
} catch (e) {
  if (e instanceof Interrupted) {
    console.error(e.message);
    Deno.exit(e.exitCode);
  }
  console.error(`error: ${(e as Error).message}`);
  if (Deno.env.get("NIFTYTS_DEBUG")) console.error((e as Error).stack);
  Deno.exit(1);
}
