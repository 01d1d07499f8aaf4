"""English-only parts of the recogniser: extra lexicon variants (a leading qualifier dropped, a prefix
written apart) and the functional findings of :mod:`raredx.extract._functional` as token spans.

Both languages share the trie and the context rules; what only makes sense for English lives here so the
Russian side can change independently.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from raredx.extract._functional import english_findings, trigger_windows
from raredx.extract._normalise import DETERMINERS, stem_en

# Leading words of HPO labels that notes usually leave out (``Recurrent hand flapping`` -> ``hand flapping``).
# The shorter phrase is only a variant: a term whose own name it is keeps it.
DROPPABLE_QUALIFIERS = ("recurrent", "episodic", "persistent", "chronic", "specific", "isolated", "generalized",
                        "conspicuously")
# Prefixes written with or without a hyphen: ``pre-auricular`` / ``preauricular``.
PREFIXES = ("pre", "post", "peri", "para", "hyper", "hypo", "intra", "inter", "sub", "supra", "retro", "micro",
            "macro", "hemi", "poly", "oligo", "non", "over", "under")


_QUALIFIER_KEYS = frozenset(stem_en(w) for w in DROPPABLE_QUALIFIERS)
# Predicate style: a copula (and a degree word after it) inside a phrase is skipped, so "the kidneys are
# markedly enlarged" finds *enlarged kidneys* and "hearing is normal" *normal hearing* (keys, as stemmed).
COPULAS = frozenset(stem_en(w) for w in ("is", "are", "was", "were", "appears", "appeared", "seems", "seemed",
                                         "remains", "remained", "became", "becomes"))
DEGREE_WORDS = frozenset(stem_en(w) for w in ("mildly", "moderately", "severely", "not", "also", "diffusely"))
# Adverbs no HPO label starts with: skipped anywhere inside a phrase ("CK markedly raised").
ADVERBS = frozenset(stem_en(w) for w in ("markedly", "significantly", "slightly", "somewhat", "notably", "extremely",
                                         "strikingly", "considerably", "clearly", "very", "quite", "rather"))
# Words that may follow a comma inside a phrase, as HPO writes them ("Intellectual disability, moderate").
POSTMODIFIERS = frozenset(stem_en(w) for w in ("mild", "moderate", "severe", "profound", "progressive", "congenital",
                                               "bilateral", "unilateral", "recurrent", "generalized", "acquired"))


def english_variants(keys: tuple[str, ...]) -> list[tuple[str, ...]]:
    """More ways notes write a lexicon phrase (its normalised tokens): without a leading qualifier when two
    words remain (``hand flapping``), and with a prefix written apart, as the tokeniser sees
    ``pre-auricular`` or ``hypo pigmented``."""
    out: list[tuple[str, ...]] = []
    if len(keys) >= 3 and keys[0] in _QUALIFIER_KEYS:
        out.append(keys[1:])
        if len(keys) == 3:
            out.append((keys[2], keys[1]))  # flapping of the hands
    if "system" in keys and len(keys) >= 3:  # "Abnormality of the skeletal system": "skeletal anomalies"
        out.append(tuple(k for k in keys if k != "system"))
    for k, key in enumerate(keys):
        for p in PREFIXES:
            if key.startswith(p) and len(key) - len(p) >= 4 and key.isalpha():
                out.append((*keys[:k], p, stem_en(key[len(p) :]), *keys[k + 1 :]))
                break
    return out


# Verb forms that share a stem with a finding's noun: "abnormalities affecting the eye" is no *Abnormal affect*,
# "involving chromosome 15" no abnormality. A match may not contain them.
_VERBS = frozenset({"affecting", "affects", "involving", "involves", "involved"})
_CHROMOSOME = frozenset({"chromosome", "chromosomes", "chromosomal"})
# A finding named just before one of these names a service, not the patient: "Epilepsy clinic", "Skeletal
# dysplasia clinic".
_SERVICES = frozenset({"clinic", "clinics", "unit", "service", "services", "department", "ward", "team", "centre",
                       "center", "programme", "program", "specialist", "nurse", "society"})


def blocked_tokens(cues: list[str], words: set[str]) -> set[int]:
    """Tokens (of ``cues``, whose set is ``words``) no English match may cover: the verbs above, the word before *clinic* (and other services),
    and the arms of a chromosome (``the short arm of chromosome 15`` is no *Upper limb undergrowth*)."""
    if words.isdisjoint(_VERBS) and words.isdisjoint(("arm", "arms")) and words.isdisjoint(_SERVICES):
        return set()
    out = {k for k, c in enumerate(cues) if c in _VERBS}
    for k, c in enumerate(cues):
        if c in _SERVICES and k > 0 and cues[k - 1][:1].isalpha():
            out.add(k - 1)  # the word before "clinic": no match may end there
    for k, c in enumerate(cues):
        if c in ("arm", "arms") and k + 1 < len(cues) and cues[k + 1] == "of":
            after = cues[k + 2 : k + 4]
            if any(a in _CHROMOSOME or a.isdigit() for a in after):
                out.update((k - 1, k))
    return out


_LETTER_DIGITS = re.compile(r"([a-z]{1,2})(\d{1,2})")


def split_letter_digits(keys: tuple[str, ...]) -> tuple[str, ...] | None:
    """``Type A1 brachydactyly`` as the tokeniser sees ``type A-1``: a letter-digit word split in two (None
    when the phrase has none)."""
    if not any(_LETTER_DIGITS.fullmatch(k) for k in keys):
        return None
    out: list[str] = []
    for k in keys:
        m = _LETTER_DIGITS.fullmatch(k)
        out.extend(((m.group(2),) if m.group(1) in DETERMINERS else m.groups()) if m else (k,))  # "A-1": "a" is skipped
    return tuple(out)


def functional_spans(text: str, cues: list[str], starts: list[int], ends: list[int], position: dict[str, int],
                     lang_bit: int) -> list[tuple[int, int, int]]:
    """The milestone, speech and body-build findings of ``text`` (its tokens' ``cues``: lower-case words) as
    (first token, last token, payload)."""
    spans: list[tuple[int, int, int]] = []
    windows = trigger_windows(text, cues, starts)
    for f in dict.fromkeys(english_findings(text, windows)) if windows else ():
        pos = position.get(f.hpo_id)
        if pos is None:
            continue
        i = bisect_right(ends, f.start)  # first token ending after the start
        j = bisect_left(starts, f.end) - 1  # last token starting before the end
        if i <= j:
            spans.append((i, j, pos * 8 + lang_bit))
    return spans
