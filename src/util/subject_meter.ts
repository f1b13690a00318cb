/**
 * Time and memory per subject of a long per-subject job (a shard of an inference or evaluation): one line per
 * subject as it finishes, and a summary line at the end, so that a cluster user can size the next array's time
 * and memory requests from the logs.
 *
 * Memory is the process's resident set: the current value (`Deno.memoryUsage().rss`) and the peak so far (Linux's
 * `VmHWM` in `/proc/self/status`; elsewhere the largest value seen at a subject's end).
 *
 * @module
 */

const MIB = 1024 * 1024;

/** The peak resident set size of this process in bytes (Linux), or undefined. */
export function peakRss(): number | undefined {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@link SubjectMeter}. */
export interface SubjectMeterOptions {
  /** Prefix of every line, e.g. `shard 1/3`. */
  readonly label: string;
  /** What is done to a subject, e.g. `inferred`, `evaluated`. */
  readonly verb: string;
  /** Receives the lines (default `console.log`). */
  readonly log?: (line: string) => void;
  /** Clock in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** Times subjects between calls to {@link SubjectMeter.done} and formats the per-subject and summary lines. */
export class SubjectMeter {
  readonly #o: SubjectMeterOptions;
  readonly #now: () => number;
  readonly #start: number;
  #last: number;
  #peak = 0;
  #worked = 0;
  #workSeconds = 0;
  #kept = 0;

  constructor(options: SubjectMeterOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#last = this.#now();
  }

  #log(line: string): void {
    (this.#o.log ?? console.log)(line);
  }

  #rss(): { rss: number; peak: number } {
    const rss = Deno.memoryUsage().rss;
    this.#peak = Math.max(this.#peak, rss, peakRss() ?? 0);
    return { rss, peak: this.#peak };
  }

  /** Restarts the subject clock (e.g. after the model is loaded, before the first subject). */
  restart(): void {
    this.#last = this.#now();
  }

  /** A subject already complete from an earlier run: counted, not redone. */
  kept(id: string): void {
    this.#kept++;
    this.#log(`${this.#o.label} ${id}: already done, kept`);
  }

  /** A subject finished now: prints its time since the previous one finished and the memory. */
  done(id: string): void {
    const now = this.#now();
    const seconds = (now - this.#last) / 1000;
    this.#last = now;
    this.#worked++;
    this.#workSeconds += seconds;
    const { rss, peak } = this.#rss();
    this.#log(
      `${this.#o.label} ${id}: ${this.#o.verb} in ${seconds.toFixed(2)} s, ` +
        `rss ${(rss / MIB).toFixed(0)} MiB (peak ${(peak / MIB).toFixed(0)} MiB)`,
    );
  }

  /** The summary line: subjects done now and kept, total and mean time, peak memory. */
  summary(): string {
    const total = (this.#now() - this.#start) / 1000;
    const mean = this.#worked ? this.#workSeconds / this.#worked : 0;
    const { peak } = this.#rss();
    return `${this.#o.label} summary: ${this.#worked + this.#kept} subject(s), ${this.#worked} ${this.#o.verb} now, ` +
      `${this.#kept} already done; ${total.toFixed(1)} s in all, ${mean.toFixed(2)} s per subject ${this.#o.verb}; ` +
      `peak rss ${(peak / MIB).toFixed(0)} MiB`;
  }
}
