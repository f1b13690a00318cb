/**
 * INI text as Python's `configparser` reads NiftyNet configs: `[section]` headers, `key = value` or `key: value`
 * entries, full-line `#`/`;` comments, indented continuation lines, option names lower-cased, a bare `key` line
 * meaning an empty value. Duplicate sections or keys are errors (configparser's strict mode).
 *
 * @module
 */

/** One `key = value` entry with the line it came from (1-based). */
export interface IniEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

/** One `[name]` section and its entries in file order. */
export interface IniSection {
  readonly name: string;
  readonly line: number;
  readonly entries: IniEntry[];
}

/**
 * Parses INI text into sections. `source` names the file in error messages.
 *
 * @example
 * ```ts
 * import { parseIni } from "./ini.ts";
 * const [training] = parseIni("[TRAINING]\nlr = 0.01\n", "config.ini");
 * // training.entries[0] is { key: "lr", value: "0.01", line: 2 }
 * ```
 */
export function parseIni(text: string, source = "config"): IniSection[] {
  const sections: IniSection[] = [];
  let current: IniSection | undefined;
  let last: { entry: IniEntry; index: number } | undefined;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) {
      if (trimmed === "") last = undefined;
      return;
    }
    // Indented lines continue the previous value (configparser's multi-line values).
    if (/^\s/.test(raw) && last && current) {
      const joined = { ...last.entry, value: `${last.entry.value}\n${trimmed}`.trim() };
      current.entries[last.index] = joined;
      last = { entry: joined, index: last.index };
      return;
    }
    const header = /^\[(.*)\]$/.exec(trimmed);
    if (header) {
      const name = header[1].trim();
      if (name === "") throw new Error(`"${source}" line ${line}: empty section name`);
      if (sections.some((s) => s.name === name)) {
        throw new Error(`"${source}" line ${line}: section [${name}] appears twice`);
      }
      current = { name, line, entries: [] };
      sections.push(current);
      last = undefined;
      return;
    }
    if (!current) throw new Error(`"${source}" line ${line}: "${trimmed}" comes before any [section] header`);
    const at = firstDelimiter(trimmed);
    const key = (at < 0 ? trimmed : trimmed.slice(0, at)).trim().toLowerCase();
    const value = at < 0 ? "" : trimmed.slice(at + 1).trim();
    if (key === "") throw new Error(`"${source}" line ${line}: entry "${trimmed}" has no key`);
    const prior = current.entries.find((e) => e.key === key);
    if (prior) {
      throw new Error(`"${source}" line ${line}: key "${key}" of [${current.name}] already set on line ${prior.line}`);
    }
    const entry = { key, value, line };
    current.entries.push(entry);
    last = { entry, index: current.entries.length - 1 };
  });
  return sections;
}

function firstDelimiter(text: string): number {
  const eq = text.indexOf("="), colon = text.indexOf(":");
  if (eq < 0) return colon;
  if (colon < 0) return eq;
  return Math.min(eq, colon);
}
