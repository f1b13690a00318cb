/**
 * Which config keys an application acts on, and the check that refuses every other setting: a key set to a
 * value other than its default that neither the driver nor the application reads fails loudly before any work,
 * instead of being silently ignored (the config parser already refuses unknown keys and unsupported values).
 *
 * Each application declares its list next to itself (`SEGMENTATION_HONOURED_KEYS` …), composed from the lists of
 * the shared helpers it calls (`_inputs.ts`, `_windows.ts`, `_window_app.ts`, `_outputs.ts` …), so a key is
 * written once, beside the code that reads it.
 *
 * @module
 */
import type { NiftyConfig } from "./config/mod.ts";
import { DRIVER_KEYS, nonDefaultSettings } from "./config/config.ts";
import {
  type AnyKeySpec,
  APPLICATION_SECTIONS,
  type AUTOENCODER_KEYS,
  type CLASSIFICATION_KEYS,
  type EVALUATION_KEYS,
  type GAN_KEYS,
  type INFERENCE_KEYS,
  INPUT_KEYS,
  type NETWORK_KEYS,
  type REGRESSION_KEYS,
  type SEGMENTATION_KEYS,
  type SYSTEM_KEYS,
  SYSTEM_SECTIONS,
  type TRAINING_KEYS,
} from "./config/keys.ts";

type KeysOf<T> = readonly (keyof T & string)[];

/**
 * Keys acted on, by section (`INPUT`: the keys of every input section). Typed by the key tables, so a misspelt
 * key does not compile.
 */
export interface HonouredKeys {
  readonly SYSTEM?: KeysOf<typeof SYSTEM_KEYS>;
  readonly NETWORK?: KeysOf<typeof NETWORK_KEYS>;
  readonly TRAINING?: KeysOf<typeof TRAINING_KEYS>;
  readonly INFERENCE?: KeysOf<typeof INFERENCE_KEYS>;
  readonly EVALUATION?: KeysOf<typeof EVALUATION_KEYS>;
  readonly INPUT?: KeysOf<typeof INPUT_KEYS>;
  readonly SEGMENTATION?: KeysOf<typeof SEGMENTATION_KEYS>;
  readonly REGRESSION?: KeysOf<typeof REGRESSION_KEYS>;
  readonly CLASSIFICATION?: KeysOf<typeof CLASSIFICATION_KEYS>;
  readonly AUTOENCODER?: KeysOf<typeof AUTOENCODER_KEYS>;
  readonly GAN?: KeysOf<typeof GAN_KEYS>;
}

/** Section names of {@link HonouredKeys}. */
export type HonouredSection = keyof HonouredKeys;

/**
 * The union of several key lists (each key once, in first-seen order).
 *
 * @example
 * ```ts
 * import { composeKeys } from "./honoured_keys.ts";
 * const keys = composeKeys([{ NETWORK: ["batch_size"] }, { NETWORK: ["name"], TRAINING: ["loss_type"] }]);
 * // { NETWORK: ["batch_size", "name"], TRAINING: ["loss_type"] }
 * ```
 */
export function composeKeys(parts: readonly HonouredKeys[]): HonouredKeys {
  const out: Record<string, string[]> = {};
  for (const part of parts) {
    for (const [section, keys] of Object.entries(part) as [string, readonly string[]][]) {
      const list = out[section] ??= [];
      for (const k of keys) if (!list.includes(k)) list.push(k);
    }
  }
  return out as HonouredKeys;
}

/**
 * Keys the driver acts on whatever the application (config.ts's `DRIVER_KEYS`). `num_threads` is the window
 * pipeline's, listed by the applications that use it.
 */
export const DRIVER_HONOURED_KEYS: HonouredKeys = DRIVER_KEYS as HonouredKeys;

/** A setting that differs from its default and that nothing acts on. */
export interface IgnoredSetting {
  /** `NETWORK`, `SEGMENTATION`, or the input section's own name. */
  readonly section: string;
  readonly key: string;
  readonly value: unknown;
  readonly default: unknown;
}

function actedOn(honoured: HonouredKeys, section: string, key: string): boolean {
  const has = (keys: HonouredKeys) =>
    (keys[section as HonouredSection] as readonly string[] | undefined)?.includes(key);
  return Boolean(has(DRIVER_HONOURED_KEYS) || has(honoured));
}

/** The settings of `config` that differ from their defaults and that neither the driver nor `honoured` acts on. */
export function ignoredSettings(config: NiftyConfig, honoured: HonouredKeys): IgnoredSetting[] {
  const out: IgnoredSetting[] = [];
  for (const setting of nonDefaultSettings(config)) {
    const [section, key] = setting.split(".");
    if (section === "INPUT" || actedOn(honoured, section, key)) continue;
    const values = config.application?.section === section
      ? config.application.values as Record<string, unknown>
      : config[section.toLowerCase() as "system"] as unknown as Record<string, unknown>;
    out.push({ section, key, value: values[key], default: defaultOf(section, key) });
  }
  // Input sections by their own names (nonDefaultSettings folds them into `INPUT`).
  for (const [name, values] of Object.entries(config.inputs)) {
    for (const [key, spec] of Object.entries(INPUT_KEYS)) {
      const value = (values as Record<string, unknown>)[key];
      if (JSON.stringify(value) === JSON.stringify(spec.default) || actedOn(honoured, "INPUT", key)) continue;
      out.push({ section: name, key, value, default: spec.default });
    }
  }
  return out;
}

function defaultOf(section: string, key: string): unknown {
  const tables: Record<string, Record<string, AnyKeySpec>> = { ...SYSTEM_SECTIONS, ...APPLICATION_SECTIONS };
  return tables[section]?.[key]?.default;
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `(${value.join(", ")})`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** The one-line message naming every ignored setting (section, key, value) and the application. */
export function ignoredSettingsMessage(
  config: NiftyConfig,
  { application, ignored }: { application: string; ignored: readonly IgnoredSetting[] },
): string {
  const list = ignored.map((s) => `[${s.section}] ${s.key} = ${formatValue(s.value)}`).join(", ");
  const one = ignored.length === 1;
  const defaults = one ? `the default ${formatValue(ignored[0].default)}` : "their defaults";
  return `"${config.source}": ${list} ${one ? "is" : "are"} not supported by ${application} yet ` +
    `(${one ? "it" : "they"} would be silently ignored; remove ${one ? "it" : "them"} or set ${defaults})`;
}

/**
 * Fails, naming section, key and value, when `config` sets a key to a non-default value that neither the driver
 * nor `application` acts on. An application without a declared list (a plugin) is not checked.
 *
 * @example
 * ```ts
 * import { assertKeysActedOn } from "./honoured_keys.ts";
 * import { segmentationApplication } from "../applications/segmentation.ts";
 * import { parseConfig } from "./config/mod.ts";
 * const config = parseConfig("[NETWORK]\nkeep_prob = 0.5\n[SEGMENTATION]\nnum_classes = 2\n");
 * assertKeysActedOn(config, segmentationApplication);
 * // throws: "config": [NETWORK] keep_prob = 0.5 is not supported by segmentation yet (…)
 * ```
 */
export function assertKeysActedOn(
  config: NiftyConfig,
  application: { readonly name: string; readonly honouredKeys?: HonouredKeys },
): void {
  if (!application.honouredKeys) return;
  const ignored = ignoredSettings(config, application.honouredKeys);
  if (ignored.length) throw new Error(ignoredSettingsMessage(config, { application: application.name, ignored }));
}
