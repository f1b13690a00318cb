/**
 * File helpers shared by the readers and writers: bounded, streaming reads (gunzipping gzip content) and gzip.
 * `node:zlib` is loaded on first use, so a browser bundle of the library links without Node's modules.
 *
 * @module
 */

/** Whether bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** What {@link readBounded} keeps: the first `keep` bytes, then `skip` bytes dropped, then `data` bytes. */
export interface ReadPlan {
  /** Bytes kept from the start (the header and its extensions). */
  readonly keep: number;
  /** Bytes after those that are read past and dropped (a large vox_offset). */
  readonly skip?: number;
  /** Bytes kept after the skipped ones (the voxels), in a buffer of their own. */
  readonly data: number;
}

/** The bytes {@link readBounded} kept; either part is shorter than planned when the (inflated) file ends early. */
export interface BoundedBytes {
  readonly head: Uint8Array;
  /**
   * Owns its whole `ArrayBuffer` (offset 0; a resizable buffer at its final size, never resized again), so a reader
   * may view or byte-swap it in place.
   */
  readonly data: Uint8Array;
  /** Whether the content was gzip. */
  readonly gzip: boolean;
}

const CHUNK = 1 << 20;
/** Compressed bytes fed to the inflater at a time: deflate inflates at most ~1032-fold, so ≤ 17 MiB per step. */
const GZ_CHUNK = 1 << 14;

/**
 * Feeds the uncompressed content of a file to `sink`, a megabyte at a time (gunzipped, all members, when the
 * content is gzip; then `state.gzip` is set), until `sink` returns true or the file ends. Chunks go to `sink` as they
 * are inflated (they die young, so the garbage collector reclaims them at once), and input is fed 16 KiB at a time,
 * so stopping early never inflates the rest.
 */
async function pump(path: string, sink: (chunk: Uint8Array) => boolean, state: { gzip: boolean }): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`cannot read "${path}": file not found`);
    throw new Error(`cannot read "${path}": ${(e as Error).message}`);
  }
  const readChunk = async (size: number): Promise<Uint8Array | undefined> => {
    const buf = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const n = await file.read(buf.subarray(filled));
      if (n === null) break;
      filled += n;
    }
    return filled === 0 ? undefined : buf.subarray(0, filled);
  };
  try {
    const first = await readChunk(GZ_CHUNK);
    if (!first) return;
    if (!isGzip(first)) {
      if (sink(first)) return;
      for (let c = await readChunk(CHUNK); c; c = await readChunk(CHUNK)) if (sink(c)) return;
      return;
    }
    state.gzip = true;
    // node:zlib's Gunzip reads every gzip member (bgzip files have many).
    const { createGunzip } = await import("node:zlib");
    const gunzip = createGunzip({ chunkSize: 1 << 16 });
    let failure: Error | undefined, refused: unknown, finished = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    gunzip.on("data", (b: Uint8Array) => {
      if (finished) return;
      try {
        finished = sink(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      } catch (e) {
        // The sink refused the content (a bad header): stop, and rethrow from the reading loop.
        refused = e;
        finished = true;
      }
      if (finished) notify();
    });
    gunzip.on("error", (e: Error) => {
      failure = e;
      notify();
    });
    gunzip.on("end", () => {
      finished = true;
      notify();
    });
    try {
      let input: Uint8Array | undefined = first;
      while (!finished && !failure) {
        const waiting = new Promise<void>((resolve) => (wake = resolve));
        if (input) {
          // Wait until this input is consumed before reading more.
          const written = new Promise<void>((resolve) => gunzip.write(input, () => resolve()));
          input = await readChunk(GZ_CHUNK);
          if (!input) gunzip.end();
          await Promise.race([written, waiting]);
        } else {
          await waiting;
        }
      }
      if (refused) throw refused;
      if (failure && !finished) throw new Error(`cannot read "${path}": gzip data is corrupt (${failure.message})`);
    } finally {
      gunzip.destroy();
    }
  } finally {
    file.close();
  }
}

/**
 * Reads a file (gunzipping gzip content, whatever its name says) without ever holding more than the planned bytes:
 * `plan` sees at least the first `probe` bytes (fewer only when the file is shorter) and says how many to keep;
 * reading stops there, so trailing data (or a gzip bomb past the image) is never inflated, and the voxel buffer
 * grows with the data actually read instead of being allocated from the header's word.
 */
export async function readBounded(
  path: string,
  probe: number,
  plan: (head: Uint8Array) => ReadPlan,
): Promise<BoundedBytes> {
  const state = { gzip: false };
  let got = new Uint8Array(0);
  let p: ReadPlan | undefined;
  let head = new Uint8Array(0), headFilled = 0, skip = 0, dataFilled = 0;
  // A resizable buffer grows as the voxels arrive (V8 reserves the address space and commits only what is used), so
  // memory follows the data actually present, never the header's word. It is handed out as is: transferring it to
  // a fixed-length buffer would copy it.
  let data = new ArrayBuffer(0);
  const take = (c: Uint8Array): boolean => {
    const plan = p!;
    let at = 0;
    if (headFilled < plan.keep) {
      const n = Math.min(plan.keep - headFilled, c.length);
      head.set(c.subarray(0, n), headFilled);
      headFilled += n;
      at = n;
    }
    if (skip > 0 && at < c.length) {
      const n = Math.min(skip, c.length - at);
      skip -= n;
      at += n;
    }
    if (at < c.length && dataFilled < plan.data) {
      const n = Math.min(plan.data - dataFilled, c.length - at);
      data.resize(dataFilled + n);
      new Uint8Array(data).set(c.subarray(at, at + n), dataFilled);
      dataFilled += n;
    }
    return headFilled === plan.keep && skip === 0 && dataFilled === plan.data;
  };
  const start = () => {
    p = plan(got.subarray(0, Math.min(got.length, probe)));
    head = new Uint8Array(p.keep);
    skip = p.skip ?? 0;
    data = new ArrayBuffer(0, { maxByteLength: p.data });
    const first = got;
    got = new Uint8Array(0);
    return take(first);
  };
  await pump(path, (c) => {
    if (p) return take(c);
    // Probe: gather the first bytes.
    const next = new Uint8Array(got.length + c.length);
    next.set(got);
    next.set(c, got.length);
    got = next;
    return got.length >= probe ? start() : false;
  }, state);
  if (!p) start();
  return {
    head: headFilled === p!.keep ? head : head.subarray(0, headFilled),
    data: new Uint8Array(data, 0, dataFilled),
    gzip: state.gzip,
  };
}

/** Reads a whole file, gunzipping gzip content, but refuses to hold more than `limit` bytes. */
export async function readMaybeGzip(path: string, limit = 256 * 2 ** 20): Promise<Uint8Array> {
  const { head, data } = await readBounded(path, 0, () => ({ keep: 0, data: limit + 1 }));
  if (data.length > limit) throw new Error(`cannot read "${path}": more than ${limit} bytes (after gunzip)`);
  return head.length ? head : data;
}

/** Gzips bytes (level 6, as nibabel's default). */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const { gzipSync } = await import("node:zlib");
  const out = gzipSync(bytes, { level: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
