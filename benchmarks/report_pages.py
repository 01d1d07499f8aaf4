"""A4 page count of the printable case report (issue 12, target: 1 to 3 pages); results go to
benchmarks/results/web.md by hand.

    raredx demo --patients 12 --registry-dir /tmp/demo-reg
    PYTHONPATH=src .venv/bin/python benchmarks/report_pages.py /tmp/demo-reg [--patients 1 12 10]

For each patient (default: the three with the most phenotypic features) and language: the printable HTML page (``/patients/ID/report``) printed to A4 by Debian's
Chromium (Playwright's ``page.pdf``, 12 mm margins unless the page's CSS sets them, as the browser's Print
does), and the PDF (``/patients/ID/report.pdf``, WeasyPrint) where the route exists; pages counted by
poppler's ``pdfinfo``. Runs on any checkout (a checkout without the PDF route prints "—" for it).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from raredx import RareDx
from raredx.config import Settings
from raredx.registry import SYSTEM, Registry
from raredx.registry._demo import demo_password
from raredx.server import create_app

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
USER = "demo-clinician"


def pages(pdf: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def client_for(registry_dir: Path) -> tuple[TestClient, Registry]:
    settings = Settings(registry_dir=registry_dir, demo=True, secret_key="report-pages-benchmark-0123456789-abcdef")
    rdx = RareDx.load()
    kb = rdx.kb

    def equivalent_ids(disease_id: str) -> tuple[str, ...]:
        c = kb.concept(disease_id)
        return tuple(c.ids) if c is not None else (disease_id,)

    registry = Registry.open(settings.url, ontology=kb.ontology, equivalent_ids=equivalent_ids)
    client = TestClient(create_app(settings, rdx=rdx, registry=registry)).__enter__()  # runs the lifespan
    login = client.get("/login")
    csrf = CSRF.search(login.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": USER, "password": demo_password(USER), "csrf": csrf, "next": "/"},
                    follow_redirects=False)
    if r.status_code != 303:
        sys.exit(f"cannot sign in as {USER}: {r.status_code} {r.text[:200]}")
    return client, registry


def printed(browser: object, html: str, css: str) -> bytes:
    """The page as Chromium prints it to A4 (the stylesheet inlined: the page is loaded from a string)."""
    html = re.sub(r'<link rel="stylesheet" href="[^"]+">', lambda _: f"<style>{css}</style>", html)
    html = re.sub(r"<script[^>]*></script>", "", html)
    page = browser.new_page()  # type: ignore[attr-defined]
    page.set_content(html, wait_until="load")
    page.emulate_media(media="print")
    pdf: bytes = page.pdf(format="A4", prefer_css_page_size=True,
                          margin={"top": "12mm", "bottom": "12mm", "left": "12mm", "right": "12mm"})
    page.close()
    return pdf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("registry_dir", type=Path)
    ap.add_argument("--patients", type=int, nargs="+", help="patient ids (default: the 3 with the most features)")
    ap.add_argument("--save", type=Path, help="keep the PDFs here")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    client, registry = client_for(args.registry_dir)
    if not args.patients:
        rows = registry.list_summaries(SYSTEM, limit=500).data  # a demo registry: 300
        args.patients = [s.id for s in sorted(rows, key=lambda s: -s.counts.get("phenotypic_features", 0))[:3]]
    print("| patient | features | language | printed HTML (pages) | PDF (pages) |")
    print("|---|---|---|---|---|")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        for pid in args.patients:
            for lang in ("en", "ru"):
                client.cookies.set("rdx_lang", lang)
                r = client.get(f"/patients/{pid}/report")
                r.raise_for_status()
                css = "\n".join(client.get(href).text for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', r.text))
                html_pdf = printed(browser, r.text, css)
                p = client.get(f"/patients/{pid}/report.pdf")
                pdf = p.content if p.status_code == 200 and p.headers["content-type"] == "application/pdf" else None
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / f"report-{pid}-{lang}-printed.pdf").write_bytes(html_pdf)
                    if pdf:
                        (args.save / f"report-{pid}-{lang}.pdf").write_bytes(pdf)
                n = len(registry.get_patient(SYSTEM, pid).phenotypic_features)
                print(f"| {pid} | {n} | {lang} | {pages(html_pdf)} | {pages(pdf) if pdf else '—'} |", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
