from __future__ import annotations

import pytest

from bot.flows.matching import command_of, is_keyword, match_choice, normalize, number_of
from bot.outbox.reply import Choice

FREQUENCY = (
    Choice("0", "Ningún día", "ans:x:0"),
    Choice("1", "Varios días", "ans:x:1"),
    Choice("2", "Más de la mitad de los días", "ans:x:2"),
    Choice("3", "Casi todos los días", "ans:x:3"),
)


def test_normalize_strips_case_accents_punctuation_and_emoji() -> None:
    assert normalize("  ¡Más  de la MITAD!! 😀 ") == "mas de la mitad"


@pytest.mark.parametrize(("text", "number"), [("3", "3"), (" 3. ", "3"), ("3)", "3"), ("03", "3")])
def test_number_of_accepts_common_forms(text: str, number: str) -> None:
    assert number_of(text) == number


@pytest.mark.parametrize("text", ["3 4", "tres", "", "3.5", "1234"])
def test_number_of_rejects_the_rest(text: str) -> None:
    assert number_of(text) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2", "2"),
        ("casi todos los dias", "3"),
        ("CASI TODOS LOS DÍAS", "3"),
        ("varios dis", "1"),
        ("mas de la mitad de los dias", "2"),
        ("ningun dia", "0"),
    ],
)
def test_match_choice_by_number_or_label(text: str, key: str) -> None:
    choice = match_choice(text, FREQUENCY)
    assert choice is not None and choice.key == key


@pytest.mark.parametrize("text", ["4", "-1", "", "😀", "a veces", "x" * 5000])
def test_match_choice_refuses_what_is_not_an_option(text: str) -> None:
    assert match_choice(text, FREQUENCY) is None


def test_aliases_answer_yes_no() -> None:
    choices = (Choice("1", "Sí", "q:yes"), Choice("0", "No", "q:no"))
    aliases = {"q:yes": ["si", "claro"], "q:no": ["no"]}
    found = match_choice("claro", choices, aliases)
    assert found is not None and found.payload == "q:yes"


def test_commands_and_keywords() -> None:
    assert command_of("/phq9@ScreeningBot") == "phq9"
    assert command_of("/START now") == "start"
    assert command_of("phq9") is None
    assert is_keyword("Menú", ["menu"])
    assert not is_keyword("menu please", ["menu"])
