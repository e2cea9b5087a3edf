"""History compression: bytes per attribute instance, raw vs zstd alone vs zstd with the vendored
dictionary, and the cost per instance, measured on a broker database (e.g. one bench/growth.py left).

``--train OUT.zdict`` trains a new dictionary from that database's instances (how
broker/dictionaries/ was made: from a 2-day run of the demo town). A new dictionary is added
beside the old ones (rows name theirs) and named in ``broker.history.CURRENT``; see that module.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import zstandard

from broker.history import CURRENT, LEVEL, Codec


def instances(database: Path, limit: int, codec: Codec) -> list[bytes]:
    """A random sample of instance documents, from either layout of the history table."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        old = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'attr_history'").fetchone()
        table = "attr_history" if old else "history"
        rows = db.execute(f"SELECT doc FROM {table} ORDER BY random() LIMIT ?", (limit,)).fetchall()
    return [row[0] if old else codec.expand(row[0]) for row in rows]


def per_instance(docs: list[bytes], compress: zstandard.ZstdCompressor) -> tuple[float, float]:
    began = time.perf_counter()
    size = sum(len(compress.compress(d)) for d in docs)
    return size / len(docs), (time.perf_counter() - began) / len(docs) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, help="a broker.sqlite")
    parser.add_argument("--sample", type=int, default=20_000, help="instances to read")
    parser.add_argument("--train", type=Path, help="write a new dictionary trained on the sample here")
    parser.add_argument("--size", type=int, default=16_384, help="dictionary size in bytes")
    args = parser.parse_args()
    codec = Codec()
    docs = instances(args.database, args.sample, codec)
    if args.train:
        dictionary = zstandard.train_dictionary(args.size, list[bytes | bytearray | memoryview](docs))
        path = args.train.with_name(f"{dictionary.dict_id()}.zdict")
        path.write_bytes(dictionary.as_bytes())
        print(f"dictionary {dictionary.dict_id()} ({args.size} bytes) written to {path}")
        return 0
    raw = sum(map(len, docs)) / len(docs)
    plain = per_instance(docs, zstandard.ZstdCompressor(level=LEVEL))
    vendored = per_instance(docs, zstandard.ZstdCompressor(level=LEVEL, dict_data=codec.current))
    print(f"{len(docs)} instances: raw {raw:.0f} B; zstd {plain[0]:.0f} B ({plain[1]:.1f} us); zstd with dictionary "
          f"{CURRENT} {vendored[0]:.0f} B ({vendored[1]:.1f} us): {raw / vendored[0]:.1f}x smaller")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
