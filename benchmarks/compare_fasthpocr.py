"""raredx extraction and FastHPOCR side by side on corpora in the GSC+ layout.

    .venv/bin/pip install FastHPOCR==0.1.4        # for this benchmark only, not a raredx dependency
    .venv/bin/python benchmarks/compare_fasthpocr.py /work/shared/data/corpora/gsc-plus tests/data/ru-corpus

Both recognisers use the same HPO release (the bundled hp.obo.gz, decompressed to a temporary folder and
indexed by FastHPOCR with its default configuration; one slow indexing step is replaced by an equivalent
linear one, see ``_fast_prepare_clusters``) and are scored by the same code
(:func:`raredx.extract._eval.score`): document-level micro precision, recall and F1 of HPO ids, exact match,
gold alt ids mapped to current ids. raredx counts the terms it finds stated as present for the patient
(negated ones and those of relatives are not predictions); FastHPOCR has no negation or family detection,
so all its terms count — the "every mention" row scores raredx the same way, which is what corpora that
annotate every mention (GSC+) reward. Prints a Markdown table; MB/s is wall clock, per document.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

from raredx.extract import Extractor
from raredx.extract._eval import evaluate, read_corpus, score
from raredx.kb import find_source_files, load_knowledge_base, resolve_data_dir


def _fast_prepare_clusters(self, baseClusters) -> None:  # type: ignore[no-untyped-def]  # noqa: N803
    """FastHPOCR 0.1.4's CRIndexKB.prepareClustersToSerialise with its quadratic scan (every cluster x
    573,507 tokens; an hour on a busy machine) replaced by one pass. Same result, same order."""
    by_cluster: dict[object, list[str]] = {}
    for token, cluster in baseClusters.items():
        by_cluster.setdefault(cluster, []).append(token)
    for el, cluster in self.invertedClusters.items():
        self.clusters[cluster] = [el]
    for cluster in self.clusters:
        actual = list(by_cluster.get(cluster, []))
        for el in self.clusters[cluster]:
            if el not in actual:
                actual.append(el)
        self.clusters[cluster] = actual


def fasthpocr_annotator(obo_gz: Path, workdir: Path):  # type: ignore[no-untyped-def]
    from FastHPOCR.cr.CRIndexKB import CRIndexKB
    from FastHPOCR.HPOAnnotator import HPOAnnotator
    from FastHPOCR.IndexHPO import IndexHPO

    CRIndexKB.prepareClustersToSerialise = _fast_prepare_clusters

    obo = workdir / "hp.obo"
    with gzip.open(obo_gz, "rb") as src, open(obo, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints progress
        IndexHPO(str(obo), str(workdir)).index()
    return HPOAnnotator(str(workdir / "hp.index"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--index-dir", type=Path, help="keep FastHPOCR's index here (reused when present)")
    args = parser.parse_args()

    obo_gz = find_source_files(resolve_data_dir())["hp_obo"]
    ontology = load_knowledge_base().ontology
    raredx = Extractor.from_ontology(ontology)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        workdir = args.index_dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if (workdir / "hp.index").exists():
            from FastHPOCR.HPOAnnotator import HPOAnnotator

            fast = HPOAnnotator(str(workdir / "hp.index"))
        else:
            fast = fasthpocr_annotator(obo_gz, workdir)
        print(f"FastHPOCR index ready in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for corpus in args.corpora:
            docs = read_corpus(corpus, lambda i: ontology.redirects.get(i, i))
            results = {
                "raredx": evaluate(raredx, docs, corpus=str(corpus)),
                "raredx, every mention (negated and relatives' too)": evaluate(
                    raredx, docs, include_excluded=True, include_family=True, corpus=str(corpus)
                ),
                "FastHPOCR": score(docs, lambda text: {a.hpoUri for a in fast.annotate(text)}, str(corpus)),
                "FastHPOCR (longest match)": score(
                    docs, lambda text: {a.hpoUri for a in fast.annotate(text, longestMatch=True)}, str(corpus)
                ),
            }
            for name, r in results.items():
                mbps = r.characters / r.seconds / 1e6 if r.seconds else float("nan")
                rows.append(f"| {corpus.name} ({r.documents} docs) | {name} | {r.precision:.3f} | {r.recall:.3f} "
                            f"| **{r.f1:.3f}** | {mbps:.2f} |")
    print("| corpus | recogniser | precision | recall | F1 | MB/s (chars) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
