"""English findings stated as a function or a predicate rather than named: milestones with an age
(``walked at 3 years`` -> *Delayed ability to walk*, ``walked at 12 months`` -> nothing), what a child says
(``speaks only a few words``), and body build said of the person (``Tall, thin``, ``a short boy``).

The dictionary recogniser cannot find these: the words are common and the meaning depends on a number or
on what the adjective is said of. Each rule is a regular expression over the raw text; the extractor turns
the character spans into token spans, so negation and family cues apply to them as to any other mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from raredx.extract._demographics import age_in_months

DELAYED_WALKING, DELAYED_SITTING, DELAYED_STANDING = "HP:0031936", "HP:0025336", "HP:0025335"
POOR_HEAD_CONTROL, SPEECH_DELAY, ABSENT_SPEECH = "HP:0002421", "HP:0000750", "HP:0001344"
INABILITY_TO_WALK, TALL, SLENDER, SHORT, OVERWEIGHT = "HP:0002540", "HP:0000098", "HP:0001533", "HP:0004322", "HP:0025502"

# milestone -> (term when late, the latest normal age in months: WHO windows, upper end, rounded up)
_MILESTONES: dict[str, tuple[str, float]] = {
    "walk": (DELAYED_WALKING, 18), "stand": (DELAYED_STANDING, 17), "sit": (DELAYED_SITTING, 9),
    "head": (POOR_HEAD_CONTROL, 4), "words": (SPEECH_DELAY, 18),
}
_NUMBER = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|eighteen|twenty)"
_AGE = (rf"(?:at|by|around|about|after|from|aged?|until|till)\s+(?:the\s+)?(?:age\s+(?:of\s+)?)?(?:about\s+|around\s+)?"
        rf"(?P<n>{_NUMBER})(?:\s+and\s+a\s+half)?[\s-]*(?P<unit>years?|yrs?|y|months?|mos?|m)\b(?:\s+of\s+age|\s+old)?")
_SUPPORT = r"(?:\s+(?:independently|unsupported|unaided|alone|without\s+(?:support|help|assistance)))?"
_MILESTONE_WORDS = (
    rf"(?P<walk>(?:started\s+|began\s+|was\s+)?walk(?:ed|ing)?{_SUPPORT}|(?:took\s+(?:his|her|their)\s+)?first\s+steps)"
    rf"|(?P<stand>stood{_SUPPORT}|(?:started\s+|began\s+)?standing{_SUPPORT})"
    rf"|(?P<sit>sat{_SUPPORT}(?:\s+up)?|(?:started\s+|began\s+)?sitting{_SUPPORT}(?:\s+up)?)"
    r"|(?P<head>(?:achieved\s+|gained\s+|had\s+)?head\s+control)"
    r"|(?P<words>(?:said|spoke|speaking|saying)\s+(?:(?:his|her|their)\s+)?first\s+words|first\s+words)"
)
_NOT_YET = r"(?:(?:did|could|was|were)\s+not\s+|(?:didn't|couldn't|wasn't)\s+|not\s+)?"
_DELAY = re.compile(rf"\b{_NOT_YET}(?:{_MILESTONE_WORDS})(?:\s+(?:only|not|late))?\s+(?:\w+\s+)?{_AGE}", re.IGNORECASE)

_PERSON = (r"(?:boy|girl|man|woman|male|female|child|adolescent|teenager|teen|youth|infant|toddler|lady|gentleman|"
           r"individual|patient|person|proband|habitus|body\s+habitus|appearance)s?")
_THIN = r"(?:thin|slender|lean|lanky|gangly|slim|asthenic)"
_WALK = frozenset({"walk", "walked", "walking", "walker", "ambulant", "ambulatory", "nonambulant", "nonambulatory",
                   "wheelchair"})
_THIN_WORDS = frozenset({"thin", "slender", "lean", "lanky", "gangly", "slim", "asthenic"})
# Each rule runs only on texts with one of its words (lower case): most texts have none, which keeps this fast.
_DELAY_WORDS = frozenset({"walked", "walking", "walk", "steps", "stood", "standing", "sat", "sitting", "head", "words"})
_TRIGGERS = {
    "HP:0000750": frozenset({"words", "talker", "talking", "talk"}),
    "HP:0001344": frozenset({"speak", "talk", "words", "verbal", "nonverbal", "speech", "language"}),
    "HP:0002540": _WALK, "HP:0031936": _WALK, "HP:0000098": frozenset({"tall"}),
    "HP:0001533": _THIN_WORDS, "HP:0004322": frozenset({"short"}), "HP:0025502": frozenset({"overweight"}),
}
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (term, re.compile(pattern, re.IGNORECASE)) for term, pattern in (
        (SPEECH_DELAY, r"\b(?:(?:speaks|says|uses|has|spoke|said|used|had|with)\s+)?only\s+(?:a\s+)?(?:few|\d+|one|two|"
                       r"three|four|five|six|seven|eight|nine|ten|single|some)\s+(?:single\s+|simple\s+)?words\b"
                       r"|\b(?:speaks|says|spoke|said)\s+(?:only\s+)?(?:a\s+)?few\s+words\b"
                       r"|\b(?:vocabulary|speech)\s+(?:is\s+)?(?:limited|restricted)\s+to\s+(?:a\s+)?(?:few|single|\d+)"
                       r"(?:\s+\w+)?\s+words\b|\b(?:speaks|talks|communicates)\s+(?:only\s+)?in\s+single\s+words\b"
                       r"|\b(?:late|delayed)\s+(?:talker|talking|to\s+talk|first\s+words)\b"),
        (ABSENT_SPEECH, r"\b(?:(?:does|did)\s+not|doesn't|didn't|cannot|can't|unable\s+to|never)\s+(?:yet\s+)?"
                        r"(?:speak|talk|say\s+(?:any\s+)?words)\b|\bno\s+(?:meaningful\s+|spoken\s+)?words\b"
                        r"|\b(?:is|was|remains|remained)\s+non-?verbal\b|\bno\s+(?:expressive\s+)?(?:speech|language)\b"),
        (INABILITY_TO_WALK, r"\b(?:(?:is|was|remains|remained)\s+)?(?:unable\s+to|cannot|can't|never\s+learned\s+to)"
                            r"\s+walk\b|\bnever\s+walked\b|\bnon-?ambula(?:nt|tory)\b|\bwheelchair[-\s](?:bound|dependent)\b"),
        (DELAYED_WALKING, r"\b(?:walked|walking)\s+late\b|\blate\s+(?:walker|walking)\b|\bdelayed\s+walking\b"),
        (TALL, rf"\btall(?=\s*,?\s*(?:and\s+)?{_THIN}\b|\s+(?:and\s+\w+\s+)?{_PERSON}\b|\s+for\s+(?:his|her|their|the)\s+"
               rf"age\b)|\b(?:is|was|are|were|appears?|appeared|looks?|looked|remains?|very|quite|strikingly|"
               rf"markedly|unusually)\s+tall(?=\s*[.;:!?)\n]|\s*$|\s*,?\s+(?:and|but|with)\b)"
               rf"|(?<=\band\s)tall(?=\s*[.;:!?)\n]|\s*$)"),
        (SLENDER, rf"(?<=tall)\s*,?\s*(?:and\s+)?{_THIN}\b|\b{_THIN}(?=\s*,?\s*(?:and\s+)?tall\b|\s+{_PERSON}\b)"),
        (SHORT, rf"\bshort(?=\s+for\s+(?:his|her|their|the)\s+age\b|\s+(?:and\s+\w+\s+)?{_PERSON}\b)"
                r"|\b(?:is|was|are|were|appears?|very|markedly)\s+short(?=\s*[.;!?\n]|\s*$|\s*,?\s+(?:and|but|with)\s)"),
        (OVERWEIGHT, r"\boverweight\b"),
    )
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A term stated in ``text[start:end]``."""

    start: int
    end: int
    hpo_id: str


_ALL_TRIGGERS = frozenset().union(_DELAY_WORDS, *_TRIGGERS.values())


def english_findings(text: str, windows: list[tuple[int, int, set[str]]] | None = None) -> Iterator[Finding]:
    """The milestone, speech and body-build findings stated in ``text`` (negation is the caller's).

    ``windows``: (start, end, words) character ranges of the text around its trigger words (see
    :func:`trigger_windows`); by default the whole text. Only the rules whose words are in a window run there.
    """
    if windows is None:
        windows = [(0, len(text), set(re.findall(r"[^\W_]+", text.lower())))]
    for lo, hi, words in windows:
        for m in _DELAY.finditer(text, lo, hi) if not _DELAY_WORDS.isdisjoint(words) else ():
            kind = next(k for k in _MILESTONES if m.group(k))
            term, latest = _MILESTONES[kind]
            months = age_in_months(m.group("n"), m.group("unit"))
            if months is not None and months > latest:
                yield Finding(m.start(), m.end(), term)
        for term, rule in _RULES:
            if _TRIGGERS[term].isdisjoint(words):
                continue
            for m in rule.finditer(text, lo, hi):
                start = m.start() + len(m.group()) - len(m.group().lstrip(" ,"))
                yield Finding(start, m.end(), term)


def trigger_windows(text: str, cues: list[str], starts: list[int]) -> list[tuple[int, int, set[str]]]:
    """Character ranges around the text's trigger words (40 characters before, 120 after, merged), each with
    the trigger words in it: the rules only run there, which keeps the recogniser fast."""
    windows: list[tuple[int, int, set[str]]] = []
    for k, c in enumerate(cues):
        if c not in _ALL_TRIGGERS:
            continue
        lo, hi = max(0, starts[k] - 40), min(len(text), starts[k] + 120)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi, windows[-1][2] | {c})
        else:
            windows.append((lo, hi, {c}))
    return windows
