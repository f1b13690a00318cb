/**
 * WebGPU parity matrix (issue 12): every registered network's forward outputs on webgpu against cpu with the same
 * variables (relative error ≤ 1e−4), and for toynet, unet, highres3dnet, vnet, meshnet and dense_vnet the gradient
 * of a loss w.r.t. every trainable variable (≤ 1e−3). Runs on whatever adapter Deno finds (in CI: Mesa llvmpipe, a
 * software adapter: tiny shapes); skips with the reason when there is none.
 */
import { ok as assert } from "node:assert/strict";
import { useBackend } from "../src/backend.ts";
import { networkNames } from "../networks/registry.ts";
import { parity, webgpuAvailable } from "./_backend_parity.ts";
import { PARITY_CASES as CASES } from "./_parity_cases.ts";

const gpu = await webgpuAvailable();
if (gpu.ok) await useBackend("webgpu");
await useBackend("cpu");

Deno.test("the parity matrix covers every registered network", () => {
  const missing = networkNames().filter((n) => !CASES.some((c) => c.name === n));
  assert(missing.length === 0, `networks without a parity case: ${missing.join(", ")}`);
});

for (const c of CASES) {
  const what = c.gradients ? "forward (≤ 1e-4) and every variable's gradient (≤ 1e-3)" : "forward (≤ 1e-4)";
  Deno.test({
    name: `webgpu parity: ${c.name} ${what} match cpu${gpu.ok ? "" : ` [skipped: ${gpu.reason}]`}`,
    ignore: !gpu.ok,
    fn: async () => {
      const r = await parity(c, "webgpu");
      console.log(
        `parity ${c.name} webgpu forward ${r.forward.toExponential(2)} ${r.worstOutput} gradient ${
          r.gradient.toExponential(2)
        } ${r.worstGradient}`,
      );
      assert(!r.zeroOutput, `${c.name}: webgpu output is all zeros`);
      assert(r.forward <= 1e-4, `${c.name}: forward relative error ${r.forward} > 1e-4`);
      assert(r.gradient <= 1e-3, `${c.name}: gradient relative error ${r.gradient} > 1e-3 (${r.worstGradient})`);
    },
  });
}
