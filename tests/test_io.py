"""Reading phenopackets and term lists; writing JSON, TSV and tables."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from conftest import BAD, PHENOPACKETS
from rich.console import Console

from raredx.engine import Case
from raredx.errors import InputError
from raredx.io import Problem, case_from_phenopacket, diagnosis_ids, iter_phenopackets
from raredx.io.output import TSV_COLUMNS, render_table, to_json, to_tsv
from raredx.io.terms import read_term_tsv, split_terms

VALID = sorted(p.relative_to(PHENOPACKETS).as_posix() for p in PHENOPACKETS.rglob("*.json"))


def load(name: str) -> dict:
    return json.loads((PHENOPACKETS / name).read_text())


# -- iter_phenopackets ------------------------------------------------------------------------------
def test_toy_phenopackets_are_as_expected():
    assert VALID == [
        "marfan_case.json",
        "nested/deafness_case.json",
        "nested/epilepsy/focal_epilepsy_case.json",
        "not_in_kb_case.json",
        "orpha_marfan_case.json",
        "toy_tall_pmid_case.json",
    ]


def test_single_file():
    path = PHENOPACKETS / "marfan_case.json"
    recs = list(iter_phenopackets(path))
    assert len(recs) == 1
    assert recs[0].source == str(path)
    assert recs[0].document["id"] == "toy-marfan-1"


def test_directory_is_searched_recursively_in_order():
    problems: list[Problem] = []
    recs = list(iter_phenopackets(PHENOPACKETS, problems))
    assert problems == []
    assert [r.source for r in recs] == [str(PHENOPACKETS / v) for v in VALID]
    assert {r.document["id"] for r in recs} >= {"toy-focal-epilepsy-5", "toy-deafness-6"}


def test_zip_archive(tmp_path):
    zpath = tmp_path / "cases.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for v in VALID:
            zf.write(PHENOPACKETS / v, f"store/{v}")
        zf.writestr("store/README.txt", "not a phenopacket")
        zf.writestr("__MACOSX/store/._marfan_case.json", b"\x00\x05\x16\x07 resource fork")
        zf.writestr("store/empty-dir/", "")
    recs = list(iter_phenopackets(zpath))
    assert [r.source for r in recs] == [f"{zpath}!store/{v}" for v in VALID]
    assert recs[0].document == load(VALID[0])


def test_zip_with_a_malformed_member(tmp_path):
    zpath = tmp_path / "cases.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(PHENOPACKETS / "marfan_case.json", "a/marfan_case.json")
        zf.write(BAD / "broken.json", "a/broken.json")
    problems: list[Problem] = []
    recs = list(iter_phenopackets(zpath, problems))
    assert [r.document["id"] for r in recs] == ["toy-marfan-1"]
    assert [p.source for p in problems] == [f"{zpath}!a/broken.json"]


def test_malformed_json_is_a_problem_naming_file_and_line():
    problems: list[Problem] = []
    recs = list(iter_phenopackets(BAD, problems))
    assert [r.document["id"] for r in recs] == ["toy-missing-type-id"]  # valid JSON, checked later
    (p,) = problems
    assert p.source == str(BAD / "broken.json")
    assert "malformed JSON" in p.message and "line 6" in p.message
    assert str(p).startswith(str(BAD / "broken.json") + ": ")


def test_malformed_json_raises_without_a_problems_list():
    with pytest.raises(InputError) as exc:
        list(iter_phenopackets(BAD / "broken.json"))
    msg = str(exc.value)
    assert "broken.json" in msg and "line 6" in msg and "column 5" in msg


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"{\"id\": \"\xc3\x28\"}", "UTF-8"),
        (b'["a", "list"]', "not an object"),
        (b"", "is empty"),
        (b" \n", "is empty"),
        (b"PK\x03\x04 not really a ZIP", "damaged or truncated ZIP archive"),
    ],
    ids=["binary", "array", "empty", "blank", "zip-signature"],
)
def test_other_unreadable_documents(tmp_path, content, expected):
    f = tmp_path / "case.json"
    f.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        list(iter_phenopackets(f))
    problems: list[Problem] = []
    if expected.startswith("damaged"):  # the archive as a whole: one error, whatever the policy
        with pytest.raises(InputError, match=expected):
            list(iter_phenopackets(f, problems))
        return
    assert list(iter_phenopackets(f, problems)) == []
    assert len(problems) == 1 and expected in problems[0].message


def test_directory_without_json_raises(tmp_path):
    (tmp_path / "notes.txt").write_text("no phenopackets here")
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match="no phenopacket JSON files"):
        list(iter_phenopackets(tmp_path))
    with pytest.raises(InputError, match="no phenopacket JSON files"):
        list(iter_phenopackets(tmp_path, []))


def test_nonexistent_path_raises(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(iter_phenopackets(tmp_path / "missing.json"))


# -- case_from_phenopacket --------------------------------------------------------------------------
def test_case_from_phenopacket_maps_every_field():
    case = case_from_phenopacket(load("nested/epilepsy/focal_epilepsy_case.json"), "focal.json")
    assert isinstance(case, Case)
    assert case.id == "toy-focal-epilepsy-5"
    assert case.observed == ("HP:0007359", "HP:0001249")
    assert case.excluded == ("HP:0000365",)
    assert case.sex == "male"
    assert case.onset == "P5M"  # the earliest onset of an observed feature
    assert case.age == "P2Y6M"
    assert case.source_pmids == (33333333,)  # the DOI reference is not a PMID


def test_disease_onset_term_and_female_sex():
    case = case_from_phenopacket(load("nested/deafness_case.json"))
    assert case.onset == "HP:0003577"  # diseases[].onset.ontologyClass
    assert case.sex == "female"
    assert case.excluded == ("HP:0001250", "HP:0004322")
    assert case.age == "P1Y"
    assert case.source_pmids == ()


def test_pmid_and_diagnosis_ids():
    doc = load("toy_tall_pmid_case.json")
    assert case_from_phenopacket(doc).source_pmids == (11111111,)
    assert diagnosis_ids(doc) == ["OMIM:100004"]
    assert diagnosis_ids(load("orpha_marfan_case.json")) == ["ORPHA:558"]
    assert diagnosis_ids({"interpretations": [{"diagnosis": {}}]}) == []
    assert diagnosis_ids({}) == []


def test_minimal_document():
    case = case_from_phenopacket(
        {"phenotypicFeatures": [{"type": {"id": "HP:0001166"}}], "subject": {"sex": "UNKNOWN_SEX"}}, "x.json"
    )
    assert case.observed == ("HP:0001166",) and case.excluded == ()
    assert case.sex is None and case.onset is None and case.age is None
    assert case.id == "x.json"  # no id: the source names the case


def test_gestational_age_onset_means_antenatal():
    doc = {"phenotypicFeatures": [{"type": {"id": "HP:0001166"}, "onset": {"gestationalAge": {"weeks": 20}}}]}
    assert case_from_phenopacket(doc).onset == "HP:0030674"


def test_missing_type_id_names_the_field():
    doc = json.loads((BAD / "missing_type_id.json").read_text())
    with pytest.raises(InputError) as exc:
        case_from_phenopacket(doc, "missing_type_id.json")
    assert "phenotypicFeatures[1].type.id" in str(exc.value)
    assert "missing_type_id.json" in str(exc.value)


@pytest.mark.parametrize(
    "features, field",
    [
        ([{"type": {"id": "HP:0001166"}, "excluded": "yes"}], "phenotypicFeatures[0].excluded"),
        ([{"type": {"id": "  "}}], "phenotypicFeatures[0].type.id"),
        ([{"type": "HP:0001166"}], "phenotypicFeatures[0].type.id"),
        ({"type": {"id": "HP:0001166"}}, "phenotypicFeatures must be a list"),
    ],
    ids=["excluded-not-bool", "blank-id", "type-not-object", "not-a-list"],
)
def test_malformed_features_name_the_field(features, field):
    with pytest.raises(InputError, match=field.replace("[", r"\[").replace("]", r"\]")):
        case_from_phenopacket({"phenotypicFeatures": features}, "p.json")


# -- term lists -------------------------------------------------------------------------------------
def test_read_term_tsv_without_header(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("HP:0001166\nHP:0001083\tobserved\nhp_0002616\tyes\nHP:0001250\texcluded\nHP:0000365\tno\n")
    assert read_term_tsv(f) == (["HP:0001166", "HP:0001083", "HP:0002616"], ["HP:0001250", "HP:0000365"])


def test_read_term_tsv_with_header_and_comments(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("# exported from the clinic\nhpo_id\tlabel\tstatus\n"
                 "HP:0001166\tArachnodactyly\tpresent\n\nHP:0001250\tSeizure\tabsent\n")
    assert read_term_tsv(f) == (["HP:0001166"], ["HP:0001250"])


def test_read_term_tsv_bad_status_names_the_line(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("hpo_id\tstatus\nHP:0001166\tobserved\nHP:0001083\tmaybe\n")
    with pytest.raises(InputError) as exc:
        read_term_tsv(f)
    msg = str(exc.value)
    assert "line 3" in msg and "'maybe'" in msg and "HP:0001083" in msg and str(f) in msg


def test_read_term_tsv_bad_id_names_the_line(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("HP:0001166\nArachnodactyly\n")
    with pytest.raises(InputError, match="line 2: 'Arachnodactyly' is not an HPO id"):
        read_term_tsv(f)


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "hpo_id\tstatus\n"],
                         ids=["empty", "blank", "comment", "header-only"])
def test_read_term_tsv_without_terms_raises(tmp_path, content):
    f = tmp_path / "terms.tsv"
    f.write_text(content)
    with pytest.raises(InputError, match="no HPO terms"):
        read_term_tsv(f)


def test_read_term_tsv_not_utf8(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_bytes(b"HP:0001166\t\xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_term_tsv(f)


def test_read_term_tsv_excluded_column_true_means_excluded(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("hpo_id\texcluded\nHP:0001166\tfalse\nHP:0001250\ttrue\n")
    assert read_term_tsv(f) == (["HP:0001166"], ["HP:0001250"])


def test_read_term_tsv_line_numbers_count_comment_lines(tmp_path):
    f = tmp_path / "terms.tsv"
    f.write_text("# my patient\nHP:0001166\nHP:0001083\tmaybe\n")
    with pytest.raises(InputError, match="line 3"):
        read_term_tsv(f)


def test_split_terms():
    assert split_terms(["HP:0001166,hp:0001083", " HP_0002616 ", ","], "arguments") == [
        "HP:0001166", "HP:0001083", "HP:0002616",
    ]
    with pytest.raises(InputError, match="--exclude: 'HP:123' is not an HPO id"):
        split_terms(["HP:123"], "--exclude")


# -- output -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_results(toy_engine):
    return [
        toy_engine.diagnose(Case(observed=("HP:0001166", "HP:0001083", "HP:0002616"), id="marfan"), top=3),
        toy_engine.diagnose(Case(observed=("HP:0000365",), excluded=("HP:0001250",), id="deaf"), top=2),
    ]


def test_to_json(two_results):
    single = json.loads(to_json(two_results[0]))
    assert single["case_id"] == "marfan" and len(single["diseases"]) == 3
    many = json.loads(to_json(two_results))
    assert [r["case_id"] for r in many] == ["marfan", "deaf"]


def test_to_tsv(two_results):
    rows = list(csv.reader(io.StringIO(to_tsv(two_results)), delimiter="\t"))
    assert tuple(rows[0]) == TSV_COLUMNS
    assert len(rows) == 1 + 3 + 2
    first = dict(zip(rows[0], rows[1]))
    assert first["case_id"] == "marfan" and first["rank"] == "1"
    assert first["ids"] == "OMIM:154700,ORPHA:558,MONDO:0007947" and first["name"] == "Marfan syndrome"
    assert first["genes"] == "FBN1"
    assert "HP:0001166:exact" in first["evidence"]
    deaf = dict(zip(rows[0], rows[4]))
    assert deaf["case_id"] == "deaf" and "-HP:0001250:" in deaf["evidence"]


def test_render_table(two_results):
    console = Console(record=True, width=200, force_terminal=False)
    render_table(two_results[0], console)
    text = console.export_text()
    assert "Differential diagnosis for marfan" in text
    assert "Marfan syndrome" in text and "OMIM:154700" in text and "FBN1" in text
    assert "16 disease concepts ranked" in text


def _understated(archive: bytes, member: str) -> bytes:
    """``archive`` whose central directory says ``member`` is 10 bytes long (it is longer)."""
    raw = bytearray(archive)
    at = raw.find(b"PK\x01\x02")  # the central directory's entries, one by one
    while at != -1:
        name_len = int.from_bytes(raw[at + 28: at + 30], "little")
        if raw[at + 46: at + 46 + name_len].decode() == member:
            raw[at + 24: at + 28] = (10).to_bytes(4, "little")
            return bytes(raw)
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(member)


@pytest.mark.parametrize("damage", ["crc", "understated-size"])
def test_a_damaged_zip_member_is_one_problem_and_the_others_are_read(tmp_path, damage):
    from test_cli_edges import corrupt_member

    buf = io.BytesIO()
    good = (PHENOPACKETS / "marfan_case.json").read_bytes()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a.json", "b.json", "c.json"):
            zf.writestr(name, good)
    z = tmp_path / "cases.zip"
    z.write_bytes(corrupt_member(buf.getvalue(), "b.json") if damage == "crc" else _understated(buf.getvalue(), "b.json"))
    problems: list[Problem] = []
    recs = list(iter_phenopackets(z, problems))
    assert [r.source.split("!")[1] for r in recs] == ["a.json", "c.json"]
    assert [(p.source.split("!")[1], "damaged" in p.message) for p in problems] == [("b.json", True)]
    with pytest.raises(InputError, match=r"cases\.zip!b\.json: is damaged in the archive"):
        list(iter_phenopackets(z))
