/**
 * Sharded, resumable inference and evaluation of the applications that write one file per subject
 * (`[SYSTEM] shard = i/n`, set by `--shard i/n` or the schedulers' environment; see `src/util/shard.ts`).
 *
 * A shard takes its subjects with {@link selectShard}, lists what it finished in its own
 * `<save_seg_dir>/inferred_shard_<i>_of_<n>.csv` (rewritten atomically after each subject), and on a re-run keeps
 * every subject that list names whose output file still reads as a whole image: a retried or re-run task redoes
 * only what is missing. Outputs themselves are written atomically, so a killed task leaves finished files or none.
 * A run without a shard behaves as before (everything is (re)written, `inferred.csv`).
 *
 * @module
 */
import { join } from "node:path";
import type { NiftyConfig } from "../engine/config/mod.ts";
import { parseSubjectCsv, type SubjectRecord } from "../data/mod.ts";
import { exists } from "../data/_files.ts";
import { readImage } from "../io/mod.ts";
import { formatShard, parseShard, selectShard, type Shard, shardFileName } from "../util/shard.ts";
import { SubjectMeter } from "../util/subject_meter.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";

/** The key this module acts on. */
export const SHARD_HONOURED_KEYS: HonouredKeys = { SYSTEM: ["shard"] };

/** The config's shard, or undefined when unsharded. */
export function configShard(config: NiftyConfig): Shard | undefined {
  const text = config.system.shard;
  return text ? parseShard(text) : undefined;
}

/** Throws when a shard is set for an action that does not shard (training). */
export function refuseShard(config: NiftyConfig, action: string): void {
  if (config.system.shard) {
    throw new Error(`"${config.source}": shard = ${config.system.shard} applies to infer and evaluate, not ${action}`);
  }
}

/** The inference list of a shard (`inferred_shard_<i>_of_<n>.csv`), or `inferred.csv`. */
export function inferredListName(shard: Shard | undefined): string {
  return shard ? shardFileName("inferred.csv", shard) : "inferred.csv";
}

async function readsWhole(path: string): Promise<boolean> {
  try {
    await readImage(path);
    return true;
  } catch {
    return false;
  }
}

/** What a shard has to do: its subjects, those finished earlier (kept) and those left. */
export interface ShardPlan {
  readonly shard?: Shard;
  /** Finished outputs kept from an earlier run, by subject. */
  readonly kept: ReadonlyMap<string, string>;
  /** Subjects to infer now. */
  readonly todo: readonly SubjectRecord[];
  /** The list file name in `save_seg_dir`. */
  readonly listName: string;
  /** Prints per-subject time and memory, and the summary. */
  readonly meter: SubjectMeter;
}

/**
 * Plans a (possibly sharded) inference over `subjects`: the shard's subset, minus those its list names with an
 * output that reads as a whole image. Prints what it found.
 */
export async function planInference(config: NiftyConfig, subjects: readonly SubjectRecord[]): Promise<ShardPlan> {
  const shard = configShard(config);
  const label = shard ? `shard ${formatShard(shard)}` : "inference";
  const meter = new SubjectMeter({ label, verb: "inferred" });
  const listName = inferredListName(shard);
  const mine = selectShard(subjects, shard, (s) => s.id);
  const kept = new Map<string, string>();
  const list = join(config.inference.save_seg_dir, listName);
  if (shard && await exists(list)) {
    const listed = parseSubjectCsv(await Deno.readTextFile(list), list);
    for (const s of mine) {
      const path = listed.get(s.id);
      if (path && await readsWhole(path)) kept.set(s.id, path);
    }
  }
  if (shard) {
    console.log(
      `${label}: ${mine.length} of ${subjects.length} subject(s), ${kept.size} already done, ` +
        `${mine.length - kept.size} to infer; list ${list}`,
    );
  }
  for (const id of kept.keys()) meter.kept(id);
  meter.restart();
  return { shard, kept, todo: mine.filter((s) => !kept.has(s.id)), listName, meter };
}
