/**
 * Scope and variable names. A path is `/`-joined names (`HighRes3DNet/res_2_1/conv_0/w`); each name is a
 * TensorFlow-compatible identifier so paths survive TensorBoard, safetensors and NiftyNet checkpoints unchanged.
 *
 * @module
 */

/** A full variable path such as `ToyNet/conv_input_bn_relu/conv_/w`. */
export type VariablePath = string & { readonly __brand: "VariablePath" };

const VALID_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.\-]*$/;

/** Returns `name` when it is a valid scope/variable name, else throws naming the offender. */
export function checkName(name: string, what = "name"): string {
  if (!VALID_NAME.test(name)) {
    throw new Error(`invalid ${what} "${name}": use letters, digits, "_", "." or "-" (no "/", not empty)`);
  }
  return name;
}

/** Joins a parent path (possibly empty, for the root) and a child name. */
export function joinPath(parent: string, name: string): string {
  return parent === "" ? name : `${parent}/${name}`;
}

/**
 * Hands out deterministic unique names within one scope, TensorFlow style: the first `conv` stays `conv`,
 * later ones become `conv_1`, `conv_2`… skipping names already taken explicitly.
 */
export class NameAllocator {
  #taken = new Set<string>();
  #next = new Map<string, number>();

  /** Reserves exactly `name`; false when it is already taken in this scope. */
  claim(name: string): boolean {
    if (this.#taken.has(name)) return false;
    this.#taken.add(name);
    return true;
  }

  /** Reserves and returns a unique name based on `base`. */
  allocate(base: string): string {
    if (!this.#taken.has(base)) {
      this.#taken.add(base);
      return base;
    }
    let i = this.#next.get(base) ?? 1;
    while (this.#taken.has(`${base}_${i}`)) i++;
    this.#next.set(base, i + 1);
    const name = `${base}_${i}`;
    this.#taken.add(name);
    return name;
  }
}
