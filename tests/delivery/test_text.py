"""Splitting long texts at line breaks, within a limit counted in UTF-16 units."""

from __future__ import annotations

import pytest

from bot.delivery.text import split_text, units


def _squash(text: str) -> str:
    return "".join(text.split())


def test_short_text_is_one_part() -> None:
    assert split_text("hola\nqué tal", 100) == ["hola\nqué tal"]


def test_lines_are_packed_and_never_cut_when_they_fit() -> None:
    lines = [f"line {n:02d} " + "x" * 20 for n in range(30)]
    text = "\n".join(lines)
    parts = split_text(text, 100)
    assert len(parts) > 1
    assert all(units(p) <= 100 for p in parts)
    for part in parts:
        assert all(line in lines for line in part.split("\n"))
    assert "\n".join(parts) == text


def test_a_long_line_is_cut_between_words_and_a_long_word_anywhere() -> None:
    text = "palabra " * 40 + "z" * 130
    parts = split_text(text, 50)
    assert all(0 < units(p) <= 50 for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert all(p.endswith("palabra") for p in parts[:-4])
    assert _squash("".join(parts)) == _squash(text)


def test_emoji_count_twice_and_are_never_cut_in_half() -> None:
    text = "😀" * 30
    parts = split_text(text, 11)
    assert all(units(p) <= 11 for p in parts)
    assert "".join(parts) == text
    assert units("😀") == 2


def test_blank_paragraphs_do_not_make_empty_parts() -> None:
    text = ("a" * 40 + "\n\n\n") * 10
    parts = split_text(text, 45)
    assert all(p.strip() for p in parts)
    assert _squash("".join(parts)) == _squash(text)


def test_limit_must_be_usable() -> None:
    with pytest.raises(ValueError):
        split_text("abc", 1)
