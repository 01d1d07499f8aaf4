"""A pasted note's stated sex reaches the quick diagnosis (issue 12): the terms to accept come with it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import login


def test_note_sets_the_quick_diagnosis_sex(web: TestClient) -> None:
    token = login(web, "clinician")
    r = web.post("/text", data={"csrf": token, "text": "A 4-year-old girl with seizures.", "lang": "en"})
    assert r.status_code == 200 and 'name="stated_sex" value="female"' in r.text
    r = web.post("/diagnose", data={"csrf": token, "op": "accept", "accept": "HP:0001250|0", "stated_sex": "female"})
    assert r.status_code == 200 and '<option value="female" selected>' in r.text
    r = web.post("/diagnose", data={"csrf": token, "op": "accept", "accept": "HP:0001250|0", "sex": "male",
                                    "stated_sex": "female"})
    assert '<option value="male" selected>' in r.text  # what the user chose wins


def test_note_without_sex_adds_no_field(web: TestClient) -> None:
    token = login(web, "clinician")
    r = web.post("/text", data={"csrf": token, "text": "Seizures since infancy.", "lang": "en"})
    assert r.status_code == 200 and "stated_sex" not in r.text
