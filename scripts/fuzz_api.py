"""Fuzz the REST API with schemathesis and count what is wrong, without stopping at the first failure.

    .venv/bin/python scripts/fuzz_api.py [--examples 50] [--database-url URL] [--show 3]

The API runs in-process over the toy knowledge base (tests/data/toy) and a fresh registry (a temporary SQLite
file unless --database-url names an empty PostgreSQL database), with three patients and an admin whose bearer
token goes with every request. Every phase but the stateful one runs (examples, coverage, fuzzing), with the
checks of tests/api/test_schemathesis.py. Printed: the requests sent, the 5xx answers and the exceptions out of
the app (each a 500 for a client; in-process, the exception reaches the caller too), and the failed checks by
check and by operation, with a curl command for the first few. Exit status 1 when anything failed. Needs the
test extra (schemathesis). tests/api/test_schemathesis.py runs the same checks in the test suite; this is
the counting probe (the test stops each operation at its first failure).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=50, help="fuzzing examples per operation (default 50)")
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--show", type=int, default=3, help="curl commands shown per failed check (default 3)")
    args = parser.parse_args()

    import logging

    import schemathesis
    from schemathesis.engine import events, from_schema

    from raredx.api import create_app
    from raredx.config import Settings
    from raredx.core import RareDx
    from raredx.kb import load_knowledge_base
    from raredx.registry import SYSTEM, PatientCreate, Registry
    from raredx.registry.security import TokenSigner

    logging.getLogger("raredx.api._errors").disabled = True  # the tracebacks of 500s: counted below instead
    tmp = Path(tempfile.mkdtemp(prefix="raredx-fuzz-"))
    kb = load_knowledge_base(REPO / "tests" / "data" / "toy", cache=tmp / "kb-cache")
    registry = Registry.open(args.database_url or f"sqlite:///{tmp / 'registry.sqlite3'}", ontology=kb.ontology)
    registry.add_user(SYSTEM, "admin", "a long fuzzing password", "admin")
    for i in range(1, 4):
        registry.create_patient(SYSTEM, PatientCreate(pseudonym=f"RDX-{i}", phenotypic_features=[{"hpo_id": "HP:0001166"}]))
    settings = Settings(registry_dir=tmp, secret_key="fuzzing-secret-key-of-sufficient-length-0123456789", max_upload_mb=1)
    token = TokenSigner(settings.secret_key or "", 600).issue(registry.active_actor("admin") or SYSTEM)
    app = create_app(settings, rdx=RareDx(kb, cache=False), registry=registry)

    config = schemathesis.Config.from_dict({
        "headers": {"Authorization": f"Bearer {token}"},
        "continue-on-failure": True,
        "generation": {"max-examples": args.examples, "deterministic": True, "database": "none"},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "phases": {"stateful": {"enabled": False}},
    })
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

    requests = 0
    server_errors: Counter[str] = Counter()
    failed: dict[str, Counter[str]] = defaultdict(Counter)
    samples: dict[str, list[str]] = defaultdict(list)
    errors: Counter[str] = Counter()  # exceptions out of the app: a 500 answered, the traceback re-raised
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError):
            errors[f"{event.label}: {type(event.value).__name__}: {str(event.value).splitlines()[0][:160]}"] += 1
        if not isinstance(event, events.ScenarioFinished):
            continue
        rec = event.recorder
        for interaction in rec.interactions.values():
            requests += 1
            if interaction.response is not None and interaction.response.status_code >= 500:
                server_errors[event.label or "?"] += 1
        for case_id, checks in rec.checks.items():
            for check in checks:
                if check.status.value != "failure":
                    continue
                failed[check.name][event.label or "?"] += 1
                if len(samples[check.name]) < args.show and check.failure_info is not None:
                    answer = rec.interactions.get(case_id)
                    status = answer.response.status_code if answer is not None and answer.response else "-"
                    samples[check.name].append(f"{event.label}: {check.failure_info.failure.title} ({status})\n      "
                                               f"{check.failure_info.code_sample}")
    registry.close()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"requests: {requests}; 5xx answers: {sum(server_errors.values())}; exceptions raised by the app: "
          f"{sum(errors.values())}")
    for label, n in server_errors.most_common():
        print(f"  5xx {n:5d}  {label}")
    for name in CHECKS:
        by_op = failed.get(name, Counter())
        print(f"{name}: {sum(by_op.values())} failed, in {len(by_op)} operations")
        for label, n in by_op.most_common():
            print(f"  {n:5d}  {label}")
        for s in samples.get(name, []):
            print(f"    e.g. {s}")
    for e, n in errors.most_common():
        print(f"  exception {n:5d}  {e}")
    return 1 if failed or server_errors or errors else 0


if __name__ == "__main__":
    sys.exit(main())
