"""Reference subject → shard assignment: 32-bit FNV-1a of the id's UTF-8 bytes, then MurmurHash3's fmix32
finaliser, modulo the shard count (written independently from the published definitions).
Usage: shard_hash.py OUT.json"""
import json
import sys

MASK = 0xFFFFFFFF


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & MASK
    return h


def fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


ids = [f"subject{k:02d}" for k in range(1, 13)] + ["", "a", "foobar", "sub-0001_ses-01", "Übung-ß", "脳-7", "x" * 100]
# Published FNV-1a 32 test vectors, to show the first stage is FNV-1a.
vectors = {s: fnv1a32(s.encode()) for s in ["", "a", "foobar"]}
counts = [1, 2, 3, 7, 1000]
out = {
    "fnv1a": vectors,
    "ids": ids,
    "hash": [fmix32(fnv1a32(s.encode("utf-8"))) for s in ids],
    "shards": {str(n): [fmix32(fnv1a32(s.encode("utf-8"))) % n for s in ids] for n in counts},
}
json.dump(out, open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
