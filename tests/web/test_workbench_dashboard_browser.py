"""The coordinator's dashboard and the organisations page in Debian's Chromium (Playwright), in Russian, over the
toy knowledge base and the referrals of tests/registry/test_referral_counts.py: what a coordinator and an admin
see (screenshots under test-output/web/), no console error, no serious accessibility violation, the bars inside
their cells, and the filter by region through the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raredx.config import Settings
from raredx.core import RareDx
from raredx.registry import Registry
from registry.test_referral_counts import DashboardSet, dashboard_set

from .conftest import LiveServer, add_users, serve
from .test_workbench_browser import Page, browser, browser_page  # noqa: F401  (the browser fixture)


@pytest.fixture(scope="module")
def dash_server(tmp_path_factory: pytest.TempPathFactory, toy_kb: Any) -> Iterator[tuple[LiveServer, DashboardSet]]:
    folder: Path = tmp_path_factory.mktemp("dash-registry")
    settings = Settings(registry_dir=folder, secret_key="dashboard-browser-secret-key-0123456789-abc")
    registry = Registry.open(settings.url, ontology=toy_kb.ontology)
    add_users(registry)
    d = dashboard_set(registry)
    rdx = RareDx(toy_kb, cache=False)
    with serve(settings, rdx, registry) as url:
        yield LiveServer(url, registry, rdx), d
    registry.close()


def _overlaps(page: Page) -> list[str]:
    """Bar-table rows whose label runs into the bar, or whose count starts before the bar ends."""
    return page.page.evaluate("""() => [...document.querySelectorAll('table.bar-chart tbody tr')].flatMap(tr => {
        const th = tr.querySelector('th').getBoundingClientRect(), bar = tr.querySelector('svg.bar').getBoundingClientRect(),
              n = tr.querySelector('.n').getBoundingClientRect();
        return th.right > bar.left + 1 || n.left < bar.right - 1 ? [tr.innerText] : [];
    })""")


def test_the_dashboard_in_russian(browser: Any, dash_server: tuple[LiveServer, DashboardSet]) -> None:  # noqa: F811
    server, d = dash_server
    with browser_page(browser, server, "ru-RU") as page:
        page.login("coord")
        page.page.click("nav >> text=Направления")
        page.page.wait_for_url("**/referrals")
        page.shot("dash-00-referrals-ru")
        page.page.click("main a.button >> text=Сводка по направлениям")  # the list links it
        page.page.wait_for_url("**/referrals/dashboard")
        page.page.click("nav >> text=Сводка")  # and so does the nav
        page.page.wait_for_url("**/referrals/dashboard")
        assert page.page.locator("h1").inner_text() == "Сводка по направлениям"
        assert page.page.locator("#kpi-total").inner_text() == "5"
        assert "по 2 направлениям с заключением" in page.page.locator("#kpi-median").inner_text()
        late = page.page.locator("#dash-overdue tbody tr")
        assert late.count() == 2 and "3 дня" in late.first.inner_text()
        assert not _overlaps(page)
        page.shot("dash-01-dashboard-ru")
        page.axe()
        page.page.select_option("#filter-region", "Pskov")
        page.page.click("form.dash-filter button[type=submit]")
        page.page.wait_for_url("**/referrals/dashboard?region=Pskov*")
        assert page.page.locator("#kpi-total").inner_text() == "2"
        assert page.page.locator("#dash-overdue tbody tr").count() == 1
        page.page.set_viewport_size({"width": 390, "height": 844})  # a phone
        assert not _overlaps(page)
        assert page.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.shot("dash-02-dashboard-ru-phone")
        page.page.click(f'#dash-overdue a[href="/referrals/{d.ids["late3"]}"] >> nth=0')
        page.page.wait_for_url(f"**/referrals/{d.ids['late3']}")


def test_the_organisations_and_users_pages_in_russian(browser: Any,  # noqa: F811
                                                      dash_server: tuple[LiveServer, DashboardSet]) -> None:
    server, _ = dash_server
    with browser_page(browser, server, "ru-RU") as page:
        page.login("admin")
        page.page.click("nav >> text=Организации")
        page.page.wait_for_url("**/admin/organisations")
        page.page.fill("#new-org-name", "Новгородская областная больница")
        page.page.fill("#new-org-region", "Новгород")
        page.page.click("form.user-add button[type=submit]")
        page.page.wait_for_url("**/admin/organisations?done=add*")
        assert "добавлена" in page.page.locator("#orgs-done").inner_text()
        page.page.fill("#new-org-name", "Pskov Regional Hospital")
        page.page.click("form.user-add button[type=submit]")
        assert "уже есть" in page.page.locator("#orgs-error").inner_text()
        page.shot("dash-03-organisations-ru")
        page.axe()
        page.goto("/admin/users")
        page.page.click("#user-1 details.user-change summary")
        page.shot("dash-04-users-ru")
        page.axe()
