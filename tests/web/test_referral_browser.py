"""Issue 14's whole referral path in a real browser (Debian's Chromium through Playwright), in Russian and in English.

Each actor works in their own browser context (their own cookies), signs in on the login page and picks the
language with the page's language links (the context's browser language is the other one, so the choice is what
sets it). One step function per actor, in the order of the path:

1. the referrer writes a new referral (a Russian clinical question and history), saves the draft, attaches a PDF
   made by the test, writes on the thread and submits it;
2. the coordinator sees it in the list with the differential made at submission, accepts it and assigns two
   experts;
3. the first expert starts the review and writes an opinion; the second writes an opinion and the conclusion and
   issues it;
4. the referrer reads the conclusion (and not the experts' own opinions);
5. another referrer gets 403 on the referral's page, on the API and on the attachment URL (both the page's and the
   API's).

Later steps (the conclusion PDF download, the in-app notification) slot in as more ``step_...`` functions after
``step_experts_review`` (see the comment in ``test_the_referral_path``). Screenshots of the main pages go to the
test's tmp dir and are copied to test-output/web/ (as the other browser tests do) and, when ``RAREDX_SHOTS_DIR`` is
set, there too. Every page fails the test on a console error (``browser_page``) and the main ones on serious or
critical axe-core violations.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from raredx.config import Settings
from raredx.registry import SYSTEM, Actor, Registry
from raredx.registry.schemas import OrganisationCreate

from .conftest import PASSWORD, LiveServer, add_users, equivalent_ids_of, serve
from .test_workbench_browser import SHOTS, Page, browser, browser_page, submit  # noqa: F401 (browser: the fixture)

# the browser language of each run's contexts: the other language, so the language link is what switches
OTHER_LOCALE = {"ru": "en-GB", "en": "ru-RU"}
PHENOTYPE = ("HP:0001166", "HP:0001083", "HP:0002616")  # arachnodactyly, ectopia lentis, aortic root aneurysm
QUESTION = "Синдром Марфана? Какое генетическое исследование назначить дальше?"
HISTORY = "Высокий рост с 5 лет, подвывих хрусталика справа в 9 лет. Мать — высокого роста, не обследована."
MESSAGE = "Прилагаю заключение ЭхоКГ от 12.03."
OPINION_1 = "Фенотип соответствует синдрому Марфана (Гентские критерии: эктопия хрусталика + расширение корня аорты)."
OPINION_2 = "Согласна; исключить синдром Лойса-Дитца (TGFBR1/2)."
CONCLUSION = "Синдром Марфана, вероятный (FBN1)."
TESTS = "Панель генов аортопатий: FBN1, TGFBR1, TGFBR2, SMAD3."
FOLLOW_UP = "Эхокардиография раз в год; осмотр офтальмолога."
TEXT = {
    "ru": {"list": "Направления на консультацию", "new": "Новое направление", "draft": "черновик",
           "submitted": "отправлено", "accepted": "принято", "assigned": "эксперты назначены",
           "in_review": "на рассмотрении", "concluded": "заключение готово", "dx": "Дифференциальный диагноз при отправке",
           "urgent": "срочная", "done": "Сохранено.", "refused": "не может видеть направление", "kb": r"\d+(,\d)? КБ"},
    "en": {"list": "Referrals", "new": "New referral", "draft": "draft", "submitted": "submitted",
           "accepted": "accepted", "assigned": "experts assigned", "in_review": "in review", "concluded": "concluded",
           "dx": "Differential at submission", "urgent": "urgent", "done": "Saved.",
           "refused": "may not see referral", "kb": r"\d+(\.\d)? KB"},
}


@dataclass
class Path14:
    """What the steps of one run share: the language, the people, the PDF to attach, what the steps made."""

    lang: str
    server: LiveServer
    shots: Path
    pdf: Path
    people: dict[str, str]  # role in the path -> user name
    words: dict[str, str] = field(init=False)
    rid: int = 0
    attachment: str = ""  # the attachment's URL on the referral page

    def __post_init__(self) -> None:
        self.words = TEXT[self.lang]

    @property
    def url(self) -> str:
        return f"/referrals/{self.rid}"

    @property
    def pseudonym(self) -> str:
        return f"BR-{self.lang.upper()}-1"


def make_people(server: LiveServer, lang: str) -> dict[str, str]:
    """Two referrers in a regional hospital, a coordinator and two experts, made through the registry service."""
    reg = server.registry
    org = reg.add_organisation(SYSTEM, OrganisationCreate(name=f"Тверская ОДКБ ({lang})", region="Тверская область"))
    people = {"referrer": f"br-doc-{lang}", "other_referrer": f"br-doc2-{lang}", "coordinator": f"br-coord-{lang}",
              "expert1": f"br-exp1-{lang}", "expert2": f"br-exp2-{lang}"}
    roles = {"referrer": "referring_physician", "other_referrer": "referring_physician", "coordinator": "coordinator",
             "expert1": "expert", "expert2": "expert"}
    for who, name in people.items():
        reg.add_user(SYSTEM, name, PASSWORD, roles[who],
                     organisation_id=org.id if roles[who] == "referring_physician" else None)
    return people


@pytest.fixture
def attachment_pdf(browser: Any, tmp_path: Path) -> Path:  # noqa: F811 (the imported fixture)
    """A small real PDF (an echocardiography report, in Russian), printed by the browser."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<h1>ЭхоКГ</h1><p>Корень аорты 38 мм (Z = +3,1). Пролапс митрального клапана.</p>")
    path = tmp_path / "echo.pdf"
    path.write_bytes(page.pdf(format="A4"))
    context.close()
    assert path.read_bytes().startswith(b"%PDF-")
    return path


@pytest.fixture
def server(request: pytest.FixtureRequest, live_server: LiveServer, tmp_path: Path) -> Iterator[LiveServer]:
    """The session's server (SQLite), or for ``postgresql`` one on ``RAREDX_TEST_DATABASE_URL`` emptied first
    (skipped when the variable is unset), with the same knowledge base."""
    if request.param == "sqlite":
        yield live_server
        return
    url = os.environ.get("RAREDX_TEST_DATABASE_URL")
    if not url:
        pytest.skip("RAREDX_TEST_DATABASE_URL is not set (.ci/run starts PostgreSQL and sets it)")
    from registry.conftest import empty_postgres

    rdx = live_server.rdx
    assert rdx is not None
    empty_postgres(url)
    settings = Settings(registry_dir=tmp_path, database_url=url, secret_key="browser-test-secret-key-0123456789-abcdef")
    registry = Registry.open(url, ontology=rdx.kb.ontology, equivalent_ids=equivalent_ids_of(rdx))
    add_users(registry)
    with serve(settings, rdx, registry) as address:
        yield LiveServer(address, registry, rdx)
    registry.close()


# -- helpers ---------------------------------------------------------------------------------------------------
@contextmanager
def actor_page(browser: Any, run: Path14, who: str) -> Iterator[Page]:  # noqa: F811
    """``who`` signed in, in a browser of their own, with pages in the run's language picked on the page."""
    with browser_page(browser, run.server, OTHER_LOCALE[run.lang]) as p:
        p.goto("/login")
        p.page.fill("#username", run.people[who])
        p.page.fill("#password", PASSWORD)
        submit(p, p.page.locator("button[type=submit]"))
        if "referrer" in who:  # the front page of a referrer, who may not read the registry, is their referrals
            assert p.page.url.endswith("/referrals"), p.page.url
            assert p.page.locator("nav a[href='/patients'], nav a[href='/cohort'], nav a[href='/diagnose']").count() == 0
        else:
            assert p.page.url.endswith("/patients"), p.page.url
            submit(p, p.page.locator("nav a[href='/referrals']"))
        p.page.click(f"a[hreflang={run.lang}]")
        p.page.wait_for_url("**/referrals")
        assert p.page.locator("html").get_attribute("lang") == run.lang
        assert p.page.locator("h1").inner_text() == run.words["list"]
        yield p


def shot(p: Page, run: Path14, name: str) -> None:
    """A full-page screenshot into the test's tmp dir, copied to test-output/web/ (and $RAREDX_SHOTS_DIR)."""
    backend = "" if run.server.registry.engine.dialect.name == "sqlite" else "-pg"
    path = run.shots / f"ref-{run.lang}{backend}-{name}.png"
    p.page.screenshot(path=str(path), full_page=True)
    for folder in (SHOTS, os.environ.get("RAREDX_SHOTS_DIR")):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(folder) / path.name)


def status(p: Page) -> str:
    return p.page.locator(".page-head h1 .tag").first.inner_text()


def transition(p: Page, to: str) -> None:
    """Click the workflow action that moves the referral to ``to`` and wait for the page it answers with."""
    submit(p, p.page.locator(f"#actions form:has(input[name=to][value={to}]) button"))
    assert p.page.locator("#ref-error").count() == 0, p.page.locator("#ref-error").inner_text()


def section(p: Page, heading_id: str) -> Any:
    return p.page.locator(f"section[aria-labelledby={heading_id}]")


def readable(p: Page) -> None:
    """The referral page as the expert reads it: the free text of the referral across the card, not in a narrow
    column, and the bars of the differential one under another (each starts where the others do)."""
    card = section(p, "h-ref").bounding_box()
    for text in (QUESTION, HISTORY):
        box = p.page.locator("#h-ref ~ dl dd", has_text=text).bounding_box()
        assert box and card and box["width"] > card["width"] * 0.8, (text, box, card)
    starts = {round(b["x"]) for b in (bar.bounding_box() for bar in p.page.locator("#ref-ranking svg.bar").all()) if b}
    assert len(starts) == 1, f"the differential's bars start at {sorted(starts)}"


# -- the steps, one per actor ------------------------------------------------------------------------------------
def step_referrer_submits(p: Page, run: Path14) -> None:
    """The referrer's new referral: the form, the draft, the attachment and a message, then the submission."""
    w = run.words
    p.page.click(".page-head a.button.primary")  # New referral
    p.page.wait_for_url("**/referrals/new")
    assert p.page.locator("h1").inner_text() == w["new"]
    p.page.check("#ref-pseudonymous")
    p.page.fill("#ref-pseudonym", run.pseudonym)
    p.page.select_option("#ref-sex", "FEMALE")
    p.page.fill("#ref-date_of_birth", "2012-04-01")
    p.page.fill("#ref-clinical_question", QUESTION)
    p.page.select_option("#ref-urgency", "urgent")
    p.page.fill("#ref-phenotype", " ".join(PHENOTYPE))
    p.page.fill("#ref-history", HISTORY)
    shot(p, run, "2-new-form")
    p.axe()
    frame = p.page.locator("fieldset").first.evaluate("e => getComputedStyle(e).borderTopStyle")
    assert frame == "none", f"the patient's fieldset shows the browser's frame ({frame})"
    submit(p, p.page.locator("button[name=action][value=save]"))
    m = re.search(r"/referrals/(\d+)$", p.page.url)
    assert m, f"saving the draft did not open its page: {p.page.url}"
    run.rid = int(m.group(1))
    assert status(p) == w["draft"]
    details = section(p, "h-ref").inner_text()
    assert run.pseudonym in details and QUESTION in details and HISTORY in details and w["urgent"] in details
    assert section(p, "h-ref").locator("time[datetime='2012-04-01']").count() == 1
    assert section(p, "h-ref").locator("ul.terms li").count() == len(PHENOTYPE)

    p.page.set_input_files("#ref-file", str(run.pdf))
    submit(p, section(p, "h-files").locator("button[type=submit]"))
    files = section(p, "h-files")
    assert "echo.pdf" in files.inner_text() and re.search(w["kb"], files.inner_text()), files.inner_text()
    run.attachment = files.locator("a", has_text="echo.pdf").get_attribute("href") or ""
    assert re.fullmatch(rf"{run.url}/attachments/\d+", run.attachment), run.attachment
    got = p.page.request.get(run.server.url + run.attachment)
    assert got.status == 200 and got.body() == run.pdf.read_bytes()  # the referrer gets their file back as sent

    p.page.fill("#ref-message", MESSAGE)
    submit(p, section(p, "h-thread").locator("button[type=submit]"))
    assert MESSAGE in section(p, "h-thread").inner_text()

    transition(p, "submitted")
    assert status(p) == w["submitted"]
    assert w["done"] in p.page.locator("#ref-notice").inner_text()
    assert section(p, "h-rdx").count() == 0  # the differential is the centre's, not the referrer's
    p.goto("/referrals")
    row = p.page.locator(f"table.referrals tr:has(a[href='{run.url}'])").last
    assert run.pseudonym in row.inner_text() and w["submitted"] in row.inner_text()
    tinted = row.locator(".tag-submitted").evaluate("e => getComputedStyle(e).backgroundColor")
    plain = p.page.evaluate("() => { const e = document.createElement('span'); e.className = 'tag';"
                            " document.body.append(e); const c = getComputedStyle(e).backgroundColor; e.remove();"
                            " return c; }")
    assert tinted != plain, f"a submitted referral's tag is the plain grey one ({tinted})"
    shot(p, run, "1-list-referrer")
    p.axe()


def step_coordinator_assigns(p: Page, run: Path14) -> None:
    """The coordinator opens the submitted referral from the list, sees the differential, accepts, assigns."""
    w = run.words
    p.page.click(f"table.referrals a[href='{run.url}']")
    p.page.wait_for_url(f"**{run.url}")
    assert status(p) == w["submitted"]
    dx = section(p, "h-rdx")
    assert w["dx"] in dx.inner_text()
    assert dx.locator("ol.ranking > li").count() >= 3
    assert "Marfan" in dx.locator("ol.ranking > li .name").first.inner_text()
    transition(p, "accepted")
    assert status(p) == w["accepted"]
    form = section(p, "h-experts")
    form.locator("#ref-experts").fill(f"{run.people['expert1']}, {run.people['expert2']}")
    submit(p, form.locator("button[type=submit]"))
    assert p.page.locator("#ref-error").count() == 0
    assert status(p) == w["assigned"]
    experts = section(p, "h-ref").inner_text()
    assert run.people["expert1"] in experts and run.people["expert2"] in experts
    p.goto("/referrals")
    shot(p, run, "1-list-coordinator")
    p.axe()


def step_experts_review(first: Page, second: Page, run: Path14) -> None:
    """Both experts write an opinion; the second writes the conclusion and issues it."""
    w = run.words
    for p in (first, second):
        p.goto(run.url)
        assert status(p) == w["assigned"]
        assert "Marfan" in section(p, "h-rdx").inner_text()  # the experts open it with the candidates there
    readable(first)
    transition(first, "in_review")
    assert status(first) == w["in_review"]
    first.page.fill("#ref-opinion", OPINION_1)
    submit(first, section(first, "h-opinions").locator("button[type=submit]"))
    assert OPINION_1 in section(first, "h-opinions").inner_text()

    second.goto(run.url)
    assert status(second) == w["in_review"]
    second.page.fill("#ref-opinion", OPINION_2)
    submit(second, section(second, "h-opinions").locator("button[type=submit]"))
    opinions = section(second, "h-opinions").inner_text()
    assert OPINION_1 in opinions and OPINION_2 in opinions  # the consilium sees each other's opinions
    assert MESSAGE in section(second, "h-thread").inner_text() and "echo.pdf" in section(second, "h-files").inner_text()
    second.page.fill("#c-text", CONCLUSION)
    second.page.fill("#c-recommended_tests", TESTS)
    second.page.fill("#c-follow_up", FOLLOW_UP)
    submit(second, section(second, "h-conclusion").locator("form button[type=submit]"))
    assert second.page.locator("#ref-error").count() == 0
    assert CONCLUSION in section(second, "h-conclusion").locator("dl").inner_text()
    shot(second, run, "3-referral-expert")
    second.axe()
    transition(second, "concluded")
    assert status(second) == w["concluded"]


def step_referrer_reads_conclusion(p: Page, run: Path14) -> None:
    """The referrer's page (opened since the submission) shows the issued conclusion after a reload."""
    p.goto(run.url)
    assert status(p) == run.words["concluded"]
    conclusion = section(p, "h-conclusion").inner_text()
    assert CONCLUSION in conclusion and TESTS in conclusion and FOLLOW_UP in conclusion
    assert run.people["expert2"] in conclusion  # who concluded
    body = p.page.locator("main").inner_text()
    assert OPINION_1 not in body and OPINION_2 not in body  # the experts' own opinions stay the centre's
    assert section(p, "h-rdx").count() == 0
    shot(p, run, "4-conclusion-referrer")
    p.axe()


def step_referrer_sees_notification(p: Page, run: Path14) -> None:
    """The referrer's nav counts the unread notification of the conclusion; the notifications page says it in the
    page's language, and opening it marks it read and opens the referral."""
    from raredx.app import notification_text

    p.goto("/referrals")
    assert p.page.locator("#unread-count").count() == 1
    p.page.locator("#nav-notifications").click()
    me = Actor(run.people["referrer"], "referring_physician")
    mine = run.server.registry.list_notifications(me)
    concluded = [n for n in mine.data if n.kind == "concluded" and n.referral_id == run.rid]
    assert len(concluded) == 1 and not concluded[0].read
    text = notification_text(concluded[0], run.lang)
    item = p.page.locator(f"#notification-{concluded[0].id}")
    assert text in item.inner_text()
    shot(p, run, "5-notifications-referrer")
    p.axe()
    item.locator("a").first.click()
    assert p.page.url.endswith(run.url) and status(p) == run.words["concluded"]
    after = run.server.registry.list_notifications(me)
    assert next(n for n in after.data if n.id == concluded[0].id).read


def step_referrer_downloads_pdf(p: Page, run: Path14) -> None:
    """The referrer downloads the conclusion's PDF from the page (the browser's download); its pages render and
    its text has the patient, the question, the conclusion, the expert and the date; the other referrer is refused."""
    from raredx.i18n import Translator

    from .test_referral_conclusion_pdf import pdf_checked

    link = p.page.locator("#conclusion-pdf")
    with p.page.expect_download() as info:
        link.click()
    path = info.value.path()
    pdf = Path(path).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = pdf_checked(pdf, run.shots)
    issued = run.server.registry.get_referral(SYSTEM, run.rid).conclusion_pdf
    assert issued is not None and issued.language == run.lang
    t = Translator(run.lang)
    for expected in (run.pseudonym, QUESTION, CONCLUSION, TESTS, run.people["expert2"], t.date(issued.issued_at.date())):
        assert expected in text, (expected, text)


def step_other_referrer_refused(p: Page, run: Path14) -> None:
    """Another referrer: 403 on the page, on the API (with their own token) and on the attachment URLs."""
    refused = p.page.goto(run.server.url + run.url)
    assert refused is not None and refused.status == 403
    assert run.words["refused"] in p.page.locator("main").inner_text()
    assert run.pseudonym not in p.page.content() and QUESTION not in p.page.content()
    attachment = p.page.goto(run.server.url + run.attachment)
    assert attachment is not None and attachment.status == 403
    p.goto("/referrals")
    assert p.page.locator(f"a[href='{run.url}']").count() == 0  # not in their list either
    # Chromium logs each refused page as a console error: those are the point here
    p.errors[:] = [e for e in p.errors if "status of 403" not in e]

    api = p.page.request
    aid = run.attachment.rsplit("/", 1)[1]
    for who, expected in (("other_referrer", 403), ("referrer", 200)):  # the owner's 200: the token itself works
        token = api.post(run.server.url + "/api/auth/token", form={"username": run.people[who], "password": PASSWORD})
        assert token.ok, token.text()
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        got = api.get(f"{run.server.url}/api{run.url}", headers=auth)
        assert got.status == expected, got.text()
        if expected == 403:
            assert run.pseudonym not in got.text()
        else:
            assert got.json()["clinical_question"] == QUESTION
        assert api.get(f"{run.server.url}/api{run.url}/attachments/{aid}", headers=auth).status == expected
        assert api.get(f"{run.server.url}/api{run.url}/conclusion.pdf", headers=auth).status == expected
    assert p.page.request.get(f"{run.server.url}{run.url}/conclusion.pdf").status == 403


# -- the path ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("server", "lang"), [("sqlite", "ru"), ("sqlite", "en"), ("postgresql", "ru")],
                         indirect=["server"])
def test_the_referral_path(browser: Any, server: LiveServer, attachment_pdf: Path, tmp_path: Path,  # noqa: F811
                           lang: str) -> None:
    run = Path14(lang, server, tmp_path, attachment_pdf, make_people(server, lang))
    with actor_page(browser, run, "referrer") as referrer:
        step_referrer_submits(referrer, run)
        with actor_page(browser, run, "coordinator") as coordinator:
            step_coordinator_assigns(coordinator, run)
        with actor_page(browser, run, "expert1") as first, actor_page(browser, run, "expert2") as second:
            step_experts_review(first, second, run)
        step_referrer_sees_notification(referrer, run)
        step_referrer_reads_conclusion(referrer, run)
        step_referrer_downloads_pdf(referrer, run)
    with actor_page(browser, run, "other_referrer") as other:
        step_other_referrer_refused(other, run)
    history = server.registry.get_referral(SYSTEM, run.rid).status_history
    assert [c.to_status for c in history] == ["draft", "submitted", "accepted", "assigned", "in_review", "concluded"]
