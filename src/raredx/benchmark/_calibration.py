"""The reliability diagram of a benchmark: how often the first-ranked disease is right, against the probability
raredx gave it, for all cases and for the cited and unseen subsets (matplotlib, written as a PNG)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from raredx.benchmark._runner import CaseRank

BINS = 10


def reliability_diagram(results: list[CaseRank], path: Path, *, title: str = "") -> None:
    """Accuracy against mean confidence per probability bin, with the diagonal; below, cases per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from raredx.benchmark._runner import calibration_error

    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5.5, 6.5), height_ratios=(3, 1), sharex=True)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
    edges = np.linspace(0, 1, BINS + 1)
    for name, color, subset in (("all", "black", None), ("cited", "tab:orange", "cited"), ("unseen", "tab:blue", "unseen")):
        rs = [r for r in results if subset is None or r.subset == subset]
        if not rs:
            continue
        conf = np.array([r.top1_probability for r in rs])
        hit = np.array([r.rank == 1 for r in rs])
        which = np.minimum((conf * BINS).astype(int), BINS - 1)
        xs, ys = zip(*[(conf[which == b].mean(), hit[which == b].mean()) for b in range(BINS) if np.any(which == b)])
        ece = calibration_error(conf, hit)
        ax.plot(xs, ys, marker="o", color=color, linewidth=1.5 if subset is None else 1,
                label=f"{name} (n={len(rs)}, ECE {ece:.3f})")
        hist.hist(conf, bins=edges, histtype="step", color=color, linewidth=1.2)
    ax.set_ylabel("share of cases whose first disease is right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    # the subtitle (data set, masking, fold) wrapped to the figure's width, so that it is never cut off
    ax.set_title("\n".join(["Calibration of the first-ranked disease", *textwrap.wrap(title, 70)]), fontsize=9)
    hist.set_xlabel("probability raredx gave the first-ranked disease")
    hist.set_ylabel("cases")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
