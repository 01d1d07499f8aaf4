"""The conclusion as a PDF (issue 14, item 4): concluding a referral issues its conclusion in Russian or English,
kept in the attachments store under its SHA-256; the API (``/api/referrals/{id}/conclusion.pdf``) and the
workbench (``/referrals/{id}/conclusion.pdf``, linked from the conclusion) give it to users who may see the
referral, the referrer once it is concluded (another referrer 403, before it is issued 404), audited. Checked by
its pages (pdfinfo: one to three; pdftoppm renders them) and its text (pdftotext: the patient, the question, the
conclusion, the expert, the date; Cyrillic reads back). A renderer that fails leaves the referral in review."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from raredx.i18n import Translator
from raredx.registry import SYSTEM
from raredx.registry.schemas import OrganisationCreate

from .conftest import PASSWORD
from .test_workbench_referrals import PEOPLE, _registry, as_user, post

try:
    import weasyprint  # noqa: F401
except (ImportError, OSError) as exc:  # OSError: Debian's Pango is missing
    pytest.skip(f"WeasyPrint cannot run here ({exc}); .ci/run installs it and Pango", allow_module_level=True)
POPPLER = shutil.which("pdfinfo") and shutil.which("pdftotext") and shutil.which("pdftoppm")
pytestmark = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext, pdftoppm) is not "
                                                    "installed; .ci/run installs it")
QUESTION = "Синдром Марфана? Какое обследование дальше?"
CONCLUSION = {"ru": "Вероятный синдром Марфана: высокий рост, арахнодактилия, эктопия хрусталика.",
              "en": "Probable Marfan syndrome: tall stature, arachnodactyly, ectopia lentis."}
TESTS = "Панель FBN1, TGFBR1/2; осмотр окулиста"


@pytest.fixture
def people(web: TestClient) -> TestClient:
    reg = _registry(web)
    org = reg.add_organisation(SYSTEM, OrganisationCreate(name="Тверская областная детская больница", region="Тверь"))
    for name, role in PEOPLE:
        reg.add_user(SYSTEM, name, PASSWORD, role, organisation_id=org.id if role == "referring_physician" else None)
    return web


def token(web: TestClient, user: str) -> dict[str, str]:
    r = web.post("/api/auth/token", data={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def in_review(web: TestClient) -> tuple[int, dict[str, dict[str, str]]]:
    """A referral of ``doc`` through the API up to ``in_review`` with ``exp1`` and ``exp2``: its id and the
    users' headers."""
    h = {u: token(web, u) for u, _ in PEOPLE}
    body = {"urgency": "urgent", "clinical_question": QUESTION,
            "patient": {"sex": "FEMALE", "date_of_birth": "2015-04-01",
                        "identity": {"family_name": "Иванова", "given_name": "Анна"}},
            "phenotype": [{"hpo_id": "HP:0001166"}, {"hpo_id": "HP:0001083"}]}
    r = web.post("/api/referrals", json=body, headers=h["doc"])
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    steps = [("doc", "submitted"), ("coord", "accepted")]
    for user, to in steps:
        version = web.get(f"/api/referrals/{rid}", headers=h[user]).json()["version"]
        r = web.post(f"/api/referrals/{rid}/transition", json={"to": to, "version": version}, headers=h[user])
        assert r.status_code == 200, r.text
    r = web.post(f"/api/referrals/{rid}/experts", json={"experts": ["exp1", "exp2"], "version": r.json()["version"]},
                 headers=h["coord"])
    assert r.status_code == 200, r.text
    r = web.post(f"/api/referrals/{rid}/transition", json={"to": "in_review", "version": r.json()["version"]},
                 headers=h["exp1"])
    assert r.status_code == 200, r.text
    return rid, h


def write_conclusion(web: TestClient, rid: int, h: dict[str, str], lang: str | None) -> int:
    version = web.get(f"/api/referrals/{rid}", headers=h).json()["version"]
    conclusion = {"text": CONCLUSION[lang or "ru"], "recommended_tests": TESTS,
                  "treatment": "Лозартан по показаниям кардиолога", "drug_provision": "По региональной льготе",
                  "follow_up": "Эхокардиография раз в год",
                  "diagnoses": [{"disease_id": "OMIM:154700", "name": "Синдром Марфана", "status": "probable"},
                                {"disease_id": "ORPHA:60030", "name": "Синдром Лойса-Дитца", "status": "differential"}]}
    if lang:
        conclusion["language"] = lang
    r = web.put(f"/api/referrals/{rid}/conclusion", json={"version": version, "conclusion": conclusion}, headers=h)
    assert r.status_code == 200, r.text
    version: int = r.json()["version"]
    return version


def pdf_checked(pdf: bytes, tmp_path: Path) -> str:
    """Check the PDF's pages (one to three, each rendered) and give its text, spaces normalised."""
    path = tmp_path / "conclusion.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert 1 <= pages <= 3, info
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True)
    pngs = sorted(tmp_path.glob("page*.png"))
    assert len(pngs) == pages and all(p.stat().st_size > 1000 for p in pngs)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True).stdout
    return " ".join(text.decode("utf-8").split())


def test_concluded_through_the_api_in_russian_by_default(people: TestClient, tmp_path: Path) -> None:
    web = people
    rid, h = in_review(web)
    assert web.get(f"/api/referrals/{rid}/conclusion.pdf", headers=h["doc"]).status_code == 404  # none issued yet
    version = write_conclusion(web, rid, h["exp2"], None)  # no language: the API issues it in Russian
    r = web.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": version}, headers=h["exp2"])
    assert r.status_code == 200, r.text
    issued = r.json()["conclusion_pdf"]
    assert issued["language"] == "ru" and issued["issued_by"] == "exp2"
    assert r.json()["concluded_at"] == issued["issued_at"]
    stored = web.app.state.services.settings.attachments / issued["sha256"][:2] / issued["sha256"]  # type: ignore[attr-defined]
    assert stored.is_file()

    got = web.get(f"/api/referrals/{rid}/conclusion.pdf", headers=h["doc"])  # the referrer downloads it
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf", got.text
    assert got.content == stored.read_bytes() and got.content.startswith(b"%PDF-")
    assert f'conclusion-{rid}-ru.pdf' in got.headers["content-disposition"]
    text = pdf_checked(got.content, tmp_path)
    ru = Translator("ru")
    day = ru.date(dt.datetime.fromisoformat(issued["issued_at"]).date())
    for expected in ("Заключение консилиума", ru("conclusion.centre"), f"Направление № {rid}", "Иванова Анна",
                     "женский", "01.04.2015", "doc", "Тверская областная детская больница", "Тверь", QUESTION,
                     CONCLUSION["ru"], "Панель FBN1, TGFBR1/2", "Лозартан", "По региональной льготе",
                     "Эхокардиография раз в год", "Синдром Марфана", "OMIM:154700", "— вероятен",
                     "в дифференциальном ряду", "exp1, exp2", "Заключение выдал: exp2", day,
                     "HP:0001166", ru("conclusion.disclaimer_title")):
        assert expected in text, (expected, text)
    for who in ("coord", "exp1"):
        assert web.get(f"/api/referrals/{rid}/conclusion.pdf", headers=h[who]).status_code == 200
    refused = web.get(f"/api/referrals/{rid}/conclusion.pdf", headers=h["doc2"])
    assert refused.status_code == 403 and "another physician's" in refused.json()["detail"]
    downloads = [e for e in _registry(web).audit_log(SYSTEM, limit=500)
                 if e.action == "referral_download" and (e.detail or {}).get("conclusion_pdf") == issued["sha256"]]
    assert sorted(e.username for e in downloads) == ["coord", "doc", "exp1"]  # audited as attachment downloads


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_concluded_in_the_workbench_in_the_pages_language(people: TestClient, lang: str, tmp_path: Path) -> None:
    web = people
    rid, _ = in_review(web)
    url = f"/referrals/{rid}"
    as_user(web, "exp1", lang)
    page = web.get(url).text
    assert f'<option value="{lang}" selected>' in page  # the conclusion is issued in the page's language by default
    offered = re.findall(r'type="hidden" name="dx_id_\d+" value="([^"]+)"', page)  # the differential's candidates
    assert offered and all(re.fullmatch(r"(OMIM|ORPHA|MONDO):\d+", i) for i in offered), offered
    bad = post(web, url, f"{url}/conclusion", text=CONCLUSION[lang], dx_id_new="not an id", dx_name_new="X",
               dx_status_new="probable")
    assert bad.status_code == 422 and "not an id" in bad.text and _registry(web).get_referral(SYSTEM, rid).conclusion is None
    name = html.unescape(re.search(r'name="dx_name_0" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    rows = {"dx_n": str(len(offered)), "dx": "0", "dx_id_0": offered[0], "dx_name_0": name, "dx_status_0": "probable",
            "dx_id_new": "ORPHA:60030", "dx_name_new": "Синдром Лойса-Дитца", "dx_status_new": "differential"}
    # a candidate ticked, the others left out, another named in the free row
    assert post(web, url, f"{url}/conclusion", text=CONCLUSION[lang], recommended_tests=TESTS, language=lang,
                **rows).status_code == 303
    written = _registry(web).get_referral(SYSTEM, rid).conclusion
    assert written is not None and [(d.disease_id, d.status) for d in written.diagnoses] == [
        (offered[0], "probable"), ("ORPHA:60030", "differential")]
    page = web.get(url).text  # the form shows them again, with their statuses
    assert f'type="hidden" name="dx_id_0" value="{offered[0]}"' in page and 'name="dx" value="0" checked' in page
    assert post(web, url, f"{url}/transition", to="concluded").status_code == 303

    as_user(web, "doc", lang)
    page = web.get(url).text
    assert f'href="{url}/conclusion.pdf"' in page and {"ru": "выдано на русском языке", "en": "issued in English"}[lang] in page
    got = web.get(f"{url}/conclusion.pdf")
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    text = pdf_checked(got.content, tmp_path)
    t = Translator(lang)
    issued = _registry(web).get_referral(SYSTEM, rid).conclusion_pdf
    assert issued is not None and issued.language == lang and issued.issued_by == "exp1"
    for expected in (t("conclusion.title"), t("conclusion.referral", id=rid), "Иванова Анна", QUESTION,
                     CONCLUSION[lang], TESTS, "exp1", t.date(issued.issued_at.date()), t("conclusion.disclaimer_title"),
                     name, offered[0], t("conclusion.status.probable"), "Синдром Лойса-Дитца", "ORPHA:60030",
                     t("conclusion.status.differential")):
        assert expected in text, (expected, text)
    if lang == "en":
        assert "Date of issue" in text and "female" in text and "Заключение консилиума" not in text
    as_user(web, "doc2", lang)
    assert web.get(f"{url}/conclusion.pdf").status_code == 403


def test_a_failing_renderer_leaves_the_referral_in_review(people: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    from raredx.app import _conclusion

    web = people
    rid, h = in_review(web)
    version = write_conclusion(web, rid, h["exp1"], "en")

    def broken(html: str, stylesheet: str) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(_conclusion, "report_pdf", broken)
    store = web.app.state.services.settings.attachments  # type: ignore[attr-defined]
    before = sorted(store.rglob("*")) if store.exists() else []
    r = web.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": version}, headers=h["exp1"])
    assert r.status_code == 503, r.text
    assert "was not concluded" in r.json()["detail"] and "libpango" in r.json()["detail"]
    got = web.get(f"/api/referrals/{rid}", headers=h["exp1"]).json()
    assert got["status"] == "in_review" and got["version"] == version and got["conclusion_pdf"] is None
    assert got["conclusion"]["text"] == CONCLUSION["en"]  # the conclusion as written is kept
    assert (sorted(store.rglob("*")) if store.exists() else []) == before  # no file left behind
    assert web.get(f"/api/referrals/{rid}/conclusion.pdf", headers=h["doc"]).status_code == 404

    as_user(web, "exp1", "ru")  # the workbench says why, in the page's language
    url = f"/referrals/{rid}"
    r = post(web, url, f"{url}/transition", to="concluded")
    assert r.status_code == 503 and "не выдано" in r.text and "libpango" in r.text

    monkeypatch.undo()  # once the renderer works, the same referral is concluded
    r = web.post(f"/api/referrals/{rid}/transition", json={"to": "concluded", "version": version}, headers=h["exp1"])
    assert r.status_code == 200, r.text
    assert "Probable Marfan syndrome" in pdf_checked(web.get(f"/api/referrals/{rid}/conclusion.pdf",
                                                             headers=h["doc"]).content, tmp_path)
