/**
 * `deno task demo`: the whole platform on generated data, through the same path a user's config takes.
 *
 * 1. Writes 12 synthetic 3D phantoms (`demo_data.ts`: three structures, partial volume, bias field, Rician
 *    noise, 1.25×1.25×3 mm voxels) as `.nii.gz` with their label maps.
 * 2. Writes a NiftyNet-style `config.ini` (segmentation, ToyNet, whitening, 4 subjects held out for inference).
 * 3. Trains through the driver (progress lines, checkpoints, TensorBoard logs), runs grid inference with
 *    aggregation on the held-out volumes, and evaluates Dice and HD95 per structure.
 * 4. Writes the network graph (graph.html, graph.json) and prints where everything is.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { recordGraph } from "../dsl/mod.ts";
import { writeGraphFiles } from "../viz/mod.ts";
import { ToyNet } from "../../networks/mod.ts";
import { runActionCommand } from "./run_action.ts";
import { PHANTOM_LABELS, writePhantomDataset } from "./demo_data.ts";

export { makePhantom } from "./demo_data.ts";

/** Options of {@link demoCommand}. */
export interface DemoOptions {
  /** Output folder (default `demo_output`); a previous demo run there is replaced. */
  readonly out?: string;
  /** Training iterations (default 400). */
  readonly iterations?: number;
  /** Number of phantoms (default 12; a third are held out). */
  readonly subjects?: number;
  /** Phantom size in voxels (default 64×64×16) and training window (default 32×32×16). */
  readonly shape?: readonly [number, number, number];
  readonly window?: readonly [number, number, number];
  /** Print every n-th progress line (default 25). */
  readonly progressEvery?: number;
  readonly log?: (line: string) => void;
}

/** What the demo measured. */
export interface DemoResult {
  /** Mean held-out Dice and HD95 (mm) per structure label. */
  readonly dice: Readonly<Record<number, number>>;
  readonly hd95: Readonly<Record<number, number>>;
  readonly seconds: number;
  /** Where things are. */
  readonly paths: {
    readonly config: string;
    readonly outputs: string;
    readonly csv: string;
    readonly logs: string;
    readonly graph: string;
  };
}

const MARKER = ".niftyts_demo";

/** The demo's config (paths relative to the config file). */
export function demoConfig(
  options: { iterations: number; window: readonly number[]; shape: readonly number[] },
): string {
  const w = `(${options.window.join(", ")})`;
  return `# NiftyTS demo: segmentation of three structures in synthetic anisotropic 3D phantoms.
# Re-run any step: deno run -A cli.ts segment train|infer|evaluate -c <this file> [--key value …]

[T1]
path_to_search = data
filename_contains = T1
spatial_window_size = ${w}
interp_order = 1

[label]
path_to_search = data
filename_contains = label
spatial_window_size = ${w}
interp_order = 0

[SYSTEM]
model_dir = model
random_seed = 1

[NETWORK]
name = toynet
batch_size = 2
whitening = True
volume_padding_size = 0
queue_length = 8

[TRAINING]
optimiser = adam
lr = 0.01
loss_type = DicePlusXEnt
sample_per_volume = 4
max_iter = ${options.iterations}
save_every_n = ${Math.max(1, Math.ceil(options.iterations / 2))}
tensorboard_every_n = 10
exclude_fraction_for_inference = 0.34

[INFERENCE]
spatial_window_size = (${options.shape.join(", ")})
border = (0, 0, 0)
output_postfix = _niftynet_out

[EVALUATION]
evaluations = dice,hausdorff95_distance

[SEGMENTATION]
image = T1
label = label
num_classes = ${PHANTOM_LABELS.length + 1}
evaluation_units = label
`;
}

async function prepareFolder(out: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = [...Deno.readDirSync(out)].map((e) => e.name);
  } catch {
    // A new folder.
  }
  if (entries.length && !entries.includes(MARKER)) {
    throw new Error(`demo: "${out}" exists and was not made by the demo; choose another --out`);
  }
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(join(out, MARKER), "made by `niftyts demo`; the next demo run replaces this folder\n");
}

/** Runs the demo (see the module doc) and returns what it measured. */
export async function demoCommand(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.log(line));
  const out = resolve(options.out ?? "demo_output");
  const iterations = options.iterations ?? 400;
  const shape = options.shape ?? [64, 64, 16];
  const window = options.window ?? [32, 32, 16];
  await prepareFolder(out);

  const count = options.subjects ?? 12;
  await writePhantomDataset(join(out, "data"), { count, shape });
  log(
    `data: ${count} synthetic phantoms ${shape.join("×")} voxels of 1.25×1.25×3 mm (3 structures, partial volume, ` +
      `bias field, Rician noise) in ${join(out, "data")}`,
  );
  const config = join(out, "config.ini");
  await Deno.writeTextFile(config, demoConfig({ iterations, window, shape }));
  log(`config: ${config}`);

  const every = options.progressEvery ?? 25;
  const quiet = (line: string) => {
    const m = /^iter (\d+)\//.exec(line);
    if (!m || Number(m[1]) % every === 0 || Number(m[1]) === iterations) log(line);
  };
  for (const action of ["train", "infer", "evaluate"]) {
    for (const line of await runActionCommand(action, { config, application: "segmentation", log: quiet })) log(line);
  }

  const model = join(out, "model");
  const csv = join(model, "evaluation", "evaluation.csv");
  const summary = (await Deno.readTextFile(join(model, "evaluation", "evaluation_summary.csv"))).trim().split("\n");
  const dice: Record<number, number> = {}, hd95: Record<number, number> = {};
  for (const row of summary.filter((r) => r.startsWith("mean,"))) {
    const [, label, d, h] = row.split(",");
    dice[Number(label)] = Number(d);
    hd95[Number(label)] = Number(h);
  }
  const names = ["", "shell", "core", "nodule"];
  for (const l of PHANTOM_LABELS) {
    log(`held-out structure ${l} (${names[l]}): Dice ${dice[l]?.toFixed(3)}, HD95 ${hd95[l]?.toFixed(2)} mm`);
  }

  const network = new ToyNet({ numClasses: PHANTOM_LABELS.length + 1 });
  const graph = await writeGraphFiles(recordGraph(network, [[1, ...window, 1]]), out);
  const seconds = (performance.now() - started) / 1000;
  const paths = {
    config,
    outputs: join(model, "output"),
    csv,
    logs: join(model, "logs"),
    graph: graph.html,
  };
  log(`outputs: ${paths.outputs} (segmentations on each input's grid and affine)`);
  log(`evaluation CSV: ${csv}`);
  log(`TensorBoard: tensorboard --logdir ${paths.logs}`);
  log(`network graph: ${paths.graph} (open in a browser)`);
  log(`demo finished in ${seconds.toFixed(0)} s`);
  return { dice, hd95, seconds, paths };
}
