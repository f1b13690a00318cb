/**
 * The WebGPU adapter Deno finds (what `--backend webgpu` runs on): vendor, description, whether it is a software
 * fallback (Mesa llvmpipe on machines without a GPU) and the storage-buffer limit. `deno run -A bench/adapter.ts`
 * prints it as one line of JSON (`bench/gpu.sh` starts with it); `null` when there is no adapter.
 *
 * @module
 */

/** What the bench reports about the adapter. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (llvmpipe, SwiftShader): correctness only, no speed claims. */
  fallback: boolean;
  max_storage_buffer_binding_size: number;
}

/** The default WebGPU adapter's description, or null when this Deno has none. */
export async function webgpuAdapter(): Promise<AdapterReport | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const description = info.description ?? "";
  return {
    vendor: info.vendor ?? "",
    architecture: info.architecture ?? "",
    device: info.device ?? "",
    description,
    fallback: Boolean(info.isFallbackAdapter) || /llvmpipe|swiftshader|softpipe/i.test(description),
    max_storage_buffer_binding_size: adapter.limits.maxStorageBufferBindingSize,
  };
}

if (import.meta.main) console.log(JSON.stringify(await webgpuAdapter()));
