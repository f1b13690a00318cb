import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  conformImage,
  findSectionFiles,
  formatSplit,
  kFoldSplit,
  loadOrCreateSplit,
  matchSubjects,
  parseFold,
  parseSplit,
  randomSplit,
  restoreToOriginal,
  subjectIdOf,
  SubjectLoader,
  subjectsIn,
} from "../src/data/reader/mod.ts";
import { readNifti } from "../src/io/nifti_read.ts";
import { assertRejects, assertThrows } from "./_util.ts";
import { ANATOMICAL, assertSameArray, fileExists, writeRandomNifti } from "./_data_helpers.ts";

async function makeDataset(): Promise<{ dir: string; data: Record<string, Float32Array> }> {
  const dir = await Deno.makeTempDir();
  const data: Record<string, Float32Array> = {};
  let seed = 1;
  for (const s of ["sub01", "sub02", "sub03"]) {
    for (const m of ["T1", "T2", "seg"]) {
      data[`${s}_${m}`] = await writeRandomNifti(`${dir}/${s}_${m}.nii.gz`, [4, 3, 2], seed++);
    }
  }
  await writeRandomNifti(`${dir}/sub01_T1_bad.nii.gz`, [4, 3, 2], 99);
  await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
  return { dir, data };
}

Deno.test("subject id removes filename_contains keywords and filename_removefromid matches", () => {
  assertEquals(subjectIdOf("sub01_T1.nii.gz", { filenameContains: ["T1"] }), "sub01");
  assertEquals(
    subjectIdOf("/d/img_0042_flair_v2.nii", { filenameContains: ["flair"], filenameRemovefromid: "_v\\d+" }),
    "img_0042",
  );
  assertEquals(subjectIdOf("case7.hdr", {}), "case7");
});

Deno.test("input sections find files by contains/not_contains, write csv_file and reuse it", async () => {
  const { dir } = await makeDataset();
  const t1 = await findSectionFiles("T1", {
    pathToSearch: [dir],
    filenameContains: ["T1"],
    filenameNotContains: ["bad"],
    csvFile: `${dir}/t1.csv`,
  });
  assertEquals([...t1.keys()], ["sub01", "sub02", "sub03"]);
  assertEquals(t1.get("sub02"), `${dir}/sub02_T1.nii.gz`);
  assertEquals(Deno.readTextFileSync(`${dir}/t1.csv`).trim().split("\n").length, 3);
  // The csv wins over searching once it exists.
  Deno.writeTextFileSync(`${dir}/t1.csv`, `only,${dir}/sub01_T1.nii.gz\n`);
  const again = await findSectionFiles("T1", {
    pathToSearch: [dir],
    filenameContains: ["T1"],
    csvFile: `${dir}/t1.csv`,
  });
  assertEquals([...again.keys()], ["only"]);
  await writeRandomNifti(`${dir}/T1_sub01.nii.gz`, [4, 3, 2], 98);
  await assertRejects(
    () => findSectionFiles("T1", { pathToSearch: [dir], filenameContains: ["T1"], filenameNotContains: ["bad"] }),
    `both give subject id "sub01"`,
  );
  await assertRejects(
    () => findSectionFiles("X", { pathToSearch: [dir], filenameContains: ["zzz"] }),
    "input section [X]: no image",
  );
  await assertRejects(() => findSectionFiles("Y", {}), "neither csv_file, csv_data_file nor path_to_search");
});

Deno.test("subjects are matched across modalities and a missing modality names subject and section", () => {
  const t1 = new Map([["a", "a_T1"], ["b", "b_T1"]]);
  const t2 = new Map([["a", "a_T2"], ["b", "b_T2"]]);
  const seg = new Map([["a", "a_seg"]]);
  const subjects = matchSubjects({ T1: t1, T2: t2, seg }, { required: ["T1", "T2"] });
  assertEquals(subjects.map((s) => s.id), ["a", "b"]);
  assertEquals(subjects[0].files, { T1: "a_T1", T2: "a_T2", seg: "a_seg" });
  assertThrows(() => matchSubjects({ T1: t1, T2: t2, seg }), `subject "b" has no file in input section [seg]`);
});

Deno.test("loader stacks modalities as channels, caches at most cacheSize subjects and shares concurrent loads", async () => {
  const { dir, data } = await makeDataset();
  const sections = {
    T1: { pathToSearch: [dir], filenameContains: ["T1"], filenameNotContains: ["bad"] },
    T2: { pathToSearch: [dir], filenameContains: ["T2"] },
    seg: { pathToSearch: [dir], filenameContains: ["seg"], interpOrder: 0 as const },
  };
  const files = {
    T1: await findSectionFiles("T1", sections.T1),
    T2: await findSectionFiles("T2", sections.T2),
    seg: await findSectionFiles("seg", sections.seg),
  };
  const loader = new SubjectLoader(matchSubjects(files), {
    sections,
    roles: { image: ["T1", "T2"], label: ["seg"] },
    cacheSize: 2,
  });
  const [a, a2] = await Promise.all([loader.load(0), loader.load("sub01")]);
  assert(a === a2);
  assertEquals(loader.filesRead, 3);
  assertEquals(a.volumes.image.channels, 2);
  assertSameArray(a.volumes.image.data.subarray(0, 24), data.sub01_T1, "T1 channel");
  assertSameArray(a.volumes.image.data.subarray(24), data.sub01_T2, "T2 channel");
  await loader.load(1);
  await loader.load(2);
  assertEquals(loader.cached, ["sub02", "sub03"]);
  await loader.load(0);
  assertEquals(loader.filesRead, 12);
  assertThrows(() => loader.load(7), "no subject 7");
});

Deno.test("loader reports a modality whose loaded shape differs, naming subject and sections", async () => {
  const dir = await Deno.makeTempDir();
  await writeRandomNifti(`${dir}/s1_T1.nii`, [4, 3, 2], 1);
  await writeRandomNifti(`${dir}/s1_T2.nii`, [5, 3, 2], 2);
  const loader = new SubjectLoader([{ id: "s1", files: { T1: `${dir}/s1_T1.nii`, T2: `${dir}/s1_T2.nii` } }], {
    sections: { T1: {}, T2: {} },
    roles: { image: ["T1", "T2"] },
  });
  await assertRejects(() => loader.load(0), `subject "s1": section [T2]`);
  assertThrows(
    () => new SubjectLoader([], { sections: {}, roles: { image: ["T1"] } }),
    "input section [T1], which is not defined",
  );
});

Deno.test({
  name: "reorient to RAS + resample to 1 mm (nearest) then restore returns nibabel's anatomical.nii exactly",
  ignore: !fileExists(ANATOMICAL),
  fn: async () => {
    const img = await readNifti(ANATOMICAL);
    const { volume, geometry } = conformImage(img, { axcodes: "RAS", pixdim: [1, 1, 1], interpOrder: 0 });
    assertEquals(volume.shape, [65, 81, 49]);
    const back = restoreToOriginal(volume, geometry, { order: 0 });
    assertEquals(back.shape, img.shape);
    assertEquals(back.affine, img.affine);
    assertSameArray(back.data, Float32Array.from(img.data), "restored voxels");
  },
});

Deno.test("dataset split is created with a fixed seed, written, and reused when present", async () => {
  const dir = await Deno.makeTempDir();
  const ids = Array.from({ length: 20 }, (_, i) => `s${String(i).padStart(2, "0")}`);
  const opts = { excludeFractionForValidation: 0.2, excludeFractionForInference: 0.1, seed: 3 };
  const split = await loadOrCreateSplit(`${dir}/split.csv`, ids, opts);
  assertEquals(subjectsIn(split, "validation").length, 4);
  assertEquals(subjectsIn(split, "inference").length, 2);
  assertEquals(subjectsIn(split, "training").length, 14);
  assertEquals(formatSplit(randomSplit([...ids].reverse(), opts)), formatSplit(split));
  assert(formatSplit(randomSplit(ids, { ...opts, seed: 4 })) !== formatSplit(split));
  // Reused, even when asked for other fractions.
  Deno.writeTextFileSync(`${dir}/split.csv`, formatSplit(split).replace("training", "inference"));
  const reused = await loadOrCreateSplit(`${dir}/split.csv`, ids, { excludeFractionForValidation: 0.5 });
  assertEquals(subjectsIn(reused, "inference").length, 3);
  await assertRejects(() => loadOrCreateSplit(`${dir}/split.csv`, [...ids, "new"]), `no row for subject "new"`);
  assertThrows(() => parseSplit("a,training\nb,testing\n", "f.csv"), `"f.csv" row 2`);
  assertEquals(subjectsIn(randomSplit(["x", "y"], { excludeFractionForValidation: 0.1 }), "validation").length, 1);
});

Deno.test("k-fold splits put every non-inference subject in validation exactly once over K folds", () => {
  const base = randomSplit(Array.from({ length: 23 }, (_, i) => `s${i}`), {
    excludeFractionForInference: 0.1,
    seed: 1,
  });
  const seen = new Map<string, number>();
  for (let k = 1; k <= 5; k++) {
    const split = kFoldSplit(base, { fold: k, folds: 5, seed: 9 });
    const valid = subjectsIn(split, "validation");
    assert(valid.length === 4 || valid.length === 5, `fold ${k} has ${valid.length}`);
    assertEquals(subjectsIn(split, "inference"), subjectsIn(base, "inference"));
    for (const id of valid) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  assertEquals(seen.size, 21);
  assert([...seen.values()].every((n) => n === 1));
  assertEquals(parseFold("2/5"), { fold: 2, folds: 5 });
  assertThrows(() => parseFold("6/5"), `invalid fold "6/5"`);
});
