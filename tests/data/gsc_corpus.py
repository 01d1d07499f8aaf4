"""Write a corpus in the GSC+ layout from texts and gold mentions (offsets computed): used by the
generators of the self-made corpora in en-corpus/ and ru-corpus/."""

from pathlib import Path


def write_corpus(docs: dict[str, tuple[str, list[tuple[str, str]]]], out: Path) -> int:
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    (out / "ann").mkdir(parents=True, exist_ok=True)
    for doc_id, (text, gold) in docs.items():
        (out / "corpus" / doc_id).write_text(text, encoding="utf-8")
        lines, pos = [], {}
        for mention, hp in gold:
            s = text.find(mention, pos.get(mention, 0))
            if s < 0:
                raise ValueError(f"{doc_id}: mention {mention!r} is not in the text")
            pos[mention] = s + 1
            lines.append(f"[{s}::{s + len(mention)}]\t{hp.replace(':', '_')} | {mention}")
        (out / "ann" / doc_id).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(docs)
