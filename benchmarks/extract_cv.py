"""Does a small learned filter over the recogniser's candidates pay? Document-grouped cross-validation on GSC+.

    .venv/bin/python benchmarks/extract_cv.py [/work/shared/data/corpora/gsc-plus] [--folds 5] [--seed 0]

Each term the English recogniser finds stated for the patient in a document is a candidate, described by a few
features (how often and how long it was mentioned, whether the words are the HPO label itself, whether it was
uncertain, how deep and how general the term is, whether an ancestor or a descendant was found in the same
document). A logistic regression (numpy, L2, gradient descent) learns which candidates are gold. The documents
are split into folds; for each fold the model and its decision threshold (the one that maximises F1 on the
training documents) are fitted on the other folds only, then applied to the held-out documents. Printed per
fold: document-level micro F1 of the recogniser as is and with the filter (gold terms never found count as
misses in both), and the gain. The filter is only worth shipping if it gains on (nearly) every fold.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import numpy as np

from raredx.extract import Extractor
from raredx.extract._eval import Document, read_corpus
from raredx.kb import load_knowledge_base

FEATURES = ("bias", "log_mentions", "longest_tokens", "single_word", "label_text", "uncertain", "log_depth",
            "log_descendants", "has_found_descendant", "has_found_ancestor", "label_words")


def candidates(ex: Extractor, onto, doc: Document) -> list[tuple[str, list[float], bool]]:  # type: ignore[no-untyped-def]
    terms = [t for t in ex.extract(doc.text, "en") if not t.excluded and not t.onset]
    by_id: dict[str, list] = {}
    for t in terms:
        by_id.setdefault(t.id, []).append(t)
    index = {i: onto.index(i) for i in by_id}
    out = []
    for tid, mentions in by_id.items():
        i = index[tid]
        label = onto.labels[i]
        others = [index[j] for j in by_id if j != tid]
        feats = [
            1.0,
            math.log1p(len(mentions)),
            float(max(len(m.text.split()) for m in mentions)),
            float(all(len(m.text.split()) == 1 for m in mentions)),
            float(any(m.text.lower() == label.lower() for m in mentions)),
            float(all(m.uncertain for m in mentions)),
            math.log1p(len(onto.ancestors(i))),
            math.log1p(len(onto.descendants(i))),
            float(any(onto.is_ancestor(i, j) for j in others)),
            float(any(onto.is_ancestor(j, i) for j in others)),
            float(len(label.split())),
        ]
        out.append((tid, feats, tid in doc.gold))
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 3000, lr: float = 0.5) -> np.ndarray:
    mu, sd = x[:, 1:].mean(0), x[:, 1:].std(0) + 1e-9
    z = np.hstack([x[:, :1], (x[:, 1:] - mu) / sd])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        grad = z.T @ (p - y) / len(y) + l2 * np.r_[0, w[1:]]
        w -= lr * grad
    return np.r_[w, mu, sd]


def predict(model: np.ndarray, x: np.ndarray) -> np.ndarray:
    k = x.shape[1]
    w, mu, sd = model[:k], model[k : 2 * k - 1], model[2 * k - 1 :]
    z = np.hstack([x[:, :1], (x[:, 1:] - mu) / sd])
    return 1 / (1 + np.exp(-z @ w))


def f1(kept: np.ndarray, y: np.ndarray, n_gold: int) -> float:
    tp = int((kept & y).sum())
    fp = int((kept & ~y).sum())
    fn = n_gold - tp
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=Path("/work/shared/data/corpora/gsc-plus"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    onto = load_knowledge_base().ontology
    ex = Extractor.from_ontology(onto)
    docs = read_corpus(args.corpus, lambda i: onto.redirects.get(i, i))
    rows = {d.id: candidates(ex, onto, d) for d in docs}
    gold = {d.id: len(d.gold) for d in docs}
    ids = sorted(rows)
    random.Random(args.seed).shuffle(ids)
    folds = [ids[k :: args.folds] for k in range(args.folds)]
    report = []
    for k, test in enumerate(folds):
        train = [d for j, f in enumerate(folds) if j != k for d in f]

        def arrays(doc_ids: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
            cands = [c for d in doc_ids for c in rows[d]]
            x = np.array([c[1] for c in cands], dtype=float).reshape(-1, len(FEATURES))
            return x, np.array([c[2] for c in cands], dtype=bool), sum(gold[d] for d in doc_ids)

        xtr, ytr, gtr = arrays(train)
        xte, yte, gte = arrays(test)
        model = fit(xtr, ytr.astype(float))
        ptr = predict(model, xtr)
        threshold = max(np.linspace(0.0, 0.9, 91), key=lambda t: f1(ptr >= t, ytr, gtr))
        base = f1(np.ones(len(yte), dtype=bool), yte, gte)
        filtered = f1(predict(model, xte) >= threshold, yte, gte)
        report.append({"fold": k, "documents": len(test), "threshold": round(float(threshold), 2),
                       "f1_recogniser": round(base, 4), "f1_filtered": round(filtered, 4),
                       "gain": round(filtered - base, 4)})
    gains = [r["gain"] for r in report]
    summary = {"folds": report, "mean_gain": round(float(np.mean(gains)), 4),
               "folds_gaining": sum(g > 0 for g in gains), "features": FEATURES}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
