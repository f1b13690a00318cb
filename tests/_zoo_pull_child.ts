/**
 * Child process for the zoo cache tests: `deno run -A tests/_zoo_pull_child.ts '<json>'` with
 * `{ files, cacheDir, mirror? }` pulls the files and prints the resulting paths as JSON, or `error: <line>`.
 * Without arguments it prints the cache folder {@link zooCacheDir} gives under several environments.
 *
 * @module
 */
import { ensureZooFiles, zooCacheDir } from "../zoo/cache.ts";

if (Deno.args.length === 0) {
  const results: string[] = [];
  for (const [key, value] of [["NIFTYTS_CACHE", "/tmp/explicit-cache"], ["NIFTYTS_CACHE", ""]]) {
    Deno.env.set(key, value);
    results.push(zooCacheDir());
  }
  Deno.env.set("XDG_CACHE_HOME", "/tmp/xdg");
  results.push(zooCacheDir());
  Deno.env.set("XDG_CACHE_HOME", "relative/ignored");
  Deno.env.set("HOME", "/tmp/home");
  results.push(zooCacheDir());
  console.log(JSON.stringify(results));
} else {
  const { files, cacheDir, mirror } = JSON.parse(Deno.args[0]);
  try {
    console.log(JSON.stringify(await ensureZooFiles(files, { cacheDir, mirror })));
  } catch (e) {
    console.log(`error: ${(e as Error).message}`);
  }
}
