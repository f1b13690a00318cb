/**
 * Output arrays for the fast kernels. A fresh multi-megabyte Float32Array lies on pages the kernel has never touched:
 * oneDNN's threads then take one page fault (and one zeroed 4 KiB page) per 4 KiB they write, which cost more than
 * the convolution itself on a 64³ × 16-channel output (1400 faults per call; process CPU time 2.9× that of writing
 * into a reused buffer). Large outputs are advised to use transparent huge pages (`madvise(MADV_HUGEPAGE)`), so the
 * same writes take one fault per 2 MiB. PyTorch avoids the faults by reusing freed memory through malloc; the conv
 * kernels do too, through the pool of `_output_pool.ts`, and come here when it has no array of the size.
 *
 * @module
 */

/** Outputs at least this large are advised to use huge pages. */
const HUGE_BYTES = 4 << 20;
const PAGE = 4096n;
const MADV_HUGEPAGE = 14;

type Madvise = (address: Deno.PointerValue, length: bigint, advice: number) => number;
let madvise: Madvise | null | undefined;

/** libc's madvise on Linux, null elsewhere or when it cannot be opened. */
function openMadvise(): Madvise | null {
  if (Deno.build.os !== "linux") return null;
  try {
    const lib = Deno.dlopen("libc.so.6", { madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" } });
    return (address, length, advice) => lib.symbols.madvise(address, length, advice);
  } catch {
    return null;
  }
}

/** A zeroed Float32Array of `length` values; when large, on transparent huge pages where the system allows them. */
export function freshOutput(length: number): Float32Array {
  const out = new Float32Array(length);
  if (out.byteLength < HUGE_BYTES) return out;
  if (madvise === undefined) madvise = openMadvise();
  if (madvise === null) return out;
  const start = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(out)));
  const first = (start + PAGE - 1n) & ~(PAGE - 1n), end = (start + BigInt(out.byteLength)) & ~(PAGE - 1n);
  // advice only: a refusal (THP off, old kernel) leaves ordinary pages
  if (end > first) madvise(Deno.UnsafePointer.create(first), end - first, MADV_HUGEPAGE);
  return out;
}
