// deno-lint-ignore-file no-import-prefix -- this file is where the pinned npm: specifiers live, by design
/**
 * The one place that names the portable third-party packages: everything here bundles for a browser
 * (`deno task bundle`, `web/niftyts.ts`). Packages that need Deno or Node (the command line, TensorBoard's CRC32C,
 * the test drivers) live in the one other place, `deps_deno.ts`, which nothing in the browser's import graph may
 * reach. Every specifier is a full, pinned `npm:` specifier so that `mod.ts` imported by URL resolves exactly the same
 * code (an import map in deno.json would not travel).
 *
 * @module
 */

export * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
// tfjs-core alone registers no gradients; the union package registers all of them (and the cpu backend) as a side
// effect. Its ESM build of `register_all_gradients` is not loadable under Deno (extensionless imports), so under
// Deno this resolves to the union's Node bundle (`main`); a browser bundle resolves the same specifier to the union's
// ESM build (`module`), which registers the same gradients and the cpu and webgl backends.
import "npm:@tensorflow/tfjs@4.22.0";
import { engine } from "npm:@tensorflow/tfjs-core@4.22.0";

// The cpu backend greets Node-like runtimes with an advert for tfjs-node on first use; tfjs-node is a native addon
// we cannot use under Deno, so mark the greeting as done (on the instance the engine actually uses).
// Only under Deno: in a browser, asking for the backend here would start WebGL in every page that imports a schema.
if ("Deno" in globalThis) {
  const initialBackend = engine().backend as { firstUse?: boolean };
  if ("firstUse" in initialBackend) initialBackend.firstUse = false;
}

/** Backends beyond cpu load on demand, so a missing one costs nothing until it is asked for. */
export const backendLoaders: Readonly<Record<string, () => Promise<unknown>>> = {
  cpu: () => import("npm:@tensorflow/tfjs-backend-cpu@4.22.0"),
  wasm: () => import("npm:@tensorflow/tfjs-backend-wasm@4.22.0"),
  webgpu: () => import("npm:@tensorflow/tfjs-backend-webgpu@4.22.0"),
  // browsers only (the union registers it there already; Deno has no WebGL2 canvas)
  webgl: () => import("npm:@tensorflow/tfjs-backend-webgl@4.22.0"),
};

// viz (TensorBoard event files): protobuf wire encoding and PNG image summaries (CRC32C is in deps_deno.ts).
export { BinaryWriter, WireType } from "npm:@bufbuild/protobuf@2.17.0/wire";
export { encode as encodePng } from "npm:fast-png@8.0.0";
// 2D image inputs (issue 16, src/io/image_2d.ts): PNG, JPEG and TIFF decoders (image-js's fast-png and tiff,
// eugeneware's jpeg-js), all pure JavaScript.
export { decode as decodePng } from "npm:fast-png@8.0.0";
export { decode as decodeTiff } from "npm:tiff@7.1.3";
export { default as jpegJs } from "npm:jpeg-js@0.4.4";
// gzip in memory, portable (browsers; under Deno the file readers stream through node:zlib).
export { Gunzip as GunzipStream } from "npm:fflate@0.8.3";
// NIfTI header parsing (issue 3, src/io).
export * as niftiReader from "npm:nifti-reader-js@0.8.0";
// DICOM parsing (issue 3, src/io).
export { default as dicomParser } from "npm:dicom-parser@1.8.21";

/** The full tfjs union (layers API included), for loading Keras/tfjs layers-models with tfjs's own code. */
export const loadTfjsUnion = (): Promise<typeof import("npm:@tensorflow/tfjs@4.22.0")> =>
  import("npm:@tensorflow/tfjs@4.22.0");
/** The NiiVue viewer (WebGL2; browsers only), loaded by the web app's page. */
export const loadNiivue = (): Promise<typeof import("npm:@niivue/niivue@0.69.0")> =>
  import("npm:@niivue/niivue@0.69.0");
// Config validation (issue 7, src/engine/config): typed, validated config objects.
export { z } from "npm:zod@4.6.7";
