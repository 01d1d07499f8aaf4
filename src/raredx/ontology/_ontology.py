"""The HPO as compact arrays: term index, parents, ancestor closure, id redirects."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from raredx.errors import InputError, KnowledgeBaseError, Message, UnknownTermError
from raredx.ontology._obo import OboDocument

log = logging.getLogger(__name__)

ALL = "HP:0000001"
PHENOTYPIC_ABNORMALITY = "HP:0000118"
MODE_OF_INHERITANCE = "HP:0000005"
ONSET = "HP:0003674"
CLINICAL_MODIFIER = "HP:0012823"
FREQUENCY = "HP:0040279"


@dataclass(frozen=True, slots=True)
class TermResolution:
    """The outcome of looking up a term id: the index used and, if the id was redirected, from what."""

    index: int
    term_id: str
    replaced: str | None = None


class Ontology:
    """An immutable view of the HPO. Terms are addressed by a dense integer index.

    ``ancestors(i)`` includes ``i`` itself. Alt ids and obsolete ids with ``replaced_by`` resolve
    to the current term (see :meth:`resolve`).
    """

    def __init__(
        self,
        version: str,
        ids: list[str],
        labels: list[str],
        synonyms: list[tuple[str, ...]],
        parent_ptr: np.ndarray,
        parent_idx: np.ndarray,
        redirects: dict[str, str],
        obsolete: dict[str, tuple[str, ...]],
        closure: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """``closure``: the (anc_ptr, anc_idx) arrays if already computed (as cached), else computed."""
        self.version = version
        self.ids = ids
        self.labels = labels
        self.synonyms = synonyms
        self.parent_ptr = parent_ptr
        self.parent_idx = parent_idx
        self.redirects = redirects
        self.obsolete = obsolete  # obsolete id -> ids to consider (no replacement)
        self._index = {t: i for i, t in enumerate(ids)}
        self.anc_ptr, self.anc_idx = closure if closure is not None else _ancestor_closure(parent_ptr, parent_idx)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_obo(cls, doc: OboDocument) -> Ontology:
        live = [t for t in doc.terms if not t.obsolete]
        ids = [t.id for t in live]
        index = {t: i for i, t in enumerate(ids)}
        ptr = [0]
        idx: list[int] = []
        for t in live:
            idx.extend(index[p] for p in t.parents if p in index)
            ptr.append(len(idx))
        redirects: dict[str, str] = {}
        obsolete: dict[str, tuple[str, ...]] = {}
        for t in live:
            for alt in t.alt_ids:
                redirects[alt] = t.id
        for t in doc.terms:
            if t.obsolete:
                if t.replaced_by and t.replaced_by in index:
                    redirects[t.id] = t.replaced_by
                else:
                    obsolete[t.id] = tuple(c for c in t.consider if c in index)
        return cls(
            version=doc.version,
            ids=ids,
            labels=[t.name for t in live],
            synonyms=[tuple(t.synonyms) for t in live],
            parent_ptr=np.asarray(ptr, dtype=np.int32),
            parent_idx=np.asarray(idx, dtype=np.int32),
            redirects=redirects,
            obsolete=obsolete,
        )

    # -- lookup -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, term_id: object) -> bool:
        return term_id in self._index

    def index(self, term_id: str) -> int | None:
        """The index of a current term id, or None (alt and obsolete ids are not followed)."""
        return self._index.get(term_id)

    def resolve(self, term_id: str, where: str | Message | None = None) -> TermResolution:
        """Look up ``term_id``, following alt ids and obsolete ids with a replacement.

        Raises :class:`UnknownTermError` for ids that are not in this release and
        :class:`InputError` for obsolete ids without a replacement (naming what to consider).
        """
        term_id = term_id.strip()
        i = self._index.get(term_id)
        if i is not None:
            return TermResolution(i, term_id)
        new = self.redirects.get(term_id)
        if new is not None:
            return TermResolution(self._index[new], new, replaced=term_id)
        if term_id in self.obsolete:
            consider = ", ".join(self.obsolete[term_id]) or "a current term"
            place = f" in {where}" if where else ""
            raise InputError(Message(
                f"HPO term {term_id}{place} is obsolete and has no replacement; consider {consider} instead.",
                "obsolete_term_in" if where else "obsolete_term", term=term_id, where=where or "", consider=consider,
            ))
        raise UnknownTermError(term_id, where)

    def label(self, i: int) -> str:
        return self.labels[i]

    def parents(self, i: int) -> np.ndarray:
        return self.parent_idx[self.parent_ptr[i] : self.parent_ptr[i + 1]]

    def ancestors(self, i: int) -> np.ndarray:
        """Indices of ``i`` and all its ancestors (``is_a`` closure)."""
        return self.anc_idx[self.anc_ptr[i] : self.anc_ptr[i + 1]]

    def is_ancestor(self, anc: int, i: int) -> bool:
        """True if ``anc`` is ``i`` or one of its ancestors."""
        a = self.ancestors(i)
        return bool(np.any(a == anc))

    @cached_property
    def children_lists(self) -> list[list[int]]:
        kids: list[list[int]] = [[] for _ in self.ids]
        for i in range(len(self.ids)):
            for p in self.parents(i):
                kids[int(p)].append(i)
        return kids

    @cached_property
    def _descendant_closure(self) -> tuple[np.ndarray, np.ndarray]:
        """(desc_ptr, desc_idx): the ancestor closure transposed."""
        owner = np.repeat(np.arange(len(self.ids), dtype=np.int32), np.diff(self.anc_ptr))
        order = np.argsort(self.anc_idx, kind="stable")
        ptr = np.zeros(len(self.ids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.anc_idx, minlength=len(self.ids)), out=ptr[1:])
        return ptr, owner[order]

    def descendant_array(self, i: int) -> np.ndarray:
        """Indices of ``i`` and every term below it (from the closure; fast for repeated use)."""
        ptr, idx = self._descendant_closure
        return idx[ptr[i] : ptr[i + 1]]

    @cached_property
    def system_terms(self) -> tuple[int, ...]:
        """The organ systems: the children of Phenotypic abnormality (at most 63, in index order)."""
        root = self._index.get(PHENOTYPIC_ABNORMALITY)
        return () if root is None else tuple(sorted(self.children_lists[root])[:63])

    @cached_property
    def organ_systems(self) -> np.ndarray:
        """Bit mask per term of the organ systems it belongs to (bit ``b``: ``system_terms[b]``)."""
        out = np.zeros(len(self.ids), dtype=np.int64)
        for bit, child in enumerate(self.system_terms):
            out[self.descendant_array(child)] |= np.int64(1) << bit
        return out

    def organ_system(self, i: int) -> int | None:
        """The one organ system a term is listed under: of the systems above it, the narrowest (fewest terms), so
        that Sparse eyebrow goes to the integument rather than to head or neck; None outside Phenotypic abnormality."""
        mask = int(self.organ_systems[i])
        systems = [s for bit, s in enumerate(self.system_terms) if mask >> bit & 1]
        ptr = self._descendant_closure[0]
        return min(systems, key=lambda s: (int(ptr[s + 1] - ptr[s]), s), default=None)

    def descendants(self, i: int) -> set[int]:
        """``i`` and every term below it."""
        out = {i}
        stack = [i]
        kids = self.children_lists
        while stack:
            for c in kids[stack.pop()]:
                if c not in out:
                    out.add(c)
                    stack.append(c)
        return out

    def in_branch(self, i: int, root_id: str) -> bool:
        r = self._index.get(root_id)
        return r is not None and self.is_ancestor(r, i)

    @cached_property
    def phenotype_mask(self) -> np.ndarray:
        """Boolean mask over terms: True for terms under Phenotypic abnormality (HP:0000118)."""
        return self.branch_mask(PHENOTYPIC_ABNORMALITY)

    def branch_mask(self, root_id: str) -> np.ndarray:
        mask = np.zeros(len(self.ids), dtype=bool)
        r = self._index.get(root_id)
        if r is not None:
            mask[list(self.descendants(r))] = True
        return mask


def _ancestor_closure(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(ptr) - 1
    closure: list[np.ndarray] = [np.zeros(0, np.int32)] * n  # each filled after its parents (topological order)
    order = _topological_order(ptr, idx)
    for i in order:
        ps = idx[ptr[i] : ptr[i + 1]]
        if len(ps) == 0:
            closure[i] = np.array([i], dtype=np.int32)
        else:
            parts = [np.array([i], dtype=np.int32), *(closure[p] for p in ps)]
            closure[i] = np.unique(np.concatenate(parts))
    lens = np.fromiter((len(c) for c in closure), dtype=np.int64, count=n)
    anc_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lens, out=anc_ptr[1:])
    anc_idx = np.concatenate(closure).astype(np.int32) if n else np.zeros(0, np.int32)
    return anc_ptr, anc_idx


def _topological_order(ptr: np.ndarray, idx: np.ndarray) -> list[int]:
    """Parents before children (Kahn's algorithm on the reversed edges)."""
    n = len(ptr) - 1
    pending = np.diff(ptr).astype(np.int64)
    kids: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for p in idx[ptr[i] : ptr[i + 1]]:
            kids[int(p)].append(i)
    order = [i for i in range(n) if pending[i] == 0]
    k = 0
    while k < len(order):
        for c in kids[order[k]]:
            pending[c] -= 1
            if pending[c] == 0:
                order.append(c)
        k += 1
    if len(order) != n:
        raise KnowledgeBaseError("the ontology has a cycle in its is_a relations; use an official HPO release.")
    return order
