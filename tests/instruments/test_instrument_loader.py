"""Loading config/instruments/: the real files load; broken files fail with file, field, reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.instruments.loader import (
    InstrumentError,
    load_instrument,
    load_instruments,
    validation_warnings,
)
from bot.instruments.schema import Instrument

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config" / "instruments"
IDS = {"phq9", "phq2", "gad7", "gad2", "asq", "cssrs"}

# Item LOINC codes in item order, from the reference (sections 1 and 2).
PHQ9_LOINC = [
    "44250-9",
    "44255-8",
    "44259-0",
    "44254-1",
    "44251-7",
    "44258-2",
    "44252-5",
    "44253-3",
    "44260-8",
]
GAD7_LOINC = ["69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8", "69736-7"]
FREQUENCY_LA = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]


@cache
def real() -> dict[str, Instrument]:
    return load_instruments(CONFIG_DIR)


# --- the real files ----------------------------------------------------------------------


def test_real_config_loads_every_instrument() -> None:
    assert set(real()) == IDS


@pytest.mark.parametrize("instrument_id", sorted(IDS))
def test_real_files_are_documented(instrument_id: str) -> None:
    inst = real()[instrument_id]
    assert inst.citation and inst.source and inst.licence
    assert inst.notes
    assert set(inst.translations) == {"es", "en"}


def test_item_loinc_codes_match_the_reference() -> None:
    assert [i.loinc for i in real()["phq9"].items] == PHQ9_LOINC
    assert [i.loinc for i in real()["gad7"].items] == GAD7_LOINC
    for instrument_id in ("phq9", "phq2", "gad7", "gad2"):
        inst = real()[instrument_id]
        for item in inst.items:
            options = inst.options_for(item)
            assert [o.loinc for o in options] == FREQUENCY_LA
            assert [(o.code, o.value) for o in options] == [(str(v), v) for v in range(4)]


@pytest.mark.parametrize(("gate", "full"), [("phq2", "phq9"), ("gad2", "gad7")])
def test_gate_items_carry_into_the_full_instrument(gate: str, full: str) -> None:
    gate_items = real()[gate].items
    full_items = real()[full].items[: len(gate_items)]
    assert [i.loinc for i in gate_items] == [i.loinc for i in full_items]
    assert [i.text for i in gate_items] == [i.text for i in full_items]


def test_asq_and_cssrs_items_are_not_summed() -> None:
    for instrument_id in ("asq", "cssrs"):
        inst = real()[instrument_id]
        assert inst.scoring.method == "categorical"
        assert not any(item.scored for item in inst.items)


@pytest.mark.parametrize("instrument_id", ["asq", "cssrs"])
def test_yes_no_items_are_numbered_1_si_2_no_3_decline(instrument_id: str) -> None:
    """Natural order everywhere, with a refusal offered (the ASQ acuity question included:
    NIMH treats a refusal there as acute)."""
    inst = real()[instrument_id]
    for item in inst.items:
        codes = {o.code: o for o in inst.options_for(item)}
        assert set(codes) == {"yes", "no", "decline"}
        assert codes["decline"].value is None
        assert [codes[c].typed_key for c in ("yes", "no", "decline")] == ["1", "2", "3"]


def test_cssrs_keeps_its_copyright_notice() -> None:
    licence = real()["cssrs"].licence
    assert "© 2008 The Research Foundation for Mental Hygiene" in licence
    assert "do not alter the wording" in licence
    assert "© 2008" in (CONFIG_DIR / "cssrs.yaml").read_text(encoding="utf-8").split("id:")[0]


def test_validation_warnings_one_line_per_unvalidated_translation() -> None:
    lines = validation_warnings(real())
    expected = sorted((i.id, lang) for i in real().values() for lang in i.unvalidated_languages)
    assert len(lines) == len(expected) > 0
    for line, (instrument_id, lang) in zip(lines, expected, strict=True):
        source = real()[instrument_id].translations[lang].source
        assert line == (
            f"{instrument_id}.yaml: {lang} translation is not the validated published text "
            f"({source})"
        )
    # The reference found no official Spanish for these; they must not claim validation.
    assert {"phq9", "cssrs"} <= {i for i, lang in expected if lang == "es"}


# --- broken files ----------------------------------------------------------------------


def base(instrument_id: str = "phq9") -> dict[str, Any]:
    text = (CONFIG_DIR / f"{instrument_id}.yaml").read_text(encoding="utf-8")
    return copy.deepcopy(yaml.safe_load(text))


def write(directory: Path, data: Any, name: str = "phq9.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def error_for(path: Path) -> InstrumentError:
    with pytest.raises(InstrumentError) as info:
        load_instruments(path.parent)
    return info.value


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


BROKEN: list[tuple[str, str, Mutation, str, str]] = [
    # (case, instrument, mutation, field in the message, reason in the message)
    ("unknown top-level key", "phq9", _set(["colour"], "red"), "colour", "Extra inputs"),
    ("unknown item key", "phq9", _set(["items", 2, "hint"], "x"), "items.phq9_3.hint", "Extra"),
    (
        "unknown option key",
        "phq9",
        _set(["option_sets", "frequency", 0, "x"], 1),
        "option_sets.frequency[0].x",
        "Extra inputs",
    ),
    ("band gap", "phq9", _set(["bands", 1, "min"], 6), "bands", "gap, no band covers 5..5"),
    ("band overlap", "phq9", _set(["bands", 1, "min"], 4), "bands.mild", "overlaps"),
    (
        "band ends early",
        "phq9",
        _set(["bands", 4, "max"], 26),
        "bands",
        "the last band ends at 26, not at 27",
    ),
    (
        "band ends late",
        "phq9",
        _set(["bands", 4, "max"], 28),
        "bands",
        "the last band ends at 28, not at 27",
    ),
    (
        "band starts late",
        "phq9",
        _set(["bands", 0, "min"], 1),
        "bands",
        "the first band starts at 1, not at 0",
    ),
    (
        "band starts early",
        "phq9",
        _set(["bands", 0, "min"], -1),
        "bands",
        "the first band starts at -1, not at 0",
    ),
    (
        "rule on a missing item",
        "phq9",
        _set(["risk_rules", 0, "when"], {"item": "phq9_10", "gte": 1}),
        "risk_rules.phq9_item9.when",
        "unknown item(s) ['phq9_10']",
    ),
    (
        "ask_if on a later item",
        "phq9",
        _set(["items", 0, "ask_if"], {"item": "phq9_2", "in": ["1"]}),
        "items.phq9_1.ask_if",
        "not asked before it",
    ),
    (
        "ask_if on a total",
        "phq9",
        _set(["items", 1, "ask_if"], {"total_gte": 1}),
        "items.phq9_2.ask_if",
        "TotalAtLeast",
    ),
    (
        "bad option code in a rule",
        "phq9",
        _set(["risk_rules", 0, "when"], {"item": "phq9_9", "in": ["often"]}),
        "risk_rules.phq9_item9.when",
        "no option code(s) ['often']",
    ),
    (
        "option code breaks the pattern",
        "phq9",
        _set(["option_sets", "frequency", 0, "code"], "Zero!"),
        "option_sets.frequency[0].code",
        "should match pattern",
    ),
    (
        "unreachable gte",
        "phq9",
        _set(["risk_rules", 0, "when"], {"item": "phq9_9", "gte": 4}),
        "risk_rules.phq9_item9.when",
        "never hold",
    ),
    (
        "total above the maximum",
        "gad7",
        _set(["risk_rules", 0, "when"], {"total_gte": 22}),
        "risk_rules.gad7_severe.when",
        "above the maximum total 21",
    ),
    (
        "summed item without a value",
        "phq9",
        lambda d: d["option_sets"]["frequency"][0].update(value=None, key="0"),
        "items.phq9_1",
        "needs a value on every option",
    ),
    (
        "option without a value or a key",
        "phq9",
        _set(["option_sets", "frequency", 0, "value"], None),
        "option_sets.frequency",
        "no value and no key",
    ),
    (
        "missing language",
        "phq9",
        _set(["items", 0, "text"], {"es": "Poco interés"}),
        "items.phq9_1.text.en",
        "Field required",
    ),
    (
        "missing translation",
        "phq9",
        _set(["translations"], {"es": {"validated": False, "source": "x"}}),
        "translations",
        "missing language(s) ['en']",
    ),
    (
        "item on an unknown option set",
        "phq9",
        _set(["items", 3, "options"], "frequent"),
        "items.phq9_4.options",
        "no option set 'frequent'",
    ),
    (
        "result on a missing item",
        "asq",
        _set(["results", 0, "when"], {"item": "asq_9", "in": ["yes"]}),
        "results.acute_positive.when",
        "unknown item(s) ['asq_9']",
    ),
    (
        "rule on a missing result",
        "cssrs",
        _set(["risk_rules", 0, "when"], {"result_in": ["severe"]}),
        "risk_rules.cssrs_high.when",
        "no result(s) ['severe']",
    ),
    (
        "default result not last",
        "cssrs",
        lambda d: d["results"].reverse(),
        "results",
        "exactly one result, the last",
    ),
    (
        "malformed condition",
        "phq9",
        _set(["risk_rules", 0, "when"], {"item": "phq9_9", "gt": 1}),
        "risk_rules.phq9_item9.when",
        "not a valid condition (got ['gt', 'item'])",
    ),
    (
        "malformed nested condition",
        "phq9",
        _set(["risk_rules", 0, "when"], {"any": [{"item": "phq9_9", "gte": 1}, {"item": "x"}]}),
        "risk_rules.phq9_item9.when.any[1]",
        "not a valid condition (got ['item'])",
    ),
    (
        "bad priority",
        "cssrs",
        _set(["risk_rules", 0, "priority"], "urgent"),
        "risk_rules.cssrs_high.priority",
        "Input should be",
    ),
]


@pytest.mark.parametrize(
    ("instrument_id", "mutate", "field", "reason"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_file_names_file_field_and_reason(
    tmp_path: Path, instrument_id: str, mutate: Mutation, field: str, reason: str
) -> None:
    data = base(instrument_id)
    mutate(data)
    error = error_for(write(tmp_path, data, f"{instrument_id}.yaml"))
    assert error.file == f"{instrument_id}.yaml"
    assert error.field == field
    assert reason in error.reason
    assert str(error).startswith(f"{instrument_id}.yaml: field {field!r}: ")


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, base("phq9"), "phq8.yaml"))
    assert (error.file, error.field) == ("phq8.yaml", "id")
    assert "does not match the file name" in error.reason


def test_duplicate_yaml_key_is_rejected(tmp_path: Path) -> None:
    text = (CONFIG_DIR / "gad2.yaml").read_text(encoding="utf-8") + "\nversion: '9'\n"
    (tmp_path / "gad2.yaml").write_text(text, encoding="utf-8")
    error = error_for(tmp_path / "gad2.yaml")
    assert (error.file, error.field) == ("gad2.yaml", "<yaml>")
    assert "duplicate key 'version'" in error.reason


def test_invalid_yaml_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "gad2.yaml").write_text("id: gad2\nname: [unclosed\n", encoding="utf-8")
    error = error_for(tmp_path / "gad2.yaml")
    assert (error.file, error.field) == ("gad2.yaml", "<yaml>")


def test_a_file_that_is_not_a_mapping_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "gad2.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    error = error_for(tmp_path / "gad2.yaml")
    assert (error.file, error.field) == ("gad2.yaml", "<file>")


def test_gate_and_full_instrument_must_agree_on_shared_items(tmp_path: Path) -> None:
    write(tmp_path, base("phq9"), "phq9.yaml")
    gate = base("phq2")
    for option in gate["option_sets"]["frequency"]:
        option["code"] = f"f{option['code']}"
    write(tmp_path, gate, "phq2.yaml")
    error = error_for(tmp_path / "phq2.yaml")
    assert error.file in {"phq2.yaml", "phq9.yaml"}
    assert error.field.startswith("items.phq")
    assert "shares LOINC 44250-9" in error.reason


def test_empty_or_missing_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match=r"no \*\.yaml"):
        load_instruments(tmp_path)
    with pytest.raises(InstrumentError, match="not a directory"):
        load_instruments(tmp_path / "absent")


def test_load_instrument_reads_one_file(tmp_path: Path) -> None:
    inst = load_instrument(write(tmp_path, base("gad2"), "gad2.yaml"))
    assert inst.id == "gad2"
