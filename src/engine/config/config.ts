/**
 * The effective configuration of a run: a NiftyNet INI file (sections SYSTEM, NETWORK, TRAINING, INFERENCE,
 * EVALUATION, one application section, and input sections), command-line overrides, and NiftyNet's defaults,
 * converted to typed, validated values.
 *
 * Rules (NiftyNet 0.6 unless noted):
 * - Option names are case-insensitive (lower-cased); system and application section names are matched
 *   case-insensitively; every other section is an input source.
 * - An unknown key is an error naming section and key with a "did you mean" suggestion. A known key in the wrong
 *   system section (e.g. `queue_length` under `[SYSTEM]`, as some NiftyNet examples have it) is moved to the one
 *   section that defines it, with a warning (NiftyNet silently ignored it there).
 * - Overrides `--key value` apply to every system/application section defining `key` (NiftyNet's rule);
 *   `--section.key value` (NiftyTS) also reaches input sections.
 * - Relative paths: `model_dir`, `csv_file`, `path_to_search` and `restore_from` resolve against the config file's
 *   folder (`model_dir` defaults to `<config folder>/model`, NiftyNet's parser); `dataset_split_file`,
 *   `histogram_ref_file`, `save_seg_dir` and `save_csv_dir` against `model_dir` (NiftyNet's config spec). With
 *   `fold = k/K`, `model_dir` becomes `<model_dir>/fold_k_of_K` and everything but `dataset_split_file` follows it.
 * - A key we do not support yet fails when set to anything but its default.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "../../deps.ts";
import { closestMatch } from "../../util/suggest.ts";
import { foldDirName } from "../../data/reader/dataset_split.ts";
import { type IniEntry, parseIni } from "./ini.ts";
import {
  type AnyKeySpec,
  APPLICATION_SECTIONS,
  type ApplicationSection,
  type AUTOENCODER_KEYS,
  type CLASSIFICATION_KEYS,
  EVALUATION_KEYS,
  type GAN_KEYS,
  INFERENCE_KEYS,
  INPUT_KEYS,
  NETWORK_KEYS,
  type REGRESSION_KEYS,
  type SectionValues,
  type SEGMENTATION_KEYS,
  SYSTEM_KEYS,
  SYSTEM_SECTIONS,
  TRAINING_KEYS,
  UNSUPPORTED_APPLICATION_SECTIONS,
} from "./keys.ts";
import { type Converted, splitList, toBool, toFloat, toFloatList, toInt, toIntList, unquote } from "./values.ts";

/** `[SYSTEM]` values. */
export type SystemConfig = SectionValues<typeof SYSTEM_KEYS>;
/** `[NETWORK]` values. */
export type NetworkConfig = SectionValues<typeof NETWORK_KEYS>;
/** `[TRAINING]` values. */
export type TrainingConfig = SectionValues<typeof TRAINING_KEYS>;
/** `[INFERENCE]` values. */
export type InferenceConfig = SectionValues<typeof INFERENCE_KEYS>;
/** `[EVALUATION]` values. */
export type EvaluationConfig = SectionValues<typeof EVALUATION_KEYS>;
/** Values of one input section. */
export type InputConfig = SectionValues<typeof INPUT_KEYS>;

/** The application section, typed by its name. */
export type ApplicationConfig =
  | { readonly section: "SEGMENTATION"; readonly values: SectionValues<typeof SEGMENTATION_KEYS> }
  | { readonly section: "REGRESSION"; readonly values: SectionValues<typeof REGRESSION_KEYS> }
  | { readonly section: "CLASSIFICATION"; readonly values: SectionValues<typeof CLASSIFICATION_KEYS> }
  | { readonly section: "AUTOENCODER"; readonly values: SectionValues<typeof AUTOENCODER_KEYS> }
  | { readonly section: "GAN"; readonly values: SectionValues<typeof GAN_KEYS> };

/** The full effective configuration. Paths are absolute. */
export interface NiftyConfig {
  /** The config file (absolute), or a description of where the text came from. */
  readonly source: string;
  /** Folder relative paths resolved against (absolute). */
  readonly configDir: string;
  readonly system: SystemConfig;
  readonly network: NetworkConfig;
  readonly training: TrainingConfig;
  readonly inference: InferenceConfig;
  readonly evaluation: EvaluationConfig;
  /** Absent when the file has no application section (and none was asked for). */
  readonly application?: ApplicationConfig;
  /** Input sections by name, in file order. */
  readonly inputs: Readonly<Record<string, InputConfig>>;
  /** Things that were accepted but deserve a look (relocated keys). */
  readonly warnings: readonly string[];
}

/** Command-line overrides: `{ lr: "0.1", "T1.pixdim": "1,1,1" }` or argv-style `["--lr", "0.1", "--max_iter=5"]`. */
export type ConfigOverrides = Readonly<Record<string, string>> | readonly string[];

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Named in messages; its folder is the base of relative paths. */
  readonly source?: string;
  /** Base of relative paths (default: the folder of `source`, else the working directory). */
  readonly configDir?: string;
  readonly overrides?: ConfigOverrides;
  /** The application section required (`SEGMENTATION`, or its name `segmentation`). */
  readonly application?: string;
}

/**
 * The application section a name stands for (`segmentation` or `SEGMENTATION` → `SEGMENTATION`). Aliases such as
 * `net_segment` belong to the application registry (`src/engine/application.ts`), which resolves them first.
 */
export function applicationSection(name: string): ApplicationSection {
  const upper = name.toUpperCase();
  if (upper in APPLICATION_SECTIONS) return upper as ApplicationSection;
  const known = Object.keys(APPLICATION_SECTIONS).map((s) => s.toLowerCase());
  const guess = closestMatch(name, known);
  throw new Error(
    `unknown application "${name}"` + (guess ? `; did you mean "${guess}"?` : "") + ` (known: ${known.join(", ")})`,
  );
}

/** Reads and parses a config file (see {@link parseConfig}). */
export async function loadConfig(
  path: string,
  options: Omit<ParseConfigOptions, "source" | "configDir"> = {},
): Promise<NiftyConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await Deno.readTextFile(absolute);
  } catch (e) {
    throw new Error(`cannot read config "${path}": ${e instanceof Error ? e.message : e}`, { cause: e });
  }
  return parseConfig(text, { ...options, source: absolute });
}

type Tables = Record<string, Record<string, AnyKeySpec>>;

/**
 * Parses config text into the effective configuration.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const c = parseConfig("[NETWORK]\nname = toynet\n[TRAINING]\nlr = 0.1\n", { overrides: ["--max_iter", "5"] });
 * // c.training.lr === 0.1, c.training.max_iter === 5, c.network.batch_size === 2 (NiftyNet's default)
 * ```
 */
export function parseConfig(text: string, options: ParseConfigOptions = {}): NiftyConfig {
  const source = options.source ?? "config";
  const where = `"${source}"`;
  const configDir = resolve(options.configDir ?? (options.source ? dirname(resolve(options.source)) : Deno.cwd()));
  const sections = parseIni(text, source);

  // Which application section applies.
  const present = sections.map((s) => s.name.toUpperCase());
  for (const name of UNSUPPORTED_APPLICATION_SECTIONS) {
    if (present.includes(name)) throw new Error(`${where}: the [${name}] application is not supported yet`);
  }
  const appSections = present.filter((n) => n in APPLICATION_SECTIONS) as ApplicationSection[];
  let app: ApplicationSection | undefined;
  if (options.application) {
    app = applicationSection(options.application);
    const others = appSections.filter((s) => s !== app);
    if (others.length) {
      throw new Error(`${where}: application ${app} was asked for but the file has [${others.join("], [")}]`);
    }
  } else if (appSections.length > 1) {
    throw new Error(`${where}: several application sections ([${appSections.join("], [")}]); keep one`);
  } else app = appSections[0];

  const tables: Tables = { ...SYSTEM_SECTIONS };
  if (app) tables[app] = APPLICATION_SECTIONS[app];
  const raw: Record<string, Map<string, { text: string; origin: string }>> = {};
  for (const name of Object.keys(tables)) raw[name] = new Map();
  const inputs: Record<string, Map<string, { text: string; origin: string }>> = {};
  const warnings: string[] = [];

  for (const section of sections) {
    const upper = section.name.toUpperCase();
    if (upper in tables) {
      for (const entry of section.entries) placeSystemEntry(upper, entry);
    } else if (upper in APPLICATION_SECTIONS) {
      // unreachable: other application sections were refused above
    } else {
      const name = section.name.replace(/[^0-9a-zA-Z_\- ]+/g, "").trim();
      if (name in inputs) throw new Error(`${where}: input section [${name}] appears twice`);
      inputs[name] = new Map();
      for (const e of section.entries) {
        if (!(e.key in INPUT_KEYS)) throw new Error(unknownKey(where, name, e.key, INPUT_KEYS, tables));
        inputs[name].set(e.key, { text: e.value, origin: `${where} line ${e.line}` });
      }
    }
  }

  function placeSystemEntry(sectionName: string, entry: IniEntry): void {
    const origin = `${where} line ${entry.line}`;
    if (entry.key in tables[sectionName]) {
      raw[sectionName].set(entry.key, { text: entry.value, origin });
      return;
    }
    const homes = Object.keys(tables).filter((s) => entry.key in tables[s]);
    if (homes.length === 1) {
      if (raw[homes[0]].has(entry.key)) {
        throw new Error(`${origin}: key "${entry.key}" of [${sectionName}] belongs to [${homes[0]}], set there too`);
      }
      warnings.push(`${origin}: key "${entry.key}" belongs to [${homes[0]}], not [${sectionName}]; moved there`);
      raw[homes[0]].set(entry.key, { text: entry.value, origin });
      return;
    }
    throw new Error(unknownKey(where, sectionName, entry.key, tables[sectionName], tables));
  }

  // Command-line overrides.
  for (const [key, value] of overridePairs(options.overrides ?? {})) {
    const origin = `command line --${key}`;
    const dot = key.indexOf(".");
    if (dot > 0) {
      const sectionName = key.slice(0, dot), k = key.slice(dot + 1).toLowerCase();
      const sys = Object.keys(tables).find((s) => s === sectionName.toUpperCase());
      if (sys) {
        if (!(k in tables[sys])) throw new Error(unknownKey("command line", sys, k, tables[sys], tables));
        raw[sys].set(k, { text: value, origin });
        continue;
      }
      const input = Object.keys(inputs).find((s) => s === sectionName) ??
        Object.keys(inputs).find((s) => s.toLowerCase() === sectionName.toLowerCase());
      if (!input) {
        throw new Error(`command line --${key}: no section [${sectionName}] in ${where}`);
      }
      if (!(k in INPUT_KEYS)) throw new Error(unknownKey("command line", input, k, INPUT_KEYS, tables));
      inputs[input].set(k, { text: value, origin });
      continue;
    }
    const k = key.toLowerCase();
    const homes = Object.keys(tables).filter((s) => k in tables[s]);
    if (homes.length === 0) {
      if (k in INPUT_KEYS) {
        throw new Error(`command line --${key}: "${k}" is an input section key; use --<section>.${k}`);
      }
      const all = Object.values(tables).flatMap((t) => Object.keys(t));
      const guess = closestMatch(k, all);
      throw new Error(`command line: unknown key "--${key}"` + (guess ? `; did you mean "--${guess}"?` : ""));
    }
    for (const s of homes) raw[s].set(k, { text: value, origin });
  }

  // Convert and validate.
  const values: Record<string, Record<string, unknown>> = {};
  for (const [name, table] of Object.entries(tables)) values[name] = convertSection(name, table, raw[name]);
  const inputValues: Record<string, InputConfig> = {};
  for (const [name, entries] of Object.entries(inputs)) {
    inputValues[name] = convertSection(name, INPUT_KEYS, entries) as InputConfig;
  }

  // Paths.
  const system = values.SYSTEM as SystemConfig;
  system.model_dir = system.model_dir ? resolvePath(system.model_dir, configDir) : resolve(configDir, "model");
  // A cross-validation fold keeps its checkpoints, logs and outputs in <model_dir>/fold_k_of_K; the dataset split
  // (shared by every fold) stays in model_dir.
  const sharedDir = system.model_dir;
  if (system.fold) system.model_dir = join(sharedDir, foldDirName(system.fold));
  const modelDir = system.model_dir;
  const resolveIn = (table: Record<string, AnyKeySpec>, v: Record<string, unknown>) => {
    for (const [key, spec] of Object.entries(table)) {
      if (!spec.relativeTo || key === "model_dir") continue;
      const base = spec.relativeTo === "config" ? configDir : key === "dataset_split_file" ? sharedDir : modelDir;
      if (spec.kind === "path" && v[key]) v[key] = resolvePath(v[key] as string, base);
      if (spec.kind === "paths") v[key] = (v[key] as string[]).map((p) => resolvePath(p, base));
    }
  };
  for (const [name, table] of Object.entries(tables)) resolveIn(table, values[name]);
  for (const v of Object.values(inputValues)) resolveIn(INPUT_KEYS, v);

  let application: ApplicationConfig | undefined;
  if (app) {
    application = { section: app, values: values[app] } as ApplicationConfig;
    checkRoles(where, application, inputValues);
  }
  return {
    source,
    configDir,
    system,
    network: values.NETWORK as NetworkConfig,
    training: values.TRAINING as TrainingConfig,
    inference: values.INFERENCE as InferenceConfig,
    evaluation: values.EVALUATION as EvaluationConfig,
    application,
    inputs: inputValues,
    warnings,
  };
}

function checkRoles(where: string, app: ApplicationConfig, inputs: Record<string, InputConfig>): void {
  const table = APPLICATION_SECTIONS[app.section] as Record<string, AnyKeySpec>;
  const values = app.values as Record<string, unknown>;
  for (const [key, spec] of Object.entries(table)) {
    if (spec.kind !== "strings" || !spec.help.startsWith("input section")) continue;
    const names = values[key] as string[];
    values[key] = names.map((n) => {
      if (n in inputs) return n;
      const folded = Object.keys(inputs).find((s) => s.toLowerCase() === n.toLowerCase());
      if (folded) return folded;
      const guess = closestMatch(n, Object.keys(inputs));
      throw new Error(
        // Escaped: a multi-line value (an indented continuation line) must not break the one-line message.
        `${where}: [${app.section}] ${key} names input section [${JSON.stringify(n).slice(1, -1)}], which the file ` +
          `does not have` +
          (guess ? `; did you mean [${guess}]?` : ""),
      );
    });
  }
}

function unknownKey(
  where: string,
  section: string,
  key: string,
  table: Record<string, AnyKeySpec>,
  tables: Tables,
): string {
  const elsewhere = Object.keys(tables).filter((s) => s !== section && key in tables[s]);
  let hint = "";
  const guess = closestMatch(key, Object.keys(table)) ??
    Object.keys(table).find((k) => k.split("_").sort().join() === key.split("_").sort().join());
  if (guess) hint = `; did you mean "${guess}"?`;
  else if (!elsewhere.length) {
    // A key of another section (or of an application this config does not use) close to the typo.
    const others = [
      ...Object.entries({ ...tables, ...APPLICATION_SECTIONS, INPUT: INPUT_KEYS } as Tables).flatMap(([s, t]) =>
        Object.keys(t).map((k) => [k, s] as const)
      ),
    ];
    // Edit distance first, then the same words in another order (`min_ratio_sampling` → `min_sampling_ratio`).
    const words = (k: string) => k.split("_").sort().join("_");
    const near = closestMatch(key, others.map(([k]) => k)) ?? others.find(([k]) => words(k) === words(key))?.[0];
    if (near) hint = `; did you mean "${near}" (a key of [${others.find(([k]) => k === near)![1]}])?`;
  }
  return `${where}: unknown key "${key}" in [${section}]` + hint +
    (elsewhere.length ? ` ("${key}" belongs to [${elsewhere.join("], [")}])` : "");
}

function overridePairs(overrides: ConfigOverrides): [string, string][] {
  if (!Array.isArray(overrides)) return Object.entries(overrides as Record<string, string>);
  return parseOverrideArgs(overrides as readonly string[]);
}

/**
 * Splits argv-style overrides `["--lr", "0.1", "--max_iter=5"]` into key/value pairs. A value may be empty
 * (`--vars_to_freeze=`); a flag without a value is an error.
 */
export function parseOverrideArgs(args: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--") || arg.length < 3) {
      throw new Error(`command line: expected --key value, got "${arg}"`);
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      out.push([arg.slice(2, eq), arg.slice(eq + 1)]);
      continue;
    }
    if (i + 1 >= args.length) throw new Error(`command line: "${arg}" has no value`);
    out.push([arg.slice(2), args[++i]]);
  }
  return out;
}

function convertSection(
  section: string,
  table: Record<string, AnyKeySpec>,
  entries: Map<string, { text: string; origin: string }>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const entry = entries.get(key);
    if (!entry) {
      out[key] = structuredClone(spec.default);
      continue;
    }
    // JSON quoting keeps the message on one line whatever the value holds (continuation lines, control characters).
    const what = `${entry.origin}: [${section}] ${key} = ${JSON.stringify(entry.text)}`;
    const converted = convertText(spec, entry.text);
    if (!converted.ok) throw new Error(`${what}: expected ${converted.expected}`);
    const checked = spec.schema.safeParse(converted.value);
    if (!checked.success) throw new Error(`${what}: ${describeIssue(checked.error)}`);
    const value = checked.data;
    if (spec.unsupported && JSON.stringify(value) !== JSON.stringify(spec.default)) {
      const why = spec.unsupported(value);
      if (why) throw new Error(`${what}: ${why}`);
    }
    out[key] = value;
  }
  return out;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue.code === "invalid_value" && "values" in issue) {
    return `expected one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  }
  return issue.message.replace(/^./, (c) => c.toLowerCase());
}

function convertText(spec: AnyKeySpec, text: string): Converted<unknown> {
  const t = spec.lowercase ? text.toLowerCase() : text;
  switch (spec.kind) {
    case "int":
      return toInt(t);
    case "float":
      return toFloat(t);
    case "bool":
      return toBool(t);
    case "string":
    case "path":
      return { ok: true, value: unquote(t) };
    case "strings":
    case "paths":
      return { ok: true, value: splitList(t) };
    case "ints": {
      const v = toIntList(t);
      // A single number stands for all three spatial dims (NiftyNet's spatialnumarray shortcut).
      if (v.ok && v.value.length === 1 && Array.isArray(spec.default) && spec.default.length === 3) {
        return { ok: true, value: [v.value[0], v.value[0], v.value[0]] };
      }
      return v;
    }
    case "floats":
      return toFloatList(t);
  }
}

function resolvePath(path: string, base: string): string {
  const home = Deno.env.get("HOME");
  const expanded = home && (path === "~" || path.startsWith("~/")) ? home + path.slice(1) : path;
  return isAbsolute(expanded) ? resolve(expanded) : resolve(base, expanded);
}

// ---- JSON round trip ----

/** Tag of the JSON form, for recognising saved configs. */
export const CONFIG_JSON_FORMAT = "niftyts-config-1";

/** The effective config as plain JSON (saved beside each checkpoint). */
export function configToJson(config: NiftyConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ format: CONFIG_JSON_FORMAT, ...config }));
}

function sectionSchema(table: Record<string, AnyKeySpec>) {
  return z.object(Object.fromEntries(Object.entries(table).map(([k, s]) => [k, s.schema]))).strict();
}

/** Reads back {@link configToJson}'s output, validating every value; errors name the section and key. */
export function configFromJson(json: unknown, { source = "saved config" }: { source?: string } = {}): NiftyConfig {
  const top = z.object({
    format: z.literal(CONFIG_JSON_FORMAT),
    source: z.string(),
    configDir: z.string(),
    system: sectionSchema(SYSTEM_KEYS),
    network: sectionSchema(NETWORK_KEYS),
    training: sectionSchema(TRAINING_KEYS),
    inference: sectionSchema(INFERENCE_KEYS),
    evaluation: sectionSchema(EVALUATION_KEYS),
    application: z.union(
      Object.entries(APPLICATION_SECTIONS).map(([name, table]) =>
        z.object({ section: z.literal(name), values: sectionSchema(table) }).strict()
      ) as unknown as [z.ZodTypeAny, z.ZodTypeAny],
    ).optional(),
    inputs: z.record(z.string(), sectionSchema(INPUT_KEYS)),
    warnings: z.array(z.string()),
  }).strict();
  const parsed = top.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${source}: invalid config at ${issue.path.join(".") || "top level"}: ${describeIssue(parsed.error)}`,
    );
  }
  const { format: _format, ...config } = parsed.data;
  return config as unknown as NiftyConfig;
}

// ---- keys an application honours ----

/** Keys the driver itself implements, whatever the application (see src/engine/honoured_keys.ts). */
export const DRIVER_KEYS: Readonly<Record<string, readonly string[]>> = {
  SYSTEM: [
    "model_dir",
    "random_seed",
    "num_gpus",
    "cuda_devices",
    "event_handler",
    "iteration_generator",
  ],
  NETWORK: ["decay", "reg_type"],
  TRAINING: [
    "optimiser",
    "lr",
    "lr_schedule",
    "lr_decay_every",
    "lr_decay_factor",
    "lr_poly_power",
    "starting_iter",
    "save_every_n",
    "tensorboard_every_n",
    "max_iter",
    "max_checkpoints",
    "validation_every_n",
    "validation_max_iter",
    "vars_to_restore",
    "vars_to_freeze",
    "restore_scope_mapping",
    "restore_from",
    "patience",
    "early_stopping_mode",
  ],
  INFERENCE: ["inference_iter"],
};

/** Settings that differ from their defaults, as `SECTION.key` (input sections as `INPUT.key`). */
export function nonDefaultSettings(config: NiftyConfig): string[] {
  const out: string[] = [];
  const scan = (name: string, table: Record<string, AnyKeySpec>, values: Record<string, unknown>) => {
    for (const [key, spec] of Object.entries(table)) {
      let def: unknown = spec.default;
      // Paths were resolved on parsing; compare with the default resolved the same way.
      if (key === "model_dir") def = resolve(config.configDir, "model");
      else if (spec.kind === "path" && spec.default) {
        // With a fold, model_dir is <model_dir>/fold_k_of_K but the dataset split stays in the shared folder.
        const modelDir = key === "dataset_split_file" && config.system.fold
          ? dirname(config.system.model_dir)
          : config.system.model_dir;
        def = resolve(spec.relativeTo === "model" ? modelDir : config.configDir, spec.default);
      }
      if (JSON.stringify(values[key]) !== JSON.stringify(def)) out.push(`${name}.${key}`);
    }
  };
  for (const [name, table] of Object.entries(SYSTEM_SECTIONS)) {
    scan(name, table, config[name.toLowerCase() as "system"] as unknown as Record<string, unknown>);
  }
  if (config.application) {
    const table = APPLICATION_SECTIONS[config.application.section];
    scan(config.application.section, table, config.application.values as Record<string, unknown>);
  }
  for (const values of Object.values(config.inputs)) scan("INPUT", INPUT_KEYS, values);
  return [...new Set(out)];
}
