/**
 * Sharded, resumable `zoo run … --shard i/n`: a scan's subject id is its file (or DICOM folder) name without
 * `.nii[.gz]`; shard `i/n` takes the scans whose id hashes to i (`src/util/shard.ts`), keeps every scan whose output
 * still reads as a whole image and whose volume sidecar CSV is there (a re-run or retried task redoes only what is
 * missing), and after each scan rewrites, atomically, its volume table `<out>/volumes_shard_<i>_of_<n>.csv`
 * (`subject_id,label,name,voxels,volume_ml`: the sidecars of its finished scans), which `merge` gathers.
 *
 * @module
 */
import { basename, join } from "node:path";
import { readImage } from "../io/mod.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { formatShard, selectShard, type Shard, shardFileName } from "../util/shard.ts";
import { SubjectMeter } from "../util/subject_meter.ts";

/** The subject id of a scan path: its name without `.nii[.gz]` (and trailing slashes). */
export function scanId(scan: string): string {
  return basename(scan.replace(/\/+$/, "")).replace(/\.nii(\.gz)?$/i, "");
}

/** The volume sidecar of an output (`x.nii.gz` → `x.csv`). */
export function volumeSidecar(output: string): string {
  return output.replace(/\.nii(\.gz)?$/i, ".csv");
}

async function complete(output: string): Promise<boolean> {
  try {
    await Deno.stat(volumeSidecar(output));
    await readImage(output);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link ZooShard.plan}. */
export interface ZooShardOptions {
  readonly shard: Shard;
  /** The output folder (`-o`). */
  readonly out: string;
  /** Where a scan's segmentation goes. */
  readonly outputOf: (scan: string) => string;
  /** Per-subject lines (default `console.log`). */
  readonly log?: (line: string) => void;
}

/** One shard of a `zoo run`: what to do, and the bookkeeping after each scan. */
export class ZooShard {
  /** Scans left to segment, in input order. */
  readonly todo: readonly string[];
  /** The shard's volume table. */
  readonly table: string;
  readonly #options: ZooShardOptions;
  readonly #done: string[];
  readonly #meter: SubjectMeter;

  private constructor(options: ZooShardOptions, todo: string[], done: string[]) {
    this.#options = options;
    this.todo = todo;
    this.#done = done;
    this.table = join(options.out, shardFileName("volumes.csv", options.shard));
    this.#meter = new SubjectMeter({
      label: `shard ${formatShard(options.shard)}`,
      verb: "segmented",
      log: options.log,
    });
  }

  /** The shard's scans among `scans`, minus those already complete; prints what it found. */
  static async plan(scans: readonly string[], options: ZooShardOptions): Promise<ZooShard> {
    const mine = selectShard(scans, options.shard, scanId);
    const done: string[] = [];
    for (const scan of mine) if (await complete(options.outputOf(scan))) done.push(scan);
    const plan = new ZooShard(options, mine.filter((s) => !done.includes(s)), done);
    (options.log ?? console.log)(
      `shard ${formatShard(options.shard)}: ${mine.length} of ${scans.length} scan(s), ${done.length} already done, ` +
        `${plan.todo.length} to segment; table ${plan.table}`,
    );
    for (const scan of done) plan.#meter.kept(scanId(scan));
    await plan.#writeTable();
    plan.#meter.restart();
    return plan;
  }

  /** After a scan's outputs are written: its time/memory line and the table rewritten. */
  async finished(scan: string): Promise<void> {
    this.#done.push(scan);
    this.#meter.done(scanId(scan));
    await this.#writeTable();
  }

  /** The summary line. */
  summary(): string {
    return this.#meter.summary();
  }

  async #writeTable(): Promise<void> {
    const lines = ["subject_id,label,name,voxels,volume_ml"];
    for (const scan of [...this.#done].sort((a, b) => scanId(a) < scanId(b) ? -1 : 1)) {
      const csv = volumeSidecar(this.#options.outputOf(scan));
      const rows = (await Deno.readTextFile(csv)).split(/\r?\n/).filter(Boolean).slice(1);
      const id = /[",\n]/.test(scanId(scan)) ? `"${scanId(scan).replaceAll('"', '""')}"` : scanId(scan);
      lines.push(...rows.map((row) => `${id},${row}`));
    }
    await Deno.mkdir(this.#options.out, { recursive: true });
    await writeFileAtomic(this.table, lines.join("\n") + "\n");
  }
}
