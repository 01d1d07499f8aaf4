"""The workbench's languages: the message catalogues and :class:`Translator` (shared with the documents the use
cases issue, in :mod:`raredx.i18n`; the files are ``locales/<lang>.json`` here), and the language negotiation."""

from __future__ import annotations

from raredx.i18n import DEFAULT, LANGUAGES, Translator, catalogue, plural_form

COOKIE = "rdx_lang"


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language: the cookie if it names one we have, else the best of Accept-Language, else English."""
    if cookie is not None and cookie in LANGUAGES:
        return cookie
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and (best is None or q > best[0]):
            best = (q, code)
    return best[1] if best else DEFAULT


__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "Translator", "catalogue", "negotiate", "plural_form"]
