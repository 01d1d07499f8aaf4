"""Engine, import and error messages in the workbench's language: every :class:`raredx.errors.Message` of the
source has a catalogue entry in each language that fits its parameters; the web names its own options (the
import policy), never a CLI flag; and a Russian import report, error and term list read in Russian."""

from __future__ import annotations

import ast
import io
import json
import re
import string
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PHENOPACKETS
from raredx.errors import Message, UnknownTermError
from raredx.web import _i18n

from .conftest import login

SRC = Path(__file__).resolve().parents[2] / "src" / "raredx"


def _messages() -> dict[str, set[str]]:
    """Each key given to ``Message(text, key, **params)`` in the source (both of a ``a if c else b``), with the
    parameter names of its call."""
    out: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Message" and len(node.args) > 1):
                continue
            key = node.args[1]
            keys = [key] if isinstance(key, ast.Constant) else [key.body, key.orelse] if isinstance(key, ast.IfExp) else []
            assert keys and all(isinstance(k, ast.Constant) for k in keys), \
                f"{path}:{node.lineno}: give Message a literal key (or a choice of two) so that this test can check it"
            for k in keys:
                out[str(k.value)] = {kw.arg for kw in node.keywords if kw.arg}  # type: ignore[attr-defined]
    return out


MESSAGES = _messages()


def test_the_source_has_messages() -> None:
    assert {"unknown_term", "engine.redundant", "import.bad_json", "upload.too_large"} <= set(MESSAGES)


@pytest.mark.parametrize("lang", _i18n.LANGUAGES)
def test_every_message_has_a_catalogue_entry_that_fits(lang: str) -> None:
    catalogue = _i18n.catalogue(lang)
    missing = sorted(k for k in MESSAGES if f"msg.{k}" not in catalogue)
    assert not missing, f"add to locales/{lang}.json: " + ", ".join(f"msg.{k}" for k in missing)
    for key, params in MESSAGES.items():
        wanted = {name for _, name, _, _ in string.Formatter().parse(catalogue[f"msg.{key}"]) if name}
        assert wanted <= params, f"msg.{key} ({lang}) uses {sorted(wanted - params)}, which the code does not give"
    unused = sorted(k for k in catalogue if k.startswith("msg.") and k[4:] not in MESSAGES)
    assert not unused, f"no code gives {unused}"


def test_the_web_names_its_own_options() -> None:
    for lang in _i18n.LANGUAGES:
        for key, text in _i18n.catalogue(lang).items():
            assert not re.search(r"(^|\s)--[a-z]", text), f"{lang} {key}: a CLI flag on a web page: {text!r}"
    exc = UnknownTermError("HP:9999999", "phenotypicFeatures[0].type.id")
    assert "--lenient" in str(exc)  # the CLI's words
    for lang in _i18n.LANGUAGES:
        t = _i18n.Translator(lang)
        policy = t("import.policy.lenient").split(":")[0]  # the import page's option, as it is shown there
        text = t.message(exc)
        assert "HP:9999999" in text and "phenotypicFeatures[0].type.id" in text, text
        assert f"«{policy}»" in text or f"\u201c{policy}\u201d" in text, text


def test_message_parameters_and_fallbacks() -> None:
    ru = _i18n.Translator("ru")
    nested = Message("unknown HPO term 'HP:1' in observed terms", "unknown_term_in", term="HP:1",
                     where=Message("observed terms", "where.observed"))
    assert "наблюдаемые признаки" in ru.message(nested)
    assert ru.message(Message("as it is", "no.such.key")) == "as it is"
    assert ru.message("plain English") == "plain English"
    assert ru.message(Message("few", "engine.few_terms")) == "few"  # without its {n}: the English text, not a 500
    assert ru.message(Message("x", "engine.few_terms", n=1)).startswith("конкретных наблюдаемых признаков: 1")


def _russian(web: TestClient) -> str:
    csrf = login(web, "admin")
    web.cookies.set(_i18n.COOKIE, "ru")
    return csrf


def test_russian_import_report(web: TestClient) -> None:
    csrf = _russian(web)
    case = json.loads((PHENOPACKETS / "marfan_case.json").read_text())
    case["phenotypicFeatures"].append({"type": {"id": "HP:9999999", "label": "no such term"}})
    case["subject"]["dateOfBirth"] = "yesterday"
    r = web.post("/import", data={"csrf": csrf, "policy": "strict"},
                 files={"file": ("case.json", io.BytesIO(json.dumps(case).encode()), "application/json")})
    assert r.status_code == 200
    assert "неизвестный термин HPO «HP:9999999»: его нет" in r.text and "режим «мягкий»" in r.text
    assert "не дата ISO 8601" in r.text and "значение пропущено" in r.text
    assert "--lenient" not in r.text and "it is left out" not in r.text
    r = web.post("/import", data={"csrf": csrf, "policy": "lenient"},
                 files={"file": ("broken.json", io.BytesIO(b'{"id": "X",'), "application/json")})
    assert "ошибка в JSON, строка 1" in r.text and "исправьте или удалите файл" in r.text


def test_russian_errors_and_engine_warnings(web: TestClient) -> None:
    csrf = _russian(web)
    r = web.post("/text", data={"csrf": csrf, "text": "  ", "lang": "ru"}, headers={"HX-Request": "true"})
    assert "текст пуст" in r.text and "the text is empty" not in r.text
    # one very general term: the engine's warning, in Russian; the term with its Russian label and English one
    r = web.post("/diagnose", data={"csrf": csrf, "term": "HP:0001250|0|", "op": "rank"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert "конкретных наблюдаемых признаков: 1" in r.text and "weakly determined" not in r.text
    assert re.search(r'<span class="term-name">судороги</span> <span class="term-en" lang="en">Seizure</span>', r.text)


def test_russian_registry_errors(web: TestClient) -> None:
    _russian(web)
    r = web.get("/patients/99999")
    assert r.status_code == 404 and "нет пациента с id 99999" in r.text and "no patient" not in r.text
    web.cookies.set(_i18n.COOKIE, "en")
    assert "no patient with id 99999." in web.get("/patients/99999").text
