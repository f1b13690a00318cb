// The one cache of oneDNN plans (conv, batch norm, passes): LRU order, eviction destroys, rejected builds remembered.
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { PlanLru } from "../src/kernels/fast/_plan_lru.ts";

function tracked() {
  const destroyed: string[] = [], builds: string[] = [];
  const build = (name: string) => () => {
    builds.push(name);
    if (name.startsWith("bad")) throw new Error(`oneDNN rejects ${name}`);
    return { name, destroy: () => void destroyed.push(name) };
  };
  return { destroyed, builds, build };
}

Deno.test("PlanLru evicts (and destroys) the least recently used plan beyond its capacity", () => {
  const t = tracked(), lru = new PlanLru<{ name: string; destroy(): void }>(2);
  lru.get("a", t.build("a"));
  lru.get("b", t.build("b"));
  assertEquals(lru.get("a", t.build("a"))?.name, "a"); // a is now the most recent
  lru.get("c", t.build("c"));
  assertEquals(t.destroyed, ["b"]);
  assertEquals([...lru.built()].map(([k]) => k), ["a", "c"]);
  assertEquals(t.builds, ["a", "b", "c"]); // a was not rebuilt
});

Deno.test("PlanLru remembers a rejected geometry as null without building it again, and clear destroys all", () => {
  const t = tracked(), lru = new PlanLru<{ name: string; destroy(): void }>(8);
  assertEquals(lru.get("bad", t.build("bad")), null);
  assertEquals(lru.get("bad", t.build("bad")), null);
  lru.get("x", t.build("x"));
  assertEquals(t.builds, ["bad", "x"]);
  assertEquals([...lru.built()].map(([k]) => k), ["x"]);
  lru.clear();
  assertEquals(t.destroyed, ["x"]);
  assertEquals([...lru.built()], []);
});
