"""Time of the workbench's HPO term search (autocomplete) in Russian and in English.

    .venv/bin/python benchmarks/term_search.py

Types each word of a clinical list letter by letter (every prefix from two letters, as the autocomplete
queries while one types) and times ``TermLabels.search`` for 12 hits, on the bundled knowledge base. Also
the time to load the term names and to build the Russian index (done once per server process). Times are
CPU milliseconds of this process (``time.process_time``), so other work on a shared machine does not count.
Prints JSON.
"""

from __future__ import annotations

import json
import statistics
import time

from raredx.core import RareDx
from raredx.extract import TermLabels

WORDS = {
    "ru": ["судорожный приступ", "микроцефалия", "задержка психомоторного развития", "мышечная гипотония",
           "арахнодактилия", "гепатоспленомегалия", "нистагм", "кардиомиопатия"],
    "en": ["seizure", "microcephaly", "global developmental delay", "muscular hypotonia", "arachnodactyly",
           "hepatosplenomegaly", "nystagmus", "cardiomyopathy"],
}


def main() -> None:
    ontology = RareDx.load().kb.ontology
    t0 = time.process_time()
    labels = TermLabels.load(ontology)
    t1 = time.process_time()
    labels.russian  # noqa: B018 - build it
    out: dict[str, object] = {"load_s": round(t1 - t0, 3), "russian_index_s": round(time.process_time() - t1, 3)}
    for lang, words in WORDS.items():
        times = []
        for word in words:
            for n in range(2, len(word) + 1):
                start = time.process_time()
                labels.search(word[:n], lang, 12)
                times.append((time.process_time() - start) * 1000)
        times.sort()
        out[lang] = {"queries": len(times), "median_ms": round(statistics.median(times), 2),
                     "p95_ms": round(times[int(len(times) * 0.95)], 2), "max_ms": round(times[-1], 2)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
