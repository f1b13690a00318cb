import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { middleSlice, summarySlice } from "../src/viz/mod.ts";
import { assertThrows } from "./_util.ts";

/** value(n, x, y, z, c) = 1000n + 100x + 10y + z + c/10, laid out [batch, x, y, z, channels]. */
function coded(shape: number[]): Float32Array {
  const [nb, nx, ny, nz, nc] = shape.length === 5 ? shape : [shape[0], shape[1], shape[2], 1, shape[3]];
  const out = new Float32Array(nb * nx * ny * nz * nc);
  let i = 0;
  for (let n = 0; n < nb; n++) {
    for (let x = 0; x < nx; x++) {
      for (let y = 0; y < ny; y++) {
        for (let z = 0; z < nz; z++) for (let c = 0; c < nc; c++) out[i++] = 1000 * n + 100 * x + 10 * y + z + c / 10;
      }
    }
  }
  return out;
}

Deno.test("summary slice takes item 0, channel 0 and the middle z slice of a 3D batch (x rows, y columns)", () => {
  const { values, rows, cols } = middleSlice(coded([2, 3, 4, 5, 2]), [2, 3, 4, 5, 2]);
  assertEquals([rows, cols], [3, 4]);
  const expected = [0, 1, 2].flatMap((x) => [0, 1, 2, 3].map((y) => 100 * x + 10 * y + 2));
  assertEquals([...values], expected);
});

Deno.test("summary slice of a 2D batch is the whole first image; 8-bit scaling spans its own range", async () => {
  const { values } = middleSlice(coded([1, 2, 3, 1]), [1, 2, 3, 1]);
  assertEquals([...values], [0, 10, 20, 100, 110, 120]);
  const pixels = await summarySlice(tf.tensor4d([0, 1, 2, 4], [1, 2, 2, 1]));
  assertEquals([...pixels.data], [0, 64, 128, 255]);
  assertThrows(() => middleSlice([1, 2], [2]), "expected [batch, x, y, (z,) channels]");
});
