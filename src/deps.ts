/**
 * The one place that names third-party packages. Every specifier is a full, pinned `npm:` specifier so that
 * `mod.ts` imported by URL resolves exactly the same code (an import map in deno.json would not travel).
 *
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
// tfjs-core alone registers no gradients; the union package registers all of them (and the cpu backend) as a side
// effect. Its ESM build of `register_all_gradients` is not loadable under Deno (extensionless imports), so the
// union's Node bundle is the only public way to get them.
import "npm:@tensorflow/tfjs@4.22.0";

/** Backends beyond cpu load on demand, so a missing one costs nothing until it is asked for. */
export const backendLoaders: Readonly<Record<string, () => Promise<unknown>>> = {
  cpu: () => import("npm:@tensorflow/tfjs-backend-cpu@4.22.0"),
  wasm: () => import("npm:@tensorflow/tfjs-backend-wasm@4.22.0"),
  webgpu: () => import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0"),
};
