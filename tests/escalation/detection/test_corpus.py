"""The labelled corpus: size, balance, coverage, and splits that nobody can move by hand."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bot.escalation.detection.corpus import (
    LANGUAGES,
    REVIEWED,
    RISK_CATEGORIES,
    SAFE_CATEGORIES,
    CorpusError,
    Row,
    read_corpus,
    read_external,
    split_of,
)
from bot.escalation.detection.normalize import normalize

DATA = Path(__file__).resolve().parents[2] / "data" / "crisis"


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return read_corpus(DATA / "corpus.csv")


def test_large_and_about_half_risk(rows: list[Row]) -> None:
    assert len(rows) >= 3000
    assert 0.4 <= sum(row.is_risk for row in rows) / len(rows) <= 0.6


def test_every_kind_and_language_is_present_in_every_split(rows: list[Row]) -> None:
    for split in ("train", "dev", "test"):
        part = [row for row in rows if row.split == split]
        categories = Counter(row.category for row in part)
        # ``reviewed`` rows come from the dashboard's export, never from the committed file.
        for category in (*RISK_CATEGORIES, *(c for c in SAFE_CATEGORIES if c != REVIEWED)):
            assert categories[category] >= 3, (split, category)
        languages = Counter(row.language for row in part)
        for language in LANGUAGES:
            assert languages[language] >= 3, (split, language)


def test_splits_are_by_family_and_follow_the_fixed_rule(rows: list[Row]) -> None:
    families: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        families[row.family].add(row.split)
        assert row.split == split_of(row.family), row.id
    assert all(len(splits) == 1 for splits in families.values())
    assert {row.split for row in rows if row.family.startswith("legacy-")} == {"train"}
    assert {row.split for row in rows if row.source == "legacy"} == {"train"}


def test_a_family_has_one_label_and_one_category(rows: list[Row]) -> None:
    kinds: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for row in rows:
        kinds[row.family].add((row.label, row.category))
    mixed = {family: k for family, k in kinds.items() if len({label for label, _ in k}) > 1}
    assert not mixed


def test_no_text_sits_on_two_sides_of_a_split(rows: list[Row]) -> None:
    """Messages that normalise alike are one family, so test never repeats train."""
    splits: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        splits[normalize(row.text)].add(row.split)
    assert not [text for text, found in splits.items() if len(found) > 1]


def test_every_source_is_documented(rows: list[Row]) -> None:
    documented = (DATA / "sources.md").read_text(encoding="utf-8")
    for source in {row.source for row in rows}:
        assert f"`{source}`" in documented, source


def test_the_split_rule_is_stable() -> None:
    # A change to split_of would silently reshuffle the corpus: pin a few families.
    assert [split_of(f"w1-{n:04d}") for n in range(1, 13)] == [
        "test", "train", "dev", "train", "train", "train",
        "train", "train", "test", "test", "dev", "train",
    ]  # fmt: skip
    assert split_of("legacy-0001") == "train"


def test_malformed_rows_are_refused(tmp_path: Path) -> None:
    header = "id,family,split,text,label,category,language,style,clarity,source,note\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "m1,f1,train,hola,1,idiom,es,,,w1,\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="category 'idiom'"):
        read_corpus(bad)
    bad.write_text(header + "m1,f1,nowhere,hola,0,idiom,xx,,,w1,\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="language 'xx', split 'nowhere'"):
        read_corpus(bad)
    bad.write_text("text,label\nhola,0\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="missing columns"):
        read_corpus(bad)


def test_the_independent_set_reads(tmp_path: Path) -> None:
    rows = read_external(DATA / "external.csv")
    assert len(rows) >= 500
    assert {row.label for row in rows} == {0, 1}
    bad = tmp_path / "x.csv"
    bad.write_text("text,label\nhola,0\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="expected columns"):
        read_external(bad)
