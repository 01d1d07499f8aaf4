"""Load time and throughput of the recogniser.

    .venv/bin/python benchmarks/extract_speed.py [CORPUS_DIR ...] [--megabytes 5]

Loads the recogniser four times (the first load may compile and cache the lexicon; the best of the other
three is the warm load), then extracts from the corpus texts repeated to about ``--megabytes`` MB of UTF-8
text, one document at a time, on one core. Times are CPU seconds of this process (``time.process_time``),
so other work on a shared machine does not count; wall seconds are printed too. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from raredx.extract import Extractor

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="*", type=Path,
                        default=[Path("/work/shared/data/corpora/gsc-plus"), ROOT / "tests" / "data" / "ru-corpus"])
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()

    t0 = time.process_time()
    ex = Extractor.load()
    first = time.process_time() - t0
    warm = []
    for _ in range(3):
        t0, w0 = time.process_time(), time.perf_counter()
        ex = Extractor.load()
        warm.append((time.process_time() - t0, time.perf_counter() - w0))
    best = min(warm)
    result: dict[str, object] = {"first_load_cpu_s": round(first, 3), "warm_load_cpu_s": round(best[0], 3),
                                 "warm_load_wall_s": round(best[1], 3)}
    for corpus in args.corpora:
        docs = [p.read_text(encoding="utf-8") for p in sorted((corpus / "corpus").iterdir()) if p.is_file()]
        size = sum(len(d.encode()) for d in docs)
        reps = max(1, int(args.megabytes * 1e6 / size))
        t0, w0 = time.process_time(), time.perf_counter()
        terms = 0
        for _ in range(reps):
            for d in docs:
                terms += len(ex.extract(d))
        seconds, wall = time.process_time() - t0, time.perf_counter() - w0
        mb = size * reps / 1e6
        result[corpus.name] = {"megabytes": round(mb, 2), "cpu_s": round(seconds, 2), "wall_s": round(wall, 2),
                               "mb_per_cpu_s": round(mb / seconds, 2), "terms": terms}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
