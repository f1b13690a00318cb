/**
 * Plugin loading, the one place where a name from a config or the command line becomes an imported module:
 * a network (`[NETWORK] name`), a loss (`[TRAINING] loss_type`) or an application (`-a`) may be a module path or
 * URL instead of a registered short name (NiftyNet's import-path names).
 *
 * @module
 */

/**
 * Whether a name refers to a module (a path with a slash, a `.ts`/`.js`/`.mjs` file, or a URL) rather than a
 * registered short name.
 *
 * @example
 * ```ts
 * import { isModuleReference } from "./plugin.ts";
 * isModuleReference("unet"); // false
 * isModuleReference("./my_net.ts"); // true
 * ```
 */
export function isModuleReference(name: string): boolean {
  return /[/\\]|\.(ts|js|mjs)$/.test(name) || /^[a-z]+:/.test(name);
}

/** The URL of a module reference: URLs as they are, paths relative to `baseDir` (default: the working directory). */
export function moduleUrl(specifier: string, baseDir: string = Deno.cwd()): string {
  return /^[a-z]+:/.test(specifier) ? specifier : new URL(specifier, `file://${baseDir.replace(/\/?$/, "/")}`).href;
}

/**
 * Imports a plugin module; a module that cannot be loaded gives one line naming what it was for and the specifier.
 *
 * @example
 * ```ts
 * import { importPlugin } from "./plugin.ts";
 * const mod = await importPlugin("./my_net.ts", { what: "network module", baseDir: "/configs" });
 * ```
 */
export async function importPlugin(
  specifier: string,
  { what, baseDir }: { readonly what: string; readonly baseDir?: string },
): Promise<Record<string, unknown>> {
  try {
    return await import(moduleUrl(specifier, baseDir));
  } catch (e) {
    throw new Error(`cannot load ${what} "${specifier}": ${(e as Error).message}`);
  }
}
