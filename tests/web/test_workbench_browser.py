"""The workbench in a real browser: Debian's headless Chromium driven by Playwright (no browser download).

Each test saves a screenshot under test-output/web/, fails on any console error and on serious or critical
axe-core violations. Autocomplete server time and diagnosis-panel render time are recorded (not asserted)
and written to test-output/web/timings.md (figures quoted in benchmarks/results/web.md).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from raredx.registry import SYSTEM, PatientCreate, PatientFilter
from raredx.registry.errors import AuthenticationError

from .conftest import PASSWORD, LiveServer, largest_demo_cases

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed; .ci/run installs it (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "web"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DATA = REPO / "tests" / "data"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MARFAN = ("HP:0001166", "HP:0001083", "HP:0002616")
# Chromium logs a CSP violation as a console error; this says also which directive and what was refused
CSP_REPORTER = ("document.addEventListener('securitypolicyviolation', e => console.error("
                "`CSP violation: ${e.violatedDirective} refused ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`))")
TIMINGS: dict[str, list[float]] = {"autocomplete_server_ms": [], "panel_render_ms": []}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
    _write_timings()


class Page:
    """A browser page that records console errors and knows the server."""

    def __init__(self, page: Any, server: LiveServer) -> None:
        self.page, self.server, self.errors = page, server, []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", lambda d: d.accept())  # confirmations: yes
        page.on("response", self._timing)

    def _timing(self, response: Any) -> None:
        if "/terms/suggest" in response.url:
            header = response.headers.get("server-timing", "")
            if "dur=" in header:
                TIMINGS["autocomplete_server_ms"].append(float(header.split("dur=")[1]))

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def login(self, username: str = "clinician") -> None:
        self.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/patients")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def axe(self) -> None:
        """Fail on serious or critical accessibility violations (WCAG 2 A/AA rules)."""
        # served from the page's own origin, so the page's Content-Security-Policy (script-src 'self') allows it
        url = f"{self.server.url}/__test__/axe.min.js"
        self.page.route(url, lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
        self.page.add_script_tag(url=url)
        result = self.page.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
        bad = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, "accessibility violations:\n" + "\n".join(bad)

    def timed(self, action: Any) -> None:
        """Run an action that changes the phenotype; record the time until htmx settled the new panel."""
        self.page.evaluate("window.__settled = 0; document.addEventListener('htmx:afterSettle', "
                           "() => { window.__settled = performance.now(); }, {once: true}); window.__t0 = performance.now();")
        action()
        self.page.wait_for_function("() => window.__settled > window.__t0")
        TIMINGS["panel_render_ms"].append(self.page.evaluate("window.__settled - window.__t0"))

    def add_term(self, typed: str, label: str, how: str = "enter") -> None:
        box = self.page.locator("#term-q")
        box.click()
        box.press_sequentially(typed, delay=40)
        option = self.page.locator("#term-options [role=option]", has_text=label).first
        option.wait_for(state="visible")
        if how == "click":
            self.timed(option.click)
        else:  # keyboard: arrow down to the option, Enter
            n = self.page.locator("#term-options [role=option]").all_inner_texts()
            steps = next(i for i, text in enumerate(n) if label in text) + 1
            for _ in range(steps):
                box.press("ArrowDown")
            self.timed(lambda: box.press("Enter"))
        self.page.locator("#terms", has_text=label).wait_for()

    def ranking(self) -> list[str]:
        return self.page.locator("#ranking > li summary").all_inner_texts()


@contextmanager
def browser_page(browser: Any, server: LiveServer, locale: str = "en-GB") -> Iterator[Page]:
    """A page in a fresh browser context (the site's CSP applies); fails on any console error it saw."""
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    context.add_init_script(CSP_REPORTER)
    p = Page(context.new_page(), server)
    yield p
    context.close()
    assert not p.errors, "browser console errors:\n" + "\n".join(p.errors)


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Page]:
    with browser_page(browser, live_server, getattr(request, "param", "en-GB")) as p:
        yield p


def _patient(server: LiveServer, pseudonym: str, terms: tuple[str, ...] = ()) -> int:
    """A patient made through the registry service (the test is about what follows)."""
    onto = server.registry.ontology
    features = [{"hpo_id": t, "label": onto.labels[onto.index(t)]} for t in terms]
    p = server.registry.create_patient(SYSTEM, PatientCreate(pseudonym=pseudonym, sex="FEMALE",
                                                             phenotypic_features=features))
    return p.id


def test_login_and_user_menu(page: Page) -> None:
    page.goto("/patients")
    page.page.wait_for_url("**/login?next=/patients")
    page.page.fill("#username", "clinician")
    page.page.fill("#password", "wrong password")
    page.page.click("button[type=submit]")
    assert page.page.locator(".notice-error").is_visible()
    assert page.page.input_value("#username") == "clinician"  # kept after the error
    page.login()
    page.page.click(".user-menu summary")
    assert page.page.locator(".user-menu .menu").is_visible()
    page.shot("01-login-user-menu")
    page.axe()
    page.page.click(".user-menu button[type=submit]")  # sign out
    page.page.wait_for_url("**/login")


def test_create_patient(page: Page) -> None:
    page.login()
    page.page.click("text=New patient")
    page.page.fill("#new-pseudonym", "WEB-NEW-1")
    page.page.fill("#new-family_name", "Ivanova")
    page.page.select_option("#new-sex", "FEMALE")
    page.page.fill("#new-date_of_birth", "2012-03-04")
    page.page.fill("#new-region", "North")
    page.page.click("button[type=submit].primary")
    page.page.wait_for_url("**/patients/*")
    assert page.page.locator("h1").inner_text().startswith("Patient WEB-NEW-1")
    assert "4 Mar 2012" in page.page.locator("#section-demographics").inner_text()  # the date as the locale writes it
    # the same pseudonym again: the form comes back with the input kept and the reason next to the field
    page.goto("/patients/new")
    page.page.fill("#new-pseudonym", "WEB-NEW-1")
    page.page.fill("#new-given_name", "Anna")
    page.page.click("button[type=submit].primary")
    assert "is taken" in page.page.locator("#new-pseudonym-err").inner_text()
    assert page.page.input_value("#new-given_name") == "Anna"
    page.shot("02-create-patient-validation")
    page.axe()


def test_phenotypes_through_autocomplete_and_evidence(page: Page) -> None:
    pid = _patient(page.server, "WEB-PHENO-1")
    page.login()
    page.goto(f"/patients/{pid}")
    page.add_term("arachnod", "Arachnodactyly")                 # keyboard
    page.add_term("ectopia len", "Ectopia lentis", how="click")  # mouse
    page.add_term("aortic root aneur", "Aortic root aneurysm")
    assert page.page.locator("#terms .term").count() == 3
    first = page.page.locator("#ranking > li").first
    assert "Marfan" in first.locator("summary").inner_text()
    evidence = first.locator("table.evidence")
    assert evidence.is_visible()
    assert "Arachnodactyly" in evidence.inner_text() and "exact match" in evidence.inner_text()
    assert first.locator("a[href='https://omim.org/entry/154700']").count() == 1
    assert first.locator("a[href^='https://www.orpha.net/en/disease/detail/']").count() >= 1
    page.shot("03-phenotypes-differential")
    page.axe()


def test_next_best_phenotype_reranks(page: Page) -> None:
    pid = _patient(page.server, "WEB-NBP-1", MARFAN)
    page.login()
    page.goto(f"/patients/{pid}")
    before = page.ranking()
    suggestion = page.page.locator("#suggestions li").first
    label = suggestion.locator(".label").inner_text()
    page.timed(lambda: suggestion.get_by_role("button", name="Present").click())
    page.page.locator("#terms", has_text=label).wait_for()
    after = page.ranking()
    assert after != before, "answering a suggestion did not change the ranking"
    # "unknown" only hides the suggestion
    hidden = page.page.locator("#suggestions li .label").first.inner_text()
    page.timed(lambda: page.page.locator("#suggestions li").first.get_by_role("button", name="Unknown").click())
    assert hidden not in page.page.locator("#suggestions").inner_text()
    page.shot("04-next-best-phenotype")


def test_record_diagnosis(page: Page) -> None:
    pid = _patient(page.server, "WEB-DX-1", MARFAN)
    page.login()
    page.goto(f"/patients/{pid}")
    name = page.page.locator("#ranking > li .name").first.inner_text()
    page.page.locator("#ranking > li").first.get_by_role("button", name="Record as suspected").click()
    section = page.page.locator("#section-diagnoses")
    section.locator("td", has_text="suspected").wait_for()
    assert name in section.inner_text()
    assert "Diagnosis recorded" in page.page.locator("#notice").inner_text()
    page.page.locator("#history summary").click()
    page.page.locator("#history-body li").first.wait_for()
    assert "diagnoses" in page.page.locator("#history-body").inner_text()
    page.shot("05-record-diagnosis")
    page.axe()


def test_import_zip_with_one_bad_file(page: Page, tmp_path: Path) -> None:
    bundle = tmp_path / "cases.zip"
    good = json.loads((DATA / "phenopackets" / "marfan_case.json").read_text())
    good["id"] = "WEB-IMPORT-1"
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.writestr("cases/good.json", json.dumps(good))
        zf.writestr("cases/broken.json", (DATA / "bad" / "broken.json").read_text())
    page.login()
    page.page.click("nav >> text=Import")
    page.page.set_input_files("#import-file", str(bundle))
    page.page.click("text=Check file")
    summary = page.page.locator("#import-summary")
    summary.wait_for()
    assert "1 can be imported, 1 will be rejected" in summary.inner_text()
    assert "cases.zip!cases/broken.json" in page.page.locator("table.issues").inner_text()
    page.shot("06a-import-check")
    page.axe()
    page.page.click("#import-confirm")
    page.page.locator("text=Import report").wait_for()
    assert "1 imported, 1 rejected" in page.page.locator("#import-summary").inner_text()
    page.shot("06b-import-done")


def test_switch_language(page: Page) -> None:
    pid = _patient(page.server, "WEB-LANG-1", MARFAN)
    page.login()
    page.goto(f"/patients/{pid}")
    page.page.click("a[hreflang=ru]")
    page.page.wait_for_url(f"**/patients/{pid}")
    assert page.page.locator("html").get_attribute("lang") == "ru"
    assert "Дифференциальный диагноз" in page.page.locator("#h-dx").inner_text()
    assert page.page.locator("nav a[href='/patients']").inner_text() == "Пациенты"
    page.goto("/cohort")  # the choice is kept in a cookie
    assert page.page.locator("h1").inner_text() == "Сводка по когорте"
    page.shot("07-russian")
    page.axe()


@pytest.mark.parametrize("page", ["ru-RU"], indirect=True)
def test_default_language_from_the_browser(page: Page) -> None:
    page.goto("/login")
    assert page.page.locator("h1").inner_text() == "Вход"


def test_quick_diagnosis_from_text(page: Page) -> None:
    page.login()
    page.page.click("nav >> text=Quick diagnosis")
    page.page.locator("#from-text summary").click()
    page.page.fill("#note", "Tall girl with arachnodactyly, ectopia lentis and an aortic root aneurysm. No hearing loss.")
    page.page.click("text=Find terms")
    page.page.locator(".highlighted mark").first.wait_for()
    marks = page.page.locator(".highlighted mark").all_inner_texts()
    assert "arachnodactyly" in marks and "ectopia lentis" in marks
    page.timed(lambda: page.page.click("text=Add ticked terms"))
    page.page.locator("#ranking > li").first.wait_for()
    assert "Marfan" in page.page.locator("#ranking > li summary").first.inner_text()
    assert "absent" in page.page.locator("#terms").inner_text()  # "no hearing loss" came in as excluded
    page.shot("08-quick-diagnosis-text")
    page.axe()


def _pages(pdf: bytes, folder: Path) -> int:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(info.split("Pages:")[1].split()[0])


def test_cohort_dashboard_and_report(page: Page, tmp_path: Path) -> None:
    """The report of the demo patient with the most findings: at most 3 A4 pages printed and as PDF, both languages."""
    (pseudonym,) = largest_demo_cases(tmp_path / "cases", 1)
    page.server.registry.import_phenopackets(SYSTEM, tmp_path / "cases")
    pid = page.server.registry.list_summaries(SYSTEM, PatientFilter(pseudonym=pseudonym)).data[0].id
    page.login()
    page.goto("/cohort")
    assert page.page.locator("figure.chart table.bar-chart").count() >= 3
    page.shot("09-cohort")
    page.axe()
    for lang, disclaimer in (("en", "Decision support, not a diagnosis"), ("ru", "Поддержка принятия решений, не диагноз")):
        page.goto(f"/lang/{lang}?next=/patients/{pid}/report")
        report = page.page.locator("article.case-report")
        assert report.locator("ol.candidates > li").count() == 5 and disclaimer in report.inner_text()
        assert report.locator("table, button").count() == 0  # the key evidence only; no controls in print
        page.shot(f"10-report-{lang}")
        page.axe()
        page.page.emulate_media(media="print")
        page.shot(f"10-report-print-{lang}")
        printed = page.page.pdf(format="A4", margin={"top": "12mm", "bottom": "12mm", "left": "12mm", "right": "12mm"})
        assert _pages(printed, tmp_path) <= 3
        page.page.emulate_media(media="screen")
        pdf = page.page.request.get(page.server.url + f"/patients/{pid}/report.pdf")
        assert pdf.headers["content-type"] == "application/pdf" and _pages(pdf.body(), tmp_path) <= 3


def submit(page: Page, button: Any) -> None:
    """Click a button of a plain form and wait for the page that answers it."""
    with page.page.expect_navigation():
        button.click()


def test_users_page(page: Page) -> None:
    reg = page.server.registry
    uid = reg.add_user(SYSTEM, "web-nurse", PASSWORD, "clinician").id
    for n in range(5):  # someone guesses: signing in as web-nurse is locked
        with pytest.raises(AuthenticationError):
            reg.sign_in("web-nurse", f"guess {n}")
    page.login("admin")
    page.page.click("nav >> text=Users")
    page.page.wait_for_url("**/admin/users")
    row = page.page.locator(f"#user-{uid}")
    assert "locked until" in row.inner_text()
    page.shot("11a-users")
    page.axe()
    submit(page, row.locator("button", has_text="Unlock"))
    assert "web-nurse can sign in again" in page.page.locator("#users-done").inner_text()
    row.locator("summary").click()
    row.locator(f"#role-{uid}").select_option("researcher")
    submit(page, row.locator("button", has_text="Change role"))
    assert "The role of web-nurse is changed" in page.page.locator("#users-done").inner_text()
    row.locator("summary").click()
    row.locator("input[type=password]").fill("password2024")
    submit(page, row.locator("button", has_text="Set password"))
    assert "most commonly used" in page.page.locator("#users-error").inner_text()
    assert row.locator("details").get_attribute("open") is not None  # the form stays open beside the message
    page.shot("11b-users-password-refused")
    submit(page, row.locator("button", has_text="Disable"))  # confirmed by the dialog handler
    assert "disabled and signed out" in page.page.locator("#users-done").inner_text()
    page.page.click("a[hreflang=ru]")
    page.page.wait_for_url("**/admin/users*")
    assert page.page.locator("h1").inner_text() == "Пользователи"
    assert "отключён" in row.inner_text()
    page.shot("11c-users-ru")
    page.axe()
    submit(page, row.locator("button", has_text="Удалить"))
    assert "Пользователь web-nurse удалён" in page.page.locator("#users-done").inner_text()


def test_patient_audit_page(page: Page) -> None:
    pid = _patient(page.server, "WEB-AUDIT-1", MARFAN)
    page.login("admin")
    page.goto(f"/patients/{pid}")
    page.page.click("text=Audit log")
    page.page.wait_for_url(f"**/patients/{pid}/audit")
    assert "opened the record" in page.page.locator("table.audit").inner_text()
    page.shot("12a-patient-audit")
    page.axe()
    page.page.click("a[hreflang=ru]")
    page.page.wait_for_url(f"**/patients/{pid}/audit")
    assert "видел(а) в списке пациентов" in page.page.locator("table.audit").inner_text()
    page.shot("12b-patient-audit-ru")


def test_autocomplete_server_time(page: Page) -> None:
    """Record (not assert) the server time of autocomplete queries as a user types them."""
    page.login()
    for word in ("arachnodactyly", "ectopia lentis", "seizure", "short stature", "hearing impairment", "macrocephaly",
                 "intelectual disab", "hypotonia", "cardiomyopathy", "scoliosis"):
        for n in (3, 5, 8, len(word)):
            r = page.page.request.get(f"{page.server.url}/terms/suggest?q={word[:n]}")
            assert r.ok
            TIMINGS["autocomplete_server_ms"].append(float(r.headers["server-timing"].split("dur=")[1]))


def _write_timings() -> None:
    lines = []
    for key, values in TIMINGS.items():
        if values:
            lines.append(f"| {key} | {len(values)} | {statistics.median(values):.1f} | {max(values):.1f} |")
    if not lines:
        return
    table = "| measure | n | p50 (ms) | max (ms) |\n|---|---|---|---|\n" + "\n".join(lines)
    print("\nworkbench timings\n" + table, file=sys.stderr)
    # written next to the screenshots; benchmarks/results/web.md holds the figures quoted in the notes
    out = REPO / "test-output" / "web" / "timings.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("    .venv/bin/python -m pytest tests/web -q -s\n\n" + table + "\n")