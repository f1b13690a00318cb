/**
 * Sharding: one job's subjects split over `n` independent processes (Slurm array tasks, Kubernetes Indexed Job
 * pods, or plain local processes), with no coordinator.
 *
 * A shard is written `i/n` with `0 <= i < n` (0-based, like `SLURM_ARRAY_TASK_ID` of `--array=0-(n-1)` and
 * `JOB_COMPLETION_INDEX`). A subject belongs to shard `hash(id) mod n`, where `hash` is 32-bit FNV-1a of the id's
 * UTF-8 bytes followed by MurmurHash3's finaliser: the assignment depends only on the subject id and `n`, never on
 * which other subjects a process happened to list, so shards that list a growing folder at different times still
 * agree, and a retried task gets the same subjects. Shards are balanced on average, not exactly (12 subjects over
 * 3 shards may split 5/4/3).
 *
 * When no shard is given, {@link shardFromEnv} reads the schedulers' variables: `SLURM_ARRAY_TASK_ID` with
 * `SLURM_ARRAY_TASK_COUNT` (index = (id − `SLURM_ARRAY_TASK_MIN`) / `SLURM_ARRAY_TASK_STEP`, so `--array=1-4` works
 * too), else `JOB_COMPLETION_INDEX` with `NIFTYTS_SHARD_COUNT` (Kubernetes sets the index, not the count: the
 * manifest sets the count to its `completions`).
 *
 * @module
 */

/** Shard `index` of `count` (0 <= index < count). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Parses `i/n` (0 <= i < n, n >= 1).
 *
 * @example
 * ```ts
 * parseShard("1/3"); // { index: 1, count: 3 }
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new Error(`invalid shard "${text}": expected i/n with 0 <= i < n (e.g. 0/4 is the first of 4)`);
  }
  return { index, count };
}

/** `i/n`. */
export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The stable 32-bit hash of a subject id (FNV-1a of its UTF-8 bytes, then MurmurHash3's fmix32). */
export function subjectHash(id: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(id)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard index a subject belongs to among `count` shards. */
export function shardIndexOf(id: string, count: number): number {
  return subjectHash(id) % count;
}

/**
 * The items of `shard` (all of them when `shard` is undefined), in their given order; `idOf` gives an item's
 * subject id (default: the item itself).
 *
 * @example
 * ```ts
 * const ids = ["s01", "s02", "s03", "s04"];
 * const parts = [0, 1, 2].map((index) => selectShard(ids, { index, count: 3 }));
 * // every id is in exactly one part
 * ```
 */
export function selectShard<T>(
  items: readonly T[],
  shard: Shard | undefined,
  idOf: (item: T) => string = (item) => String(item),
): T[] {
  if (!shard) return [...items];
  return items.filter((item) => shardIndexOf(idOf(item), shard.count) === shard.index);
}

/** A shard and where it came from (`--shard`, `SLURM_ARRAY_TASK_ID` …), for the line printed at start. */
export interface ShardSource {
  readonly shard: Shard;
  readonly source: string;
}

function envInt(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`environment variable ${name}="${text}": expected an integer >= 0`);
  }
  return n;
}

/**
 * The shard the schedulers' environment variables describe (see the module doc), or undefined when none is set.
 * Errors name the variable and the value.
 */
export function shardFromEnv(env: Readonly<Record<string, string | undefined>>): ShardSource | undefined {
  const taskId = envInt(env, "SLURM_ARRAY_TASK_ID");
  if (taskId !== undefined) {
    const count = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    if (!count) throw new Error(`SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (a Slurm job array?)`);
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN") ?? 0;
    const step = envInt(env, "SLURM_ARRAY_TASK_STEP") || 1;
    const index = (taskId - min) / step;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new Error(
        `SLURM_ARRAY_TASK_ID=${taskId} is not one of the ${count} tasks from ${min} in steps of ${step}`,
      );
    }
    return { shard: { index, count }, source: "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT" };
  }
  const completionIndex = envInt(env, "JOB_COMPLETION_INDEX");
  if (completionIndex !== undefined) {
    const count = envInt(env, "NIFTYTS_SHARD_COUNT");
    if (!count) {
      throw new Error(`JOB_COMPLETION_INDEX is set but NIFTYTS_SHARD_COUNT is not: set it to the Job's completions`);
    }
    if (completionIndex >= count) {
      throw new Error(`JOB_COMPLETION_INDEX=${completionIndex} is not below NIFTYTS_SHARD_COUNT=${count}`);
    }
    return { shard: { index: completionIndex, count }, source: "JOB_COMPLETION_INDEX/NIFTYTS_SHARD_COUNT" };
  }
  return undefined;
}

/**
 * The shard to run: `explicit` (`--shard i/n`) when given, else the environment's ({@link shardFromEnv}).
 */
export function resolveShard(
  explicit: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): ShardSource | undefined {
  if (explicit !== undefined && explicit !== "") return { shard: parseShard(explicit), source: "--shard" };
  return shardFromEnv(env);
}

/**
 * The per-shard name of an output file: `evaluation.csv` → `evaluation_shard_1_of_3.csv` (the extension is
 * kept; a name without one gets the suffix at its end).
 */
export function shardFileName(path: string, shard: Shard): string {
  const suffix = `_shard_${shard.index}_of_${shard.count}`;
  const m = /^(.*[^/])(\.[^./]+)$/.exec(path);
  return m ? `${m[1]}${suffix}${m[2]}` : `${path}${suffix}`;
}

/** Reads `<stem>_shard_<i>_of_<n><ext>` back: the shard and the unsharded name, or undefined. */
export function parseShardFileName(path: string): { shard: Shard; merged: string } | undefined {
  const m = /^(.*)_shard_(\d+)_of_(\d+)(\.[^./]+)?$/.exec(path);
  if (!m) return undefined;
  const index = Number(m[2]), count = Number(m[3]);
  if (count < 1 || index >= count) return undefined;
  return { shard: { index, count }, merged: `${m[1]}${m[4] ?? ""}` };
}
