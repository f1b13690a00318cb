import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  ClassificationAggregator,
  fromBatchData,
  GridAggregator,
  gridSampler,
  InferenceWriter,
  padVolume,
  SubjectLoader,
  toBatchTensor,
  unpadVolume,
} from "../src/data/mod.ts";
import { readNifti } from "../src/io/nifti_read.ts";
import { tf } from "../src/deps.ts";
import { assertNoTensorLeak } from "./_util.ts";
import { ANATOMICAL, assertSameArray, fileExists, writeRandomNifti } from "./_data_helpers.ts";

Deno.test({
  name:
    "inference path on anatomical.nii (RAS, 1×2×0.5 mm, padded, grid 16³ border 3) writes the input back on its own grid",
  ignore: !fileExists(ANATOMICAL),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const loader = new SubjectLoader([{ id: "anat", files: { T1: ANATOMICAL } }], {
      sections: { T1: { axcodes: "RAS", pixdim: [1, 2, 0.5], interpOrder: 0 } },
      roles: { image: ["T1"] },
    });
    const subject = await loader.load(0);
    const { volume: padded, padding } = padVolume(subject.volumes.image, { volumePaddingSize: [3] });
    const agg = new GridAggregator({ shape: padded.shape, border: [3] });
    const windows = [
      ...gridSampler({ id: subject.id, volumes: { image: padded } }, {
        spatialWindowSize: { image: [16, 16, 16] },
        border: [3],
      }),
    ];
    await assertNoTensorLeak("inference loop", async () => {
      for (let i = 0; i < windows.length; i += 3) {
        const batch = windows.slice(i, i + 3);
        const x = toBatchTensor(batch, "image");
        const y = tf.tidy(() => x.mul(1)); // the "network": identity
        agg.addBatch(fromBatchData(await y.data(), y.shape), batch);
        tf.dispose([x, y]);
      }
    });
    const writer = new InferenceWriter({ saveSegDir: `${dir}/out` });
    const path = await writer.write(subject.id, unpadVolume(agg.result(), padding), subject.geometry.image);
    assertEquals(path, `${dir}/out/anat_niftynet_out.nii.gz`);
    assertEquals(Deno.readTextFileSync(`${dir}/out/inferred.csv`), `anat,${path}\n`);
    const [written, original] = [await readNifti(path), await readNifti(ANATOMICAL)];
    assertEquals(written.shape, original.shape);
    assertEquals(written.affine, original.affine);
    assertSameArray(written.data, Float32Array.from(original.data), "written voxels");
  },
});

Deno.test("inferred.csv lists every subject written, with a configurable postfix; classification CSV has means", async () => {
  const dir = await Deno.makeTempDir();
  await writeRandomNifti(`${dir}/a.nii`, [3, 3, 3], 1);
  await writeRandomNifti(`${dir}/b.nii`, [3, 3, 3], 2);
  const loader = new SubjectLoader([{ id: "a", files: { x: `${dir}/a.nii` } }, {
    id: "b",
    files: { x: `${dir}/b.nii` },
  }], {
    sections: { x: {} },
    roles: { image: ["x"] },
  });
  const writer = new InferenceWriter({ saveSegDir: `${dir}/o`, outputPostfix: "_seg" });
  for (const i of [0, 1]) {
    const s = await loader.load(i);
    await writer.write(s.id, s.volumes.image, s.geometry.image);
  }
  assertEquals(Deno.readTextFileSync(`${dir}/o/inferred.csv`), `a,${dir}/o/a_seg.nii.gz\nb,${dir}/o/b_seg.nii.gz\n`);
  const cls = new ClassificationAggregator();
  cls.add("a", [0.2, 0.8]);
  cls.add("a", [0.4, 0.6]);
  cls.add("b", [1, 0]);
  const csv = await cls.write(`${dir}/cls`);
  const rows = Deno.readTextFileSync(csv).trim().split("\n").map((r) => r.split(","));
  assertEquals(rows[0][0], "a");
  assert(Math.abs(Number(rows[0][1]) - 0.3) < 1e-12 && rows[1].join() === "b,1,0");
});
