/**
 * `cli.ts train|infer|evaluate -c config.ini [-a application] [--key value …]` and the NiftyNet-style aliases
 * (`segment train …` = `net_segment train …`, from the engine's application registry): runs the driver's action and returns
 * the lines that tell the user where things went.
 *
 * @module
 */
import { join } from "node:path";
import "../applications/mod.ts";
import { type Application, registerApplication, registeredApplications } from "../engine/application.ts";
import { type ActionResult, runAction, signalExitCode } from "../engine/mod.ts";
import { importPlugin, isModuleReference } from "../util/plugin.ts";
import { formatShard, parseShard, shardFileName, shardFromEnv } from "../util/shard.ts";

/** The driver actions. */
export type Action = "train" | "infer" | "evaluate";

/** The actions, for CLI choices. */
export const ACTIONS: readonly Action[] = ["train", "infer", "evaluate"];

/**
 * CLI command → application name: every registered application's name and aliases (`segmentation`, `segment`,
 * `net_segment` …), from the engine's registry (the one alias table).
 */
export function applicationCommands(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const app of registeredApplications()) {
    for (const command of [app.name, ...(app.aliases ?? [])]) out.set(command, app.name);
  }
  return out;
}

/** Options of {@link runActionCommand}. */
export interface RunActionCommandOptions {
  /** The config file (`-c`). */
  readonly config: string;
  /**
   * Application name or alias (`-a`), or a module path/URL whose `application` (or default) export is an
   * {@link Application}; default: the config's application section.
   */
  readonly application?: string;
  /** `--key value` overrides, argv style. */
  readonly overrides?: readonly string[];
  /** Progress lines (default `console.log`). */
  readonly log?: (line: string) => void;
}

/**
 * Training was stopped by SIGINT/SIGTERM (a checkpoint was written): the message says where and how to resume; the
 * CLI prints it and exits with `exitCode` (130 or 143), so scripts and schedulers can tell it from a finished run.
 */
export class Interrupted extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = "Interrupted";
  }
}

/** The command that resumes an interrupted run: the same config and overrides, with `--starting_iter -1`. */
function resumeCommand(options: RunActionCommandOptions): string {
  const kept: string[] = [];
  const overrides = options.overrides ?? [];
  for (let i = 0; i < overrides.length; i++) {
    if (/^--(TRAINING\.)?starting_iter(=|$)/.test(overrides[i])) {
      if (!overrides[i].includes("=")) i++;
      continue;
    }
    kept.push(overrides[i]);
  }
  const app = options.application ? ` -a ${options.application}` : "";
  return `deno run -A cli.ts train -c ${options.config}${app}${kept.map((o) => ` ${o}`).join("")} --starting_iter -1`;
}

/** Runs one action and returns the summary lines to print; throws {@link Interrupted} when a signal stopped training. */
export async function runActionCommand(action: string, options: RunActionCommandOptions): Promise<string[]> {
  if (!ACTIONS.includes(action as Action)) {
    throw new Error(`unknown action "${action}": expected one of ${ACTIONS.join(", ")}`);
  }
  const application = options.application && isModuleReference(options.application)
    ? await loadApplication(options.application)
    : options.application;
  const overrides = [...(options.overrides ?? [])];
  if (action !== "train") overrides.push(...shardOverride(overrides, Deno.env.toObject(), options.log));
  const result = await runAction(action as Action, options.config, overrides, {
    application,
    log: options.log,
  });
  if (result.action === "train" && result.result.stoppedBy === "signal") {
    const { iteration, checkpoint, signal = "SIGINT" } = result.result;
    throw new Interrupted(
      `interrupted at iteration ${iteration} by ${signal}; checkpoint ${checkpoint}; ` +
        `resume with: ${resumeCommand(options)}`,
      signalExitCode(signal),
    );
  }
  return await summary(result);
}

/**
 * `["--shard", "i/n"]` from the schedulers' environment when the overrides name no shard (see
 * `src/util/shard.ts`), printing where it came from; `[]` otherwise.
 */
export function shardOverride(
  overrides: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  log: (line: string) => void = console.log,
): string[] {
  if (overrides.some((o) => o === "--shard" || o.startsWith("--shard="))) return [];
  const found = shardFromEnv(env);
  if (!found) return [];
  log(`shard ${formatShard(found.shard)} (from ${found.source})`);
  return ["--shard", formatShard(found.shard)];
}

/** Imports an application plugin (relative paths from the working directory) and registers it. */
export async function loadApplication(specifier: string): Promise<Application> {
  const mod = await importPlugin(specifier, { what: "application module" });
  const app = (mod.application ?? mod.default) as Application | undefined;
  if (!app || typeof app.setup !== "function" || typeof app.name !== "string" || typeof app.section !== "string") {
    throw new Error(`application module "${specifier}" must export an application { name, section, setup }`);
  }
  registerApplication(app);
  return app;
}

async function summary(r: ActionResult): Promise<string[]> {
  const modelDir = r.config.system.model_dir;
  const shard = r.config.system.shard;
  const shardName = (name: string) => shard ? shardFileName(name, parseShard(shard)) : name;
  if (r.action === "train") {
    return [
      `trained to iteration ${r.result.iteration} (${r.result.stoppedBy}); checkpoint ${r.result.checkpoint}`,
      `TensorBoard logs: tensorboard --logdir ${join(modelDir, "logs")}`,
    ];
  }
  if (r.action === "infer") {
    const dir = r.config.inference.save_seg_dir;
    return [`outputs in ${dir} (list: ${join(dir, shardName("inferred.csv"))})`];
  }
  const csv = join(r.config.evaluation.save_csv_dir, shardName("evaluation.csv"));
  const lines = [`evaluation: ${csv}`];
  const summaryPath = csv.replace(/\.csv$/, "_summary.csv");
  try {
    const rows = (await Deno.readTextFile(summaryPath)).trim().split("\n");
    const header = rows[0].split(",");
    for (const row of rows.slice(1).filter((l) => l.startsWith("mean,"))) {
      const cells = row.split(",");
      const values = header.slice(2).map((name, i) => `${name} ${Number(cells[i + 2]).toPrecision(4)}`);
      lines.push(`  mean ${cells[1] || "all"}: ${values.join(", ")}`);
    }
  } catch {
    // Classification writes one row per run, no summary means.
  }
  return lines;
}
