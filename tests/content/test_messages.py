"""Message catalogues: both languages complete and consistent; YAML 1.2 booleans."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import ContentError, load_content
from bot.content.yamlio import load_yaml

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


def test_the_real_config_loads() -> None:
    content = load_content(CONFIG)
    assert set(content.catalogs) == {"es", "en"}
    assert {"phq9", "phq2", "gad7", "gad2", "asq", "cssrs"} <= set(content.instruments)


def test_yes_and_no_stay_words(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("words: [yes, no, on, off, sí]\nflag: true\n", encoding="utf-8")
    assert load_yaml(path) == {"words": ["yes", "no", "on", "off", "sí"], "flag": True}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_missing_text_key_names_the_file(config_copy: Path) -> None:
    _edit(config_copy / "messages" / "en.yaml", "  too_long:", "  too_lng:")
    with pytest.raises(ContentError, match=r"en\.yaml: text: missing key\(s\) \['too_long'\]"):
        load_content(config_copy)


def test_placeholders_must_match_across_languages(config_copy: Path) -> None:
    _edit(config_copy / "messages" / "en.yaml", "{name} result: {total}/{max}.", "{name}: {total}")
    with pytest.raises(ContentError, match=r"en\.yaml: text\.result_total: placeholders"):
        load_content(config_copy)


def test_an_unknown_key_is_rejected(config_copy: Path) -> None:
    _edit(config_copy / "messages" / "es.yaml", "language: es\n", "language: es\ncolour: red\n")
    with pytest.raises(ContentError, match="colour"):
        load_content(config_copy)


def test_flows_must_name_existing_instruments(config_copy: Path) -> None:
    _edit(config_copy / "flows.yaml", "depression_check: phq9", "depression_check: phq8")
    with pytest.raises(ContentError, match=r"flows\.yaml: .*phq8"):
        load_content(config_copy)


def test_crisis_line_numbers_are_validated(config_copy: Path) -> None:
    _edit(config_copy / "resources.yaml", 'number: "113"', 'number: "call us"')
    with pytest.raises(ContentError, match=r"resources\.yaml: crisis_lines\.0\.number"):
        load_content(config_copy)
