"""Notifications and the video consultation in Debian's Chromium (Playwright): an expert sees the nav's unread
count, opens the notifications page, follows a notification to its referral (which marks it read) and finds the
video consultation there; both pages in Russian and English without console errors or serious axe violations."""

from __future__ import annotations

import pytest

from raredx.registry import SYSTEM, Actor
from raredx.registry.schemas import ReferralCreate, ReferralDifferential, VideoSlot

from .conftest import PASSWORD, LiveServer
from .test_workbench_browser import Page, browser, page  # noqa: F401  (fixtures)

WORDS = {"ru-RU": ("Уведомления", "Видеоконсультация", "назначена на 10.12.2026 10:00 (Europe/Moscow)"),
         "en-GB": ("Notifications", "Video consultation", "is scheduled for 2026-12-10 10:00 (Europe/Moscow)")}


def _referral_with_video(server: LiveServer, tag: str) -> int:
    import datetime as dt

    reg = server.registry
    names = {role: f"{role}-{tag}" for role in ("referring_physician", "coordinator", "expert")}
    for role, name in names.items():
        reg.add_user(SYSTEM, name, PASSWORD, role)
    doc, coord = Actor(names["referring_physician"], "referring_physician"), Actor(names["coordinator"], "coordinator")
    r = reg.create_referral(doc, ReferralCreate.model_validate({
        "clinical_question": "Синдром Марфана?", "patient": {"pseudonymous": True, "pseudonym": f"BR-{tag}"},
        "phenotype": [{"hpo_id": "HP:0001166"}]}))
    r = reg.transition(doc, r.id, "submitted", version=r.version, differential=ReferralDifferential(
        made_at=dt.datetime.now(dt.UTC), kb_version="test", kb_fingerprint="0" * 16, note="none"))
    r = reg.transition(coord, r.id, "accepted", version=r.version)
    r = reg.assign_experts(coord, r.id, [names["expert"]], version=r.version)
    reg.set_video(coord, r.id, VideoSlot(at="2026-12-10T10:00", timezone="Europe/Moscow",  # type: ignore[arg-type]
                                         url="https://video.centre.example/room/b"), version=r.version)
    return r.id


@pytest.mark.parametrize("page", ["ru-RU", "en-GB"], indirect=True)
def test_an_expert_follows_a_notification_to_the_video_consultation(page: Page) -> None:  # noqa: F811
    locale = page.page.evaluate("navigator.language")  # the context's, which the workbench answers in
    nav, section, sentence = WORDS["ru-RU" if locale.startswith("ru") else "en-GB"]
    tag = "ru" if locale.startswith("ru") else "en"
    rid = _referral_with_video(page.server, tag)
    page.login(f"expert-{tag}")
    count = page.page.locator("#unread-count")
    assert count.inner_text().startswith("2")  # assigned; the video consultation
    page.page.click("#nav-notifications")
    page.page.wait_for_url("**/notifications")
    assert page.page.locator("h1").inner_text() == nav
    assert sentence in page.page.locator("ul.notifications").inner_text()
    page.axe()
    page.shot(f"notifications-{tag}")
    page.page.locator("ul.notifications a", has_text=sentence).click()
    page.page.wait_for_url(f"**/referrals/{rid}")
    assert page.page.locator("#h-video").inner_text() == section
    assert page.page.locator("#video-slot a").get_attribute("href") == "https://video.centre.example/room/b"
    assert page.page.locator("#unread-count").inner_text().startswith("1")  # the one followed is read
    no_dx = page.page.locator("#ref-no-differential").inner_text()  # the referral was kept without a differential
    assert ("none" in no_dx) == (tag == "en"), no_dx  # its stored note is English: shown on an English page only
    page.axe()
    page.shot(f"referral-video-{tag}")
