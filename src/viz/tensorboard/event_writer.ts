/**
 * Appends TensorBoard events (scalars, images, graphs) to an event file in a log directory.
 *
 * @module
 */
import { encodeEvent, type EventPayload, type ImagePixels } from "./event.ts";
import { frameRecord } from "./record.ts";

/** The `file_version` TensorBoard expects in the first record of an event file. */
export const FILE_VERSION = "brain.Event:2";

/** Options for {@link EventWriter.open}. */
export interface EventWriterOptions {
  /** Host name in the file name; `Deno.hostname()` (or `localhost`) when omitted. */
  readonly hostname?: string;
  /** Clock in milliseconds since the epoch (for tests); `Date.now` when omitted. */
  readonly now?: () => number;
}

/**
 * The event file name TensorBoard recognizes: `events.out.tfevents.<unix seconds>.<hostname>`.
 *
 * @example
 * ```ts
 * eventFileName(1767225600, "ws1"); // "events.out.tfevents.1767225600.ws1"
 * ```
 */
export function eventFileName(unixSeconds: number, hostname: string): string {
  return `events.out.tfevents.${Math.floor(unixSeconds)}.${hostname}`;
}

/**
 * Frames events as the bytes of an event file: the `file_version` record first, then one record per event.
 *
 * @example
 * ```ts
 * const bytes = eventFileBytes([{ payload: { kind: "graph", graphDef: graphDef(g) } }], { wallTime: 1.7e9 });
 * ```
 */
export function eventFileBytes(
  events: readonly { readonly payload: EventPayload; readonly step?: number }[],
  { wallTime }: { readonly wallTime: number },
): Uint8Array {
  const records = [frameRecord(encodeEvent({ kind: "fileVersion", version: FILE_VERSION }, { wallTime }))];
  for (const { payload, step } of events) records.push(frameRecord(encodeEvent(payload, { wallTime, step })));
  return concat(records);
}

/**
 * Writes a TensorBoard event file. Events are buffered in memory; {@link EventWriter.flush} appends them to the
 * file (call it every logging interval), {@link EventWriter.close} flushes and closes.
 *
 * @example
 * ```ts
 * const writer = await EventWriter.open("model_dir/logs/training");
 * writer.scalar("loss", 0.42, 100);
 * writer.image("slice", { data: new Uint8Array(64 * 64), height: 64, width: 64 }, 100);
 * await writer.close();
 * ```
 */
export class EventWriter {
  /** Full path of the event file. */
  readonly path: string;
  #file: Deno.FsFile;
  #now: () => number;
  #pending: Uint8Array[] = [];
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(path: string, file: Deno.FsFile, now: () => number) {
    this.path = path;
    this.#file = file;
    this.#now = now;
  }

  /**
   * Creates `logDir` if needed and a new event file in it (never appending to an existing one: a clash of names
   * within the same second gets a `.1`, `.2`… suffix), and writes the `file_version` record.
   */
  static async open(logDir: string, options: EventWriterOptions = {}): Promise<EventWriter> {
    const now = options.now ?? Date.now;
    const hostname = options.hostname ?? defaultHostname();
    if (!hostname || hostname.includes("/")) throw new Error(`event writer: invalid hostname "${hostname}"`);
    await Deno.mkdir(logDir, { recursive: true });
    const base = `${logDir.replace(/\/+$/, "") || "."}/${eventFileName(now() / 1000, hostname)}`;
    for (let n = 0;; n++) {
      const path = n === 0 ? base : `${base}.${n}`;
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { createNew: true, write: true });
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists && n < 1000) continue;
        throw new Error(`cannot create event file "${path}": ${e instanceof Error ? e.message : e}`, { cause: e });
      }
      const writer = new EventWriter(path, file, now);
      writer.#enqueue({ kind: "fileVersion", version: FILE_VERSION }, 0);
      await writer.flush();
      return writer;
    }
  }

  /** Buffers a scalar summary (`Summary.Value.simple_value`, stored as float32). */
  scalar(tag: string, value: number, step: number): void {
    checkTag(tag);
    if (typeof value !== "number") throw new Error(`scalar "${tag}": value must be a number, got ${typeof value}`);
    this.#enqueue({ kind: "scalar", tag, value }, step);
  }

  /** Buffers an image summary (PNG-encoded 8-bit grayscale, RGB or RGBA). */
  image(tag: string, pixels: ImagePixels, step: number): void {
    checkTag(tag);
    this.#enqueue({ kind: "image", tag, image: pixels }, step);
  }

  /** Buffers a graph event (`Event.graph_def`, e.g. from `graphDef(graph)`); TensorBoard shows the latest. */
  graph(graphDef: Uint8Array, step = 0): void {
    this.#enqueue({ kind: "graph", graphDef }, step);
  }

  /** Appends all buffered events to the file. */
  flush(): Promise<void> {
    const chunk = concat(this.#pending.splice(0));
    const file = this.#file, path = this.path;
    const next = this.#writing.then(async () => {
      if (chunk.length === 0) return;
      try {
        for (let off = 0; off < chunk.length;) off += await file.write(chunk.subarray(off));
      } catch (e) {
        throw new Error(`cannot write event file "${path}": ${e instanceof Error ? e.message : e}`, { cause: e });
      }
    });
    // A failed write rejects this flush only; later flushes still run.
    this.#writing = next.catch(() => {});
    return next;
  }

  /** Flushes and closes the file; later calls to the writer throw. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#file.close();
    }
  }

  #enqueue(payload: EventPayload, step: number): void {
    if (this.#closed) throw new Error(`event writer for "${this.path}" is closed`);
    this.#pending.push(frameRecord(encodeEvent(payload, { wallTime: this.#now() / 1000, step })));
  }
}

function checkTag(tag: string): void {
  if (typeof tag !== "string" || tag.length === 0) throw new Error(`summary tag must be a non-empty string`);
}

function defaultHostname(): string {
  try {
    return Deno.hostname() || "localhost";
  } catch {
    return "localhost";
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
