"""The clinician workbench: server-rendered pages (Jinja2 + htmx) over :class:`raredx.registry.Registry` and
:class:`raredx.RareDx`, served by the same FastAPI app as the REST API (``raredx serve``, then open ``/``).

Layout: ``_i18n`` (Russian and English message catalogues in ``locales/``), ``_session`` (cookie session and
CSRF), ``_render`` (templates, HTML errors), ``_forms`` (form fields <-> registry schemas), ``_case`` (the
phenotype editor and differential shared by the patient page and the quick diagnosis), ``_report`` (the case
report, page and PDF, also for ``raredx registry report``), and one routes module per area (``_auth``,
``_patients``, ``_diagnosis``, ``_cohort``). Every read and write of patient data goes through the ``Registry``
service, so permissions and the audit log apply exactly as for the API.
"""

from __future__ import annotations

from raredx.web._install import install
from raredx.web._report import case_report_pdf

__all__ = ["case_report_pdf", "install"]
