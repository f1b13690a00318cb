/**
 * NiftyNet-compatible configuration: INI parsing, NiftyNet 0.6 keys and defaults, CLI overrides, typed and
 * validated values, JSON round trip.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./mod.ts";
 * const config = await loadConfig("config.ini", { overrides: ["--lr", "0.001"] });
 * console.log(config.training.lr, config.system.model_dir);
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./keys.ts";
export { type IniEntry, type IniSection, parseIni } from "./ini.ts";
