/**
 * Matching subjects across input sections (modalities) and grouping sections into roles (`image`, `label` …).
 *
 * @module
 */
import type { SubjectId } from "../types.ts";

/** One subject: its id and, per section name, the file to read. */
export interface SubjectRecord {
  readonly id: SubjectId;
  readonly files: Readonly<Record<string, string>>;
}

/** Options for {@link matchSubjects}. */
export interface MatchSubjectsOptions {
  /** Sections every subject must have; a subject missing one is an error (default: all sections). */
  required?: readonly string[];
}

/**
 * Joins per-section file lists by subject id. The subjects are those of the required sections; a subject that
 * lacks a required section is an error naming the subject and the section. Sorted by id.
 */
export function matchSubjects(
  sections: Readonly<Record<string, ReadonlyMap<SubjectId, string>>>,
  options: MatchSubjectsOptions = {},
): SubjectRecord[] {
  const names = Object.keys(sections);
  const required = options.required ?? names;
  for (const r of required) {
    if (!(r in sections)) throw new Error(`input section [${r}] is required but was not given`);
  }
  const ids = new Set<SubjectId>();
  for (const r of required) for (const id of sections[r].keys()) ids.add(id);
  const out: SubjectRecord[] = [];
  for (const id of [...ids].sort()) {
    const files: Record<string, string> = {};
    for (const name of names) {
      const path = sections[name].get(id);
      if (path !== undefined) files[name] = path;
      else if (required.includes(name)) {
        const has = names.filter((n) => sections[n].has(id)).map((n) => `[${n}]`).join(", ");
        throw new Error(`subject "${id}" has no file in input section [${name}] (found in ${has})`);
      }
    }
    out.push({ id, files });
  }
  return out;
}
