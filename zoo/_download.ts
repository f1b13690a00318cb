/**
 * One zoo file over HTTP(S) into a partial file, resuming with a `Range` request where the partial file already
 * holds a prefix, and checking size and sha256 as the bytes arrive. Every failure is one line that says what
 * happened (HTTP status, truncated body, interrupted transfer, no network, wrong sha256); what is left behind is
 * only ever the partial file, which nothing but a later resume reads.
 *
 * @module
 */
import type { ZooFile } from "./files.ts";
import { hashFileInto, sha256Hash } from "./_sha256.ts";

/** Where a transfer stands: `received` of `total` bytes of the zoo file at `file` (its mirror path). */
export interface ZooProgress {
  readonly file: string;
  readonly received: number;
  readonly total: number;
}

/** Options of {@link downloadToPart}. */
export interface DownloadOptions {
  readonly onProgress?: (p: ZooProgress) => void;
  /** Give up when the server sends nothing for this long (connecting included). */
  readonly idleTimeoutMs: number;
}

/** The downloaded bytes do not hash to the manifest's sha256 (the partial file has been removed). */
export class ChecksumError extends Error {}

/**
 * Brings `part` to exactly the verified content of `file`, downloading from `url`. A `part` left by an earlier,
 * interrupted run is resumed (`Range: bytes=N-`); a server that ignores the range restarts the file from byte 0.
 * If a resumed file fails its sha256, it is downloaded once more from scratch before the error is reported.
 */
export async function downloadToPart(url: string, part: string, file: ZooFile, options: DownloadOptions) {
  const have = await sizeOf(part);
  if (have > 0 && have <= file.bytes) {
    try {
      if (have === file.bytes) return await checkWhole(part, file, url);
      return await attempt(url, part, file, have, options);
    } catch (e) {
      if (!(e instanceof ChecksumError)) throw e; // the kept prefix was bad, or upstream changed: start over once
    }
  }
  await attempt(url, part, file, 0, options);
}

async function checkWhole(part: string, file: ZooFile, url: string): Promise<void> {
  const hash = sha256Hash();
  await hashFileInto(part, hash);
  checkDigest(hash.digest("hex"), part, file, url);
}

function checkDigest(digest: string, part: string, file: ZooFile, url: string): void {
  if (digest === file.sha256) return;
  removeQuietly(part);
  throw new ChecksumError(`${what(file, url)}: sha256 is ${digest}, expected ${file.sha256}`);
}

async function attempt(url: string, part: string, file: ZooFile, offset: number, options: DownloadOptions) {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), options.idleTimeoutMs);
  };
  arm();
  try {
    let response = await request(url, file, offset, controller.signal, options.idleTimeoutMs);
    if (offset > 0 && !resumesAt(response, offset, file.bytes)) {
      if (response.status !== 200) { // 416, or a range we did not ask for: ask for the whole file
        await response.body?.cancel();
        response = await request(url, file, 0, controller.signal, options.idleTimeoutMs);
      }
      offset = 0; // a plain 200 is the whole file: start over from its first byte
    }
    if (response.status !== (offset > 0 ? 206 : 200) || !response.body) {
      await response.body?.cancel();
      throw new Error(`${what(file, url)}: HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    const hash = sha256Hash();
    if (offset > 0) await hashFileInto(part, hash, offset);
    const reader = response.body.getReader();
    let received = offset;
    {
      using out = await Deno.open(part, { write: true, create: true });
      await out.truncate(offset);
      await out.seek(offset, Deno.SeekMode.Start);
      while (true) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          const why = controller.signal.aborted ? `no data for ${seconds(options.idleTimeoutMs)}` : firstLine(e);
          throw new Error(
            `${what(file, url)}: transfer interrupted after ${received} of ${file.bytes} bytes (${why}); ` +
              `run again to resume`,
          );
        }
        if (chunk.done) break;
        arm();
        received += chunk.value.length;
        if (received > file.bytes) {
          await reader.cancel().catch(() => {});
          out.close();
          removeQuietly(part);
          throw new Error(`${what(file, url)}: body is longer than the expected ${file.bytes} bytes`);
        }
        await writeAll(out, chunk.value);
        hash.update(chunk.value);
        options.onProgress?.({ file: file.path, received, total: file.bytes });
      }
      await out.syncData();
    }
    if (received < file.bytes) {
      throw new Error(
        `${what(file, url)}: body ended after ${received} of ${file.bytes} bytes (truncated); run again to resume`,
      );
    }
    checkDigest(hash.digest("hex"), part, file, url);
  } finally {
    clearTimeout(timer);
  }
}

async function request(url: string, file: ZooFile, offset: number, signal: AbortSignal, idleMs: number) {
  // identity: byte ranges count bytes of the file itself, not of a compressed transfer
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  try {
    return await fetch(url, { headers, signal });
  } catch (e) {
    const why = signal.aborted ? `no answer for ${seconds(idleMs)}` : networkReason(e);
    throw new Error(`${what(file, url)}: ${why}`);
  }
}

/** True when a 206 answer carries exactly the bytes from `offset` to the end of a `total`-byte file. */
function resumesAt(response: Response, offset: number, total: number): boolean {
  if (response.status !== 206) return false;
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return !!range && Number(range[1]) === offset && Number(range[2]) === total - 1 &&
    (range[3] === "*" || Number(range[3]) === total);
}

/** One short reason for a failed connection: no network, unknown host, refused, or the runtime's own words. */
export function networkReason(e: unknown): string {
  const text = [e, (e as { cause?: unknown })?.cause].map(firstLine).join(" ");
  const offline = "; offline? pull from a mirror (--from DIR|URL or NIFTYTS_ZOO_MIRROR)";
  if (/dns error|failed to lookup|name or service not known|nodename nor servname|no such host/i.test(text)) {
    return `host not found (no network or DNS)${offline}`;
  }
  if (/connection refused|ECONNREFUSED/i.test(text)) return `connection refused${offline}`;
  if (/network is unreachable|no route to host|ENETUNREACH|EHOSTUNREACH/i.test(text)) {
    return `network unreachable${offline}`;
  }
  const cause = (e as { cause?: unknown })?.cause;
  return `${cause ? firstLine(cause) : firstLine(e)}${offline}`;
}

function what(file: ZooFile, url: string): string {
  return `cannot download "${file.path}" from ${url}`;
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e ?? "");
  return text.split("\n")[0].trim();
}

function seconds(ms: number): string {
  return `${+(ms / 1000).toFixed(3)} s`;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}
