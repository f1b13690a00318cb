/**
 * Published files of brainchop's models (neuroneural/brainchop, `public/models/<dir>/<file>`): exact byte sizes
 * and sha256, as listed in the upstream tree. Checked against a local mirror by `tests/zoo_manifest_test.ts`.
 *
 * @module
 */
import type { ZooFile } from "./files.ts";

/** Upstream root of the published model folders. */
export const BRAINCHOP_BASE_URL = "https://raw.githubusercontent.com/neuroneural/brainchop/master/public/";

function file(path: string, bytes: number, sha256: string): ZooFile {
  return { path, url: `${BRAINCHOP_BASE_URL}${path}`, bytes, sha256 };
}

/** Every published file, by path relative to a mirror root. */
export const BRAINCHOP_FILES: Readonly<Record<string, ZooFile>> = {
  "models/mindgrab/colormap.json": file(
    "models/mindgrab/colormap.json",
    108,
    "b29809105747c752c889036bb953744cbd63b67f25b9c1b0657eaf00841fd1bf",
  ),
  "models/mindgrab/model.bin": file(
    "models/mindgrab/model.bin",
    584948,
    "c9a01490fe2d13acc1515fd019b69db176ebe6f40c9b84aeb77f25acbc2ee0f3",
  ),
  "models/mindgrab/model.json": file(
    "models/mindgrab/model.json",
    68331,
    "24d1bcccba736a83c80b336ca349297f4839ae08b8ec92ec72c5d6adb9afe76e",
  ),
  "models/model11_gw_ae/colorLUT.json": file(
    "models/model11_gw_ae/colorLUT.json",
    68,
    "be130ff358b070e4db0210aaeae8c73bd14283dcfb63b928331b2de743f1a2b6",
  ),
  "models/model11_gw_ae/group1-shard1of1.bin": file(
    "models/model11_gw_ae/group1-shard1of1.bin",
    93160,
    "7f93edb82252cdc59e3faf3ae5a27622bc748d02db64df2cf429ad807891c261",
  ),
  "models/model11_gw_ae/labels.json": file(
    "models/model11_gw_ae/labels.json",
    62,
    "6e4d9faf315734b3d1d4ea2d592f0e8cd15dbb4354a77555773dc2a94f6bb7bd",
  ),
  "models/model11_gw_ae/model.json": file(
    "models/model11_gw_ae/model.json",
    9054,
    "09d1afa152a907a545ce814842613559fbfe2bfdaab0bc8708ea79cd3e17229c",
  ),
  "models/model18cls/colorLUT.json": file(
    "models/model18cls/colorLUT.json",
    475,
    "146b78b630d8a09d928ce483f3bec96c4e876c7e0ea93a38019f9952abc85c6c",
  ),
  "models/model18cls/colormap.json": file(
    "models/model18cls/colormap.json",
    608,
    "10ebff5980dd2afe1a1407dd951d1258dfc95fec51641bab9b4a9b88d76808c5",
  ),
  "models/model18cls/labels.json": file(
    "models/model18cls/labels.json",
    443,
    "70e8e812435a994a6b880dea1439a8f0fb45e5065233929e7f9b7475369e9a3e",
  ),
  "models/model18cls/model.bin": file(
    "models/model18cls/model.bin",
    385632,
    "725096439f64ece1ca45ec3c5115c9fa6004f6538cac3032b85966d3772b605e",
  ),
  "models/model18cls/model.json": file(
    "models/model18cls/model.json",
    28638,
    "57346ac8b66ebe8d92296b1cf9988143be4949b6ef9695a790ef3d7fba3fb81b",
  ),
  "models/model20chan3cls/colorLUT.json": file(
    "models/model20chan3cls/colorLUT.json",
    68,
    "be130ff358b070e4db0210aaeae8c73bd14283dcfb63b928331b2de743f1a2b6",
  ),
  "models/model20chan3cls/colormap.json": file(
    "models/model20chan3cls/colormap.json",
    137,
    "71f3ce5c5d9d0db1208937f55fa35b9970ce63c1a24753cf74c471fe9a3c27eb",
  ),
  "models/model20chan3cls/labels.json": file(
    "models/model20chan3cls/labels.json",
    62,
    "6e4d9faf315734b3d1d4ea2d592f0e8cd15dbb4354a77555773dc2a94f6bb7bd",
  ),
  "models/model20chan3cls/model.bin": file(
    "models/model20chan3cls/model.bin",
    348732,
    "aecc03e3db596bfffab0ea1143f0848dbf4da4e317e04ef202986c6888cd467f",
  ),
  "models/model20chan3cls/model.json": file(
    "models/model20chan3cls/model.json",
    28897,
    "53932edad5330073bbac906049a31b84a2ca3d8c65d658feea848130004b984b",
  ),
  "models/model21_104class/colorLUT.json": file(
    "models/model21_104class/colorLUT.json",
    2757,
    "c825df63d8957abbaf4ec6d80a00556a7c3fa2f4b835d996b7d12262b73068b6",
  ),
  "models/model21_104class/colormap.json": file(
    "models/model21_104class/colormap.json",
    3904,
    "a450db760609a91a38b3ff1810a465841c39b1ff138cab005071c897ad0da069",
  ),
  "models/model21_104class/group1-shard1of1.bin": file(
    "models/model21_104class/group1-shard1of1.bin",
    345488,
    "8a0aa1e2d94e5edc94c54aed900da978d2a1388bee4621cee05e473db64b84af",
  ),
  "models/model21_104class/labels.json": file(
    "models/model21_104class/labels.json",
    3268,
    "6916318bacc5f1b41d97348a6b0b19eb47fe7dd8e50bb1583377ebe595197aa8",
  ),
  "models/model21_104class/model.json": file(
    "models/model21_104class/model.json",
    8504,
    "b80a9ac7dccaecc08d59a7f2285a1dce50305d317f505b437518773ab2b27446",
  ),
  "models/model21_104class/model_D95.json": file(
    "models/model21_104class/model_D95.json",
    8503,
    "32794cec0233349b82b12279fd255c0c50d1536f21533fd223d48375fd923840",
  ),
  "models/model30chan18cls/colorLUT.json": file(
    "models/model30chan18cls/colorLUT.json",
    475,
    "146b78b630d8a09d928ce483f3bec96c4e876c7e0ea93a38019f9952abc85c6c",
  ),
  "models/model30chan18cls/colormap.json": file(
    "models/model30chan18cls/colormap.json",
    608,
    "10ebff5980dd2afe1a1407dd951d1258dfc95fec51641bab9b4a9b88d76808c5",
  ),
  "models/model30chan18cls/labels.json": file(
    "models/model30chan18cls/labels.json",
    443,
    "70e8e812435a994a6b880dea1439a8f0fb45e5065233929e7f9b7475369e9a3e",
  ),
  "models/model30chan18cls/model.bin": file(
    "models/model30chan18cls/model.bin",
    784152,
    "7039651d91c4cee0b7b1ddfe93fe2f5cb9b71d99f5a126fdef407e2a36bb52d4",
  ),
  "models/model30chan18cls/model.json": file(
    "models/model30chan18cls/model.json",
    28638,
    "d28521c0965e452c371314e4b5b4dcef7b19aa91241b17ef894ac24952139701",
  ),
  "models/model30chan50cls/colorLUT.json": file(
    "models/model30chan50cls/colorLUT.json",
    1320,
    "df92a76b3b62962e66765838572e2ce808dd582f55d42c797615fce4fa1257a2",
  ),
  "models/model30chan50cls/colormap.json": file(
    "models/model30chan50cls/colormap.json",
    1722,
    "3895b0c40b1ef299bda68ac79bce6f1bbbb6e28d9dd990ef121402c08bc34645",
  ),
  "models/model30chan50cls/labels.json": file(
    "models/model30chan50cls/labels.json",
    1442,
    "871baed9f7a942fb7485c35d812dc5fc2664750ed6f00b4c24e3cd61176f7edc",
  ),
  "models/model30chan50cls/model.bin": file(
    "models/model30chan50cls/model.bin",
    788120,
    "a7e597568dc7750c64cce8c64c4ca3ec7215716949efd741f19904da1baffa81",
  ),
  "models/model30chan50cls/model.json": file(
    "models/model30chan50cls/model.json",
    28901,
    "105db3a77c49fb3e7d59c6e9506981e13223b76dcd4c4b407640d422409e5353",
  ),
  "models/model5_gw_ae/colorLUT.json": file(
    "models/model5_gw_ae/colorLUT.json",
    68,
    "be130ff358b070e4db0210aaeae8c73bd14283dcfb63b928331b2de743f1a2b6",
  ),
  "models/model5_gw_ae/colormap.json": file(
    "models/model5_gw_ae/colormap.json",
    82,
    "36a45c1cc84ccb73482f3ad5a4d482da1f965e55c4b59f8f18d3649a8e7fd94d",
  ),
  "models/model5_gw_ae/colormap3.json": file(
    "models/model5_gw_ae/colormap3.json",
    137,
    "71f3ce5c5d9d0db1208937f55fa35b9970ce63c1a24753cf74c471fe9a3c27eb",
  ),
  "models/model5_gw_ae/group1-shard1of1.bin": file(
    "models/model5_gw_ae/group1-shard1of1.bin",
    22392,
    "ca0d1b8ff72f8719d9525acaf9a1f1cb66dbb173b4ee1d7540f99e022cf4bfd8",
  ),
  "models/model5_gw_ae/labels.json": file(
    "models/model5_gw_ae/labels.json",
    62,
    "6e4d9faf315734b3d1d4ea2d592f0e8cd15dbb4354a77555773dc2a94f6bb7bd",
  ),
  "models/model5_gw_ae/model.json": file(
    "models/model5_gw_ae/model.json",
    9356,
    "7aabd59933bd3528f120107165f5dd577c5b749cf91fc2f949987d7bc620ce59",
  ),
};
