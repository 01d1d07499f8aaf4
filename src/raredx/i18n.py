"""Translations shared by the interfaces and the documents the use cases issue (the conclusion's PDF): the message
catalogues (one JSON file per language, kept with the workbench in ``raredx/web/locales/``, which shows most of
them), a :class:`Translator` over one of them, and the locale's dates, numbers and plurals. It reads the files as
package data and imports nothing above :mod:`raredx.errors`."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from functools import cache
from importlib import resources
from typing import Any

from raredx.errors import Message

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ru")
DEFAULT = "en"
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")  # whole units: what ages are given in


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of ``lang`` (``raredx/web/locales/<lang>.json``: flat keys, ``{name}`` placeholders)."""
    text = resources.files("raredx").joinpath("web", "locales", f"{lang}.json").read_text(encoding="utf-8")
    return json.loads(text)


class Translator:
    """``t("key", name=value)`` in templates; a missing key logs a warning and shows the key."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.messages = catalogue(lang)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            log.warning("no %s message for %r", self.lang, key)
            return key
        return text.format(**values) if values else text

    def maybe(self, key: str, fallback: str) -> str:
        """The message for ``key`` if there is one (e.g. an enum value), else ``fallback`` as given."""
        return self.messages.get(key, fallback)

    def message(self, value: str | BaseException) -> str:
        """A message of the engine, an import or an error in this language: a :class:`Message` (or an exception
        raised with one) by its key and parameters; any other text as it is (English)."""
        if isinstance(value, BaseException):
            value = value.args[0] if len(value.args) == 1 and isinstance(value.args[0], str) else str(value)
        if isinstance(value, Message) and value.key:
            text = self.messages.get("msg." + value.key)
            params = {k: self.message(v) if isinstance(v, str) else v for k, v in value.params.items()}
            try:
                if text is not None:
                    return text.format(**params)
                log.warning("no %s message for %r", self.lang, "msg." + value.key)
            except (KeyError, IndexError, ValueError):
                log.warning("the %s message %r does not fit its parameters", self.lang, "msg." + value.key)
        return str(value)

    def date(self, value: dt.date | dt.datetime | str | None, *, seconds: bool = False) -> str:
        """A date (or date and time, in UTC, to the minute or the second) as the user's locale writes it."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            text = value
            try:
                value = dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)
            except ValueError:
                return text
        day = value.date() if isinstance(value, dt.datetime) else value
        if self.lang == "ru":
            text = day.strftime("%d.%m.%Y")
        else:
            text = f"{day.day} {self('month.' + str(day.month))} {day.year}"
        if isinstance(value, dt.datetime):
            text += f" {value:%H:%M:%S} UTC" if seconds else f" {value:%H:%M} UTC"
        return text

    def duration(self, iso: str) -> str:
        """An ISO 8601 age (``P1Y10M``, ``P3W``) the short way the locale writes it ("1 y 10 mo", «1 год 10 мес.»);
        anything else as given."""
        m = _DURATION.match(iso.strip().upper())
        if not m or not any(m.groups()):
            return iso
        parts = [self.count("age.short.y", int(v)) if unit == "y" else self(f"age.short.{unit}", n=int(v))
                 for unit, v in zip("ymwd", m.groups(), strict=True) if v and int(v)]
        return " ".join(parts) or self("age.short.d", n=0)

    def count(self, key: str, n: int) -> str:
        """``key.one``, ``key.few`` or ``key.many`` as the language inflects after ``n`` (Russian: 1 год, 2 года,
        5 лет; English: one, many), with ``{n}`` filled in."""
        return self(f"{key}.{plural_form(self.lang, n)}", n=n)

    def number(self, value: float, digits: int = 0) -> str:
        text = f"{value:,.{digits}f}"
        return text.replace(",", "\u00a0").replace(".", ",") if self.lang == "ru" else text


def plural_form(lang: str, n: int) -> str:
    """The plural category of ``n``: "one", "few" or "many" (CLDR's rules for Russian; English has one and many)."""
    n = abs(n)
    if lang != "ru":
        return "one" if n == 1 else "many"
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    return "few" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "many"
