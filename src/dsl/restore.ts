/**
 * Restore-initializer rules: where a variable's first value comes from when it is created. A rule points at a
 * source of named tensors (a checkpoint or imported model), optionally limits which variables it applies to
 * (NiftyNet's `vars_to_restore` regex, searched anywhere in the path), and optionally renames scopes: a mapping
 * `{ from: "MeshNet/", to: "MySeg/encoder/" }` loads checkpoint tensor `MeshNet/conv_3/w` into variable
 * `MySeg/encoder/conv_3/w`.
 *
 * @module
 */
import type { NamedTensor, NamedTensors } from "../weights/named_tensors.ts";

/** One scope rename: variables under `to` read the source tensors under `from`. */
export interface ScopeMapping {
  readonly from: string;
  readonly to: string;
}

/** Where some variables take their initial values from. */
export interface RestoreRule {
  readonly source: NamedTensors;
  /** Shown in messages and the report, e.g. the checkpoint's file name. */
  readonly sourceName: string;
  /** Only variables whose path this matches (anywhere, like Python's `re.search`). All when absent. */
  readonly include?: RegExp;
  /** Scope renames, first match wins. When given, the rule covers only variables under one of the `to` prefixes. */
  readonly mappings?: readonly ScopeMapping[];
  /**
   * What to do when an included variable has no tensor in the source: `error` (default when `include` or
   * `mappings` is given: you asked for it) or `initialize` (use the initializer, listed in the report).
   */
  readonly missing?: "error" | "initialize";
}

/** Parses `from/=to/` (the CLI and config spelling of a mapping). */
export function parseScopeMapping(text: string): ScopeMapping {
  const eq = text.indexOf("=");
  if (eq < 0) throw new Error(`invalid scope mapping "${text}": expected from/=to/`);
  return { from: text.slice(0, eq), to: text.slice(eq + 1) };
}

/** The source tensor name a rule maps a variable path to, or undefined when the rule does not cover the path. */
export function sourcePathFor(rule: RestoreRule, path: string): string | undefined {
  if (rule.include && !rule.include.test(path)) return undefined;
  if (!rule.mappings?.length) return path;
  for (const { from, to } of rule.mappings) {
    if (path.startsWith(to)) return from + path.slice(to.length);
  }
  return undefined;
}

/** Result of looking a new variable up in the rules: restored from a tensor, or left to its initializer. */
export type RestoreLookup =
  | {
    readonly kind: "restored";
    readonly tensor: NamedTensor;
    readonly sourceName: string;
    readonly sourcePath: string;
  }
  | { readonly kind: "initialized" };

/** Finds the value for a new variable; the last matching rule wins (later rules refine earlier ones). */
export function lookupRestore(
  rules: readonly RestoreRule[],
  path: string,
  shape: readonly number[],
): RestoreLookup {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    const sourcePath = sourcePathFor(rule, path);
    if (sourcePath === undefined) continue;
    const tensor = rule.source.get(sourcePath);
    if (!tensor) {
      const explicit = rule.include !== undefined || (rule.mappings?.length ?? 0) > 0;
      if ((rule.missing ?? (explicit ? "error" : "initialize")) === "error") {
        throw new Error(
          `cannot restore variable "${path}": "${rule.sourceName}" has no tensor "${sourcePath}"` +
            (rule.include ? ` (vars_to_restore ${rule.include})` : ""),
        );
      }
      continue;
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, k) => d !== shape[k])) {
      throw new Error(
        `cannot restore variable "${path}" with shape [${shape}] from "${rule.sourceName}" tensor "${sourcePath}" ` +
          `with shape [${tensor.shape}]`,
      );
    }
    return { kind: "restored", tensor, sourceName: rule.sourceName, sourcePath };
  }
  return { kind: "initialized" };
}
