"""The crisis lexicon schema, phrase syntax and loading."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.escalation.detection.lexicon import load_lexicon
from bot.escalation.detection.lexicon_file import LexiconError
from bot.escalation.detection.lexicon_match import detect
from bot.escalation.detection.lexicon_phrases import expand_phrase
from bot.instruments.schema import Priority

CONFIG = Path(__file__).resolve().parents[3] / "config" / "crisis"

MINIMAL: dict[str, Any] = {
    "version": 1,
    "language": "es",
    "status": "test",
    "categories": {"suicidal_ideation": {"priority": "high", "description": "d"}},
    "negation": {"cues": ["no"], "fillers": ["me"]},
    "patterns": [
        {
            "id": "es.test",
            "category": "suicidal_ideation",
            "phrases": ["{me |}quiero ... morir{me|}"],
        }
    ],
    # An idiom suppresses a match only when it contains the whole match.
    "idioms": [{"id": "es.test.idiom", "phrases": ["{me |}quiero morir de risa"]}],
}


def write(directory: Path, data: dict[str, Any], name: str = "es.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def variant(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("__")
        for key in path:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    return data


def test_real_config_loads() -> None:
    lexicon = load_lexicon(CONFIG)
    assert {language.language for language in lexicon.languages} == {"es", "en"}
    for language in lexicon.languages:
        assert language.patterns
        ranks = [pattern.rank for pattern in language.patterns]
        assert ranks == sorted(ranks, reverse=True), "patterns must be most urgent first"
        for pattern in language.patterns:
            assert isinstance(pattern.priority, Priority)
            assert pattern.id.startswith(f"{language.language}.")


def test_minimal_lexicon_works(tmp_path: Path) -> None:
    lexicon = load_lexicon(write(tmp_path, MINIMAL))
    detection = detect("Me kiero tanto morir", lexicon)
    assert detection is not None
    assert (detection.pattern_id, detection.priority) == ("es.test", Priority.HIGH)
    assert detection.matched == "Me kiero tanto morir"
    assert detect("no quiero morir", lexicon) is None
    assert detect("quiero morir de risa", lexicon) is None
    assert detect("quiero morir de pena", lexicon) is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (variant(surprise=1), "Extra inputs are not permitted"),
        (variant(patterns__0__surprise=1), "Extra inputs are not permitted"),
        (variant(negation__surprise=1), "Extra inputs are not permitted"),
        (variant(categories__suicidal_ideation__priority="urgent"), "priority"),
        (variant(patterns__0__priority="critical"), "priority"),
        (variant(patterns__0__category="unknown"), "unknown category"),
        (variant(patterns__0__id="en.test"), "must start with 'es.'"),
        (variant(idioms__0__id="es.test"), "duplicate ids"),
        (variant(patterns__0__phrases=["quiero {morir"]), "unbalanced braces"),
        (variant(patterns__0__phrases=["quiero {@nothing}"]), "unknown group"),
        (variant(patterns__0__phrases=["... morir"]), "gap"),
        (variant(patterns__0__phrases=[], patterns__0__regexes=[]), "at least one phrase"),
        (variant(patterns__0__regexes=["kill myself"]), "not in normalised form"),
        (variant(patterns__0__regexes=["quiero (morir"]), "does not compile"),
        (variant(version=2), "version"),
        (variant(negation__cues=[False]), "cues"),  # an unquoted YAML `no`
    ],
)
def test_schema_rejects(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        load_lexicon(write(tmp_path, data))


def test_language_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="does not match the file name"):
        load_lexicon(write(tmp_path, MINIMAL, name="en.yaml"))


def test_categories_must_agree_across_files(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL)
    english = variant(language="en", patterns__0__id="en.test", idioms__0__id="en.test.idiom")
    english["categories"]["suicidal_ideation"]["priority"] = "moderate"
    write(tmp_path, english, name="en.yaml")
    with pytest.raises(LexiconError, match="different priorities"):
        load_lexicon(tmp_path)


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="no crisis lexicon files"):
        load_lexicon(tmp_path)


def test_broken_yaml(tmp_path: Path) -> None:
    (tmp_path / "es.yaml").write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"es\.yaml"):
        load_lexicon(tmp_path)


def test_expand_phrase() -> None:
    groups = {"verb": ["matar{me|}", "morir"]}
    assert sorted(expand_phrase("{me |}quiero {@verb}", groups)) == sorted(
        [
            "me quiero matarme",
            "me quiero matar",
            "me quiero morir",
            "quiero matarme",
            "quiero matar",
            "quiero morir",
        ]
    )


def test_stems_and_gaps(tmp_path: Path) -> None:
    data = variant(patterns__0__phrases=["pienso ...2 suicid*"])
    lexicon = load_lexicon(write(tmp_path, data))
    assert detect("pienso mucho en suicidarme", lexicon) is not None
    assert detect("pienso mucho mucho en suicidarme", lexicon) is None  # gap of 3 > 2
