/**
 * Scope renaming of named tensors (`MeshNet/conv_3/w` → `MySeg/encoder/conv_3/w`), the step between importing
 * foreign weights and restoring them into a network with its own scope names.
 *
 * @module
 */
import type { NamedTensors } from "./named_tensors.ts";

/**
 * One prefix rule: names in scope `from` (the name itself or `from/…`) move to scope `to`. A trailing `/` on either
 * side is ignored. An empty `from` matches every name (so it adds the prefix `to/`); an empty `to` strips `from/`.
 */
export interface RenameRule {
  readonly from: string;
  readonly to: string;
}

function trimSlash(scope: string): string {
  return scope.endsWith("/") ? scope.slice(0, -1) : scope;
}

/** The new name under `rule`, or undefined where the rule does not match (scopes match whole path segments only). */
function applyRule(name: string, from: string, to: string): string | undefined {
  let rest: string;
  if (from === "") rest = name;
  else if (name === from) rest = "";
  else if (name.startsWith(`${from}/`)) rest = name.slice(from.length + 1);
  else return undefined;
  if (to === "") return rest;
  return rest === "" ? to : `${to}/${rest}`;
}

/**
 * Renames tensors by scope prefix. For each name the first matching rule wins; names no rule matches are kept as
 * they are. Data is shared, not copied. Throws when two tensors would end up with the same name, or a name would
 * become empty.
 *
 * @example
 * ```ts
 * import { renameTensors } from "./rename.ts";
 * const w = { dtype: "float32" as const, shape: [1], data: new Float32Array([1]) };
 * const out = renameTensors(new Map([["MeshNet/conv_3/w", w]]), [{ from: "MeshNet", to: "MySeg/encoder" }]);
 * console.log([...out.keys()]); // ["MySeg/encoder/conv_3/w"]
 * ```
 */
export function renameTensors(tensors: NamedTensors, rules: readonly RenameRule[]): NamedTensors {
  const normalised = rules.map(({ from, to }) => ({ from: trimSlash(from), to: trimSlash(to) }));
  const out: NamedTensors = new Map();
  const origin = new Map<string, string>();
  for (const [name, tensor] of tensors) {
    let renamed = name;
    for (const { from, to } of normalised) {
      const candidate = applyRule(name, from, to);
      if (candidate !== undefined) {
        renamed = candidate;
        break;
      }
    }
    if (renamed === "") throw new Error(`renaming "${name}" leaves an empty name`);
    const clash = origin.get(renamed);
    if (clash !== undefined) {
      throw new Error(`renaming makes "${clash}" and "${name}" both "${renamed}"`);
    }
    origin.set(renamed, name);
    out.set(renamed, tensor);
  }
  return out;
}
