/**
 * Honest exits (issue 18): SIGINT/SIGTERM during `cli.ts train` save a checkpoint and exit 130/143 with the iteration
 * and the command that resumes; a truncated latest checkpoint names the newest intact one.
 */
import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkpointPath, listCheckpoints, runAction } from "../src/engine/mod.ts";
import { FakeApplication, fakeConfigText } from "./_engine_fake_app.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs `cli.ts train` on the fake application; sends `signal` once a progress line starts with `when`. */
async function train(
  config: string,
  extra: string[],
  { when, signal }: { when?: string; signal?: Deno.Signal } = {},
): Promise<{ code: number; stdout: string[]; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "cli.ts", "train", "-c", config, "-a", "tests/_engine_fake_app.ts", ...extra],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines: string[] = [];
  let buffer = "", sent = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (!sent && when && signal && line.startsWith(when)) {
        child.kill(signal);
        sent = true;
        watchdog = setTimeout(() => child.kill("SIGKILL"), 60_000);
      }
    }
  }
  const status = await child.status;
  clearTimeout(watchdog);
  return { code: status.code, stdout: lines, stderr: await stderr };
}

Deno.test("cli train: SIGTERM exits 143 and SIGINT 130, each saying the iteration and the command that resumes", async () => {
  const dir = await Deno.makeTempDir();
  const config = join(dir, "config.ini"), model = join(dir, "model");
  await Deno.writeTextFile(config, fakeConfigText(model, { max_iter: 40, save_every_n: 0, tensorboard_every_n: 0 }));
  const term = await train(config, [], { when: "iter 3/", signal: "SIGTERM" });
  assertEquals(term.code, 143, term.stderr);
  const m = /interrupted at iteration (\d+) by SIGTERM; checkpoint (\S+); resume with: (.*)$/m.exec(term.stderr);
  assert(m, term.stderr);
  const stopped = Number(m[1]);
  assert(stopped >= 3 && stopped < 40, term.stderr);
  assertEquals(await listCheckpoints(model), [stopped]);
  assertEquals(m[2], checkpointPath(model, stopped));
  assertEquals(m[3], `deno run -A cli.ts train -c ${config} -a tests/_engine_fake_app.ts --starting_iter -1`);
  // The printed command resumes (here interrupted again, by SIGINT), then finishes with exit 0.
  const resume = m[3].split(" ").slice(9); // after "deno run -A cli.ts train -c <config> -a <app>"
  assertEquals(resume, ["--starting_iter", "-1"]);
  const int = await train(config, resume, { when: `iter ${stopped + 2}/`, signal: "SIGINT" });
  assertEquals(int.code, 130, int.stderr);
  assert(/interrupted at iteration \d+ by SIGINT/.test(int.stderr), int.stderr);
  const done = await train(config, resume);
  assertEquals(done.code, 0, done.stderr);
  assert(done.stdout.some((l) => l.startsWith("trained to iteration 40 (max_iter)")), done.stdout.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a truncated latest checkpoint: the error names the newest intact one and how to use it", async () => {
  const dir = await Deno.makeTempDir();
  const config = join(dir, "config.ini"), model = join(dir, "model");
  await Deno.writeTextFile(config, fakeConfigText(model, { max_iter: 6, save_every_n: 2, tensorboard_every_n: 0 }));
  await runAction("train", config, [], { application: new FakeApplication(), log: () => {}, handleSignals: false });
  assertEquals(await listCheckpoints(model), [2, 4, 6]);
  for (const it of [6, 4]) {
    const path = checkpointPath(model, it);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  }
  await rejects(
    () =>
      runAction("train", config, ["--starting_iter", "-1", "--max_iter", "8"], {
        application: new FakeApplication(),
        log: () => {},
        handleSignals: false,
      }),
    (e: Error) => {
      assert(e.message.includes(checkpointPath(model, 6)), e.message);
      assert(
        e.message.includes(
          `the newest intact checkpoint is iteration 2 ("${checkpointPath(model, 2)}"): use it with --starting_iter 2`,
        ),
        e.message,
      );
      return true;
    },
  );
  await Deno.remove(dir, { recursive: true });
});
