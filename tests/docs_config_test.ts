import { deepStrictEqual as assertEquals } from "node:assert/strict";
import "../src/applications/mod.ts";
import { configReferenceMarkdown } from "../src/engine/config/reference.ts";

Deno.test("docs/CONFIG.md is the current generated key reference (regenerate: deno run -A cli.ts config-keys > docs/CONFIG.md)", async () => {
  const committed = await Deno.readTextFile(new URL("../docs/CONFIG.md", import.meta.url));
  assertEquals(committed.trimEnd(), configReferenceMarkdown().trimEnd());
});
