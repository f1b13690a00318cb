/**
 * From a config to subjects: input sections become file lists, roles (`image`, `label` …) name the sections
 * stacked as their channels, and the dataset split picks the subjects of a phase.
 *
 * @module
 */
import { dirname } from "node:path";
import type { InputConfig, NiftyConfig } from "../engine/config/mod.ts";
import {
  findSectionFiles,
  type InputSectionOptions,
  loadOrCreateFoldSplit,
  loadOrCreateSplit,
  matchSubjects,
  parseSplit,
  type Phase,
  type SubjectRecord,
} from "../data/mod.ts";
import type { InterpOrder } from "../geometry/resample.ts";
import { exists } from "../data/_files.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/**
 * Keys acted on by listing subjects ({@link subjectsFor}), the loader options ({@link sectionOptions}) and the
 * training window sizes ({@link windowSizesOf}). Any NiftyNet `loader` name reads the same voxels here (src/io
 * reads every format itself), so the key is accepted whatever it names.
 */
export const INPUT_HONOURED_KEYS: HonouredKeys = {
  SYSTEM: ["dataset_split_file", "fold"],
  TRAINING: ["exclude_fraction_for_validation", "exclude_fraction_for_inference"],
  INPUT: [
    "csv_file",
    "path_to_search",
    "filename_contains",
    "filename_not_contains",
    "filename_removefromid",
    "interp_order",
    "loader",
    "pixdim",
    "axcodes",
    "spatial_window_size",
  ],
};

/** Keys acted on by {@link inferenceSubjects} and the inference window size of {@link windowSizesOf}. */
export const INFERENCE_INPUT_HONOURED_KEYS: HonouredKeys = {
  INFERENCE: ["dataset_to_infer", "spatial_window_size"],
};

/** Role → the input sections stacked as its channels. */
export type Roles = Readonly<Record<string, readonly string[]>>;

/** The loader's view of one input section. */
export function sectionOptions(section: InputConfig): InputSectionOptions {
  return {
    csvFile: section.csv_file || undefined,
    csvDataFile: section.csv_data_file || undefined,
    toOhe: section.to_ohe,
    pathToSearch: section.path_to_search,
    filenameContains: section.filename_contains,
    filenameNotContains: section.filename_not_contains,
    filenameRemovefromid: section.filename_removefromid || undefined,
    interpOrder: section.interp_order as InterpOrder,
    pixdim: section.pixdim,
    axcodes: section.axcodes.length ? section.axcodes.join("") : undefined,
    spatialWindowSize: section.spatial_window_size,
    loader: section.loader || undefined,
  };
}

/** Input sections of the roles, as loader options. */
export function sectionsOf(config: NiftyConfig, roles: Roles): Record<string, InputSectionOptions> {
  const out: Record<string, InputSectionOptions> = {};
  for (const names of Object.values(roles)) {
    for (const n of names) out[n] = sectionOptions(config.inputs[n]);
  }
  return out;
}

/** Roles with at least one section, taken from the application section's role keys. */
export function rolesOf(config: NiftyConfig, roleKeys: readonly string[]): Record<string, string[]> {
  const values = (config.application?.values ?? {}) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const key of roleKeys) {
    const names = values[key] as string[] | undefined;
    if (names && names.length) out[key] = [...names];
  }
  return out;
}

/** Throws unless every listed role names at least one input section. */
export function requireRoles(
  config: NiftyConfig,
  roles: Roles,
  { needed, why = "" }: { needed: readonly string[]; why?: string },
): void {
  const section = config.application?.section ?? "application";
  for (const r of needed) {
    if (!roles[r]?.length) {
      throw new Error(`"${config.source}": [${section}] ${r} must name an input section${why ? ` ${why}` : ""}`);
    }
  }
}

/**
 * Window size per role: `[INFERENCE] spatial_window_size` when given (inference), else the first section's
 * `spatial_window_size`. Fails naming the section when none is set.
 */
export function windowSizesOf(
  config: NiftyConfig,
  roles: Roles,
  options: { inference?: boolean } = {},
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const override = options.inference ? config.inference.spatial_window_size : [];
  for (const [role, names] of Object.entries(roles)) {
    const size = override.length ? override : config.inputs[names[0]].spatial_window_size;
    if (!size.length) {
      throw new Error(`"${config.source}": input section [${names[0]}] (role ${role}) has no spatial_window_size`);
    }
    out[role] = [...size];
  }
  return out;
}

/** Section names of the applications (`SEGMENTATION`, `GAN` …). */
export type ApplicationSection = NonNullable<NiftyConfig["application"]>["section"];

/** The parsed values of application section `S`. */
export type SectionValues<S extends ApplicationSection> = Extract<
  NonNullable<NiftyConfig["application"]>,
  { section: S }
>["values"];

/**
 * The values of the config's application section, which must be `section`; `application` names the application
 * in the error (`the GAN application needs a [GAN] section`).
 */
export function sectionValues<S extends ApplicationSection>(
  config: NiftyConfig,
  section: S,
  { application }: { application: string },
): SectionValues<S> {
  if (config.application?.section !== section) {
    const article = /^[AEIOU]/.test(section) ? "an" : "a";
    throw new Error(`"${config.source}": the ${application} application needs ${article} [${section}] section`);
  }
  return config.application.values as SectionValues<S>;
}

/** Options of {@link subjectsFor}. */
export interface SubjectsForOptions {
  /** Roles every subject must have (others are read when present). */
  readonly required: readonly string[];
  /** Which split phases to keep. */
  readonly phases: readonly Phase[];
}

/**
 * Subjects of the given phases: the roles' sections are listed and matched by subject id; the split comes from
 * `dataset_split_file` (made with the exclude fractions when absent and the action trains, or a `fold` is set;
 * with `fold = k/K` the fold's split beside it). Subjects absent from an existing split file count as `inference`
 * (new cases to segment).
 */
export async function subjectsFor(
  config: NiftyConfig,
  roles: Roles,
  options: SubjectsForOptions & { readonly createSplit: boolean },
): Promise<SubjectRecord[]> {
  const needed = new Set(options.required.flatMap((r) => roles[r] ?? []));
  const lists: Record<string, Map<string, string>> = {};
  for (const names of Object.values(roles)) {
    for (const n of names) {
      if (lists[n]) continue;
      try {
        lists[n] = await findSectionFiles(n, sectionOptions(config.inputs[n]));
      } catch (e) {
        // Sections the phase does not need (e.g. labels at inference) may be missing.
        if (needed.has(n)) throw e;
      }
    }
  }
  requireCsvRows(config, lists, needed);
  const all = matchSubjects(lists, { required: [...needed] });
  const path = config.system.dataset_split_file;
  const ids = all.map((s) => s.id);
  let split: ReadonlyMap<string, Phase>;
  const fold = config.system.fold;
  if (options.createSplit || fold) {
    await Deno.mkdir(dirname(path), { recursive: true });
    split = await loadOrCreateSplit(path, ids, {
      excludeFractionForValidation: config.training.exclude_fraction_for_validation,
      excludeFractionForInference: config.training.exclude_fraction_for_inference,
    });
    // Cross-validation: the fold's own split (validation = fold k), dealt from the base split and kept beside it.
    if (fold) split = await loadOrCreateFoldSplit(path, split, fold);
  } else if (await exists(path)) {
    split = parseSplit(await Deno.readTextFile(path), path);
  } else {
    split = new Map();
  }
  const phaseOf = (id: string): Phase => split.get(id) ?? (options.createSplit ? "training" : "inference");
  return all.filter((s) => options.phases.includes(phaseOf(s.id)));
}

/**
 * Every subject the required image sections list must have a row in each required `csv_data_file` section; the
 * error names the file, the section and the subjects.
 */
function requireCsvRows(config: NiftyConfig, lists: Record<string, Map<string, string>>, needed: Set<string>): void {
  const imageSections = [...needed].filter((n) => lists[n] && !config.inputs[n].csv_data_file);
  for (const n of needed) {
    const file = config.inputs[n].csv_data_file;
    if (!file || !lists[n]) continue;
    const ids = new Set(imageSections.flatMap((s) => [...lists[s].keys()]));
    const missing = [...ids].filter((id) => !lists[n].has(id)).sort();
    if (missing.length) {
      throw new Error(
        `csv_data_file "${file}" (input section [${n}]) has no row for subject "${missing[0]}"` +
          (missing.length > 1 ? ` (and ${missing.length - 1} more: ${missing.slice(1, 4).join(", ")}…)` : ""),
      );
    }
  }
}

/** The `training` subjects of the split (made when absent), every role required; none is an error. */
export async function trainingSubjects(config: NiftyConfig, roles: Roles): Promise<SubjectRecord[]> {
  const training = await subjectsFor(config, roles, {
    required: Object.keys(roles),
    phases: ["training"],
    createSplit: true,
  });
  if (training.length === 0) throw new Error(`"${config.source}": no training subjects (check the dataset split)`);
  return training;
}

/**
 * The subjects inference (and evaluation) runs on: `dataset_to_infer` when set (with `fold`: `validation` unless
 * set); otherwise the `inference` subjects of the split, or every subject when the split marks none.
 */
export async function inferenceSubjects(
  config: NiftyConfig,
  roles: Roles,
  { required }: { required: readonly string[] },
): Promise<
  SubjectRecord[]
> {
  // A cross-validation fold infers its validation subjects unless told otherwise.
  const chosen = config.inference.dataset_to_infer || (config.system.fold ? "validation" : "");
  if (chosen) return await subjectsFor(config, roles, { required, phases: [chosen], createSplit: false });
  const marked = await subjectsFor(config, roles, { required, phases: ["inference"], createSplit: false });
  if (marked.length) return marked;
  return await subjectsFor(config, roles, {
    required,
    phases: ["training", "validation", "inference"],
    createSplit: false,
  });
}

/** Interpolation order per role (the first section's `interp_order`), for the resize sampler. */
export function interpOrders(config: NiftyConfig, roles: Roles): Record<string, InterpOrder> {
  return Object.fromEntries(
    Object.entries(roles).map(([r, names]) => [r, config.inputs[names[0]].interp_order as InterpOrder]),
  );
}
