"""Free-text crisis detection against the real lexicon in config/crisis/."""

from __future__ import annotations

import dataclasses
import random
import re
import statistics
import time
from pathlib import Path

import pytest
import yaml

from bot.escalation.detection.lexicon import Lexicon, load_lexicon
from bot.escalation.detection.lexicon_match import MAX_SCAN_CHARS, Detection, detect
from bot.instruments.schema import Priority

CONFIG = Path(__file__).resolve().parents[3] / "config" / "crisis"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(CONFIG)


def found(text: str, lexicon: Lexicon) -> Detection:
    detection = detect(text, lexicon)
    assert detection is not None, f"no signal found in {text!r}"
    return detection


# ------------------------------------------------------------------ signals and non-signals


@pytest.mark.parametrize(
    "text",
    [
        "quiero morir",
        "kiero morir",
        "me kiero matar",
        "estoy pensando en suisidarme",
        "matarme es lo único en lo que pienso",
        "QUIERO MORIRRRR",
        "quiero morir 😭",
        "ya no quiero vivir",
        "no quiero seguir viviendo",
        "no le veo sentido a vivir",
        "mi familia estaría mejor sin mí",
        "quisiera dormir y no despertar",
        "ya no quiero estar aquí",
        "quiero desaparecer para siempre",
        "no, quiero morir",
        "ya no aguanto quiero morir",
        "me corto",
        "me estoy cortando",
        "quiero hacerme daño",
        "volví a cortarme 🔪🩸",
        "kms",
        "i want to unalive myself",
        "lol I want to die",
        "I don't want to live anymore",
        "i'm thinking of self-deleting",
        "cutting myself again",
        "I want to hurt myself",
    ],
)
def test_signals(text: str, lexicon: Lexicon) -> None:
    found(text, lexicon)


@pytest.mark.parametrize(
    "text",
    [
        # negation
        "no quiero morir",
        "nunca pensaría en suicidarme",
        "no, jamás intenté suicidarme",
        "no tengo pensamientos suicidas",
        "no me voy a matar, tranquila",
        "no quiero hacerme daño",
        "I don't want to die",
        "I would never kill myself",
        "I'm not going to hurt myself, I promise",
        # idioms
        "me muero de risa",
        "me muero de hambre",
        "este calor me mata",
        "me mata la curiosidad",
        "me quiero morir de la vergüenza",
        "me quiero morir del roche jajaja",
        "me voy a matar estudiando",
        "me corto el pelo mañana",
        "se me cortó la llamada",
        "mi enamorada me cortó",
        "this homework is killing me",
        "I'm dying to see it",
        "you're killing it",
        "I want to die of embarrassment",
        "I'm killing myself laughing",
        "corrí 5 kms hoy",
        # everyday talk and questionnaire answers
        "3",
        "casi todos los días",
        "sí",
        "hola causa",
        "mi abuelo murió el año pasado",
        "vi una película sobre un suicidio",
        "no quiero vivir con mis papás",
        "tengo las pastillas para la presión",
        # emoji alone are not enough
        "😭😭😭",
        "🔪🩸",
        "💀💀 lol",
    ],
)
def test_non_signals(text: str, lexicon: Lexicon) -> None:
    assert detect(text, lexicon) is None


def test_empty_and_blank_messages(lexicon: Lexicon) -> None:
    assert detect("", lexicon) is None
    assert detect("   \n\t ", lexicon) is None


# ------------------------------------------------------------------ categories and priorities


@pytest.mark.parametrize(
    ("text", "category", "priority"),
    [
        ("me voy a matar hoy", "suicidal_intent", Priority.IMMINENT),
        ("ya tengo las pastillas", "suicidal_intent", Priority.IMMINENT),
        ("voy a saltar del puente", "suicidal_intent", Priority.IMMINENT),
        ("I'm going to kill myself tonight", "suicidal_intent", Priority.IMMINENT),
        ("cuál es la dosis letal de paracetamol", "method_seeking", Priority.IMMINENT),
        ("quiero morir", "suicidal_ideation", Priority.HIGH),
        ("pienso en suicidarme", "suicidal_ideation", Priority.HIGH),
        ("i wish i was dead", "suicidal_ideation", Priority.HIGH),
        ("intenté matarme el año pasado", "past_attempt", Priority.HIGH),
        ("me corto los brazos", "self_harm", Priority.HIGH),
        ("I've been cutting myself", "self_harm", Priority.HIGH),
        ("mi amigo quiere suicidarse", "third_party", Priority.MODERATE),
        ("my sister is cutting herself", "third_party", Priority.MODERATE),
    ],
)
def test_category_and_priority(
    text: str, category: str, priority: Priority, lexicon: Lexicon
) -> None:
    detection = found(text, lexicon)
    assert (detection.category, detection.priority) == (category, priority)
    assert detection.priority in {"imminent", "high", "moderate", "routine"}


def test_most_urgent_signal_wins(lexicon: Lexicon) -> None:
    detection = found("quiero morir, ya tengo las pastillas", lexicon)
    assert detection.priority is Priority.IMMINENT
    assert detection.matched == "ya tengo las pastillas"


def test_first_person_beats_third_party(lexicon: Lexicon) -> None:
    detection = found("mi amigo quiere suicidarse y yo también quiero morir", lexicon)
    assert detection.category == "suicidal_ideation"


def test_both_languages_checked_whatever_the_language(lexicon: Lexicon) -> None:
    assert found("hola, todo bien... i want to die", lexicon).language == "en"
    assert found("hi there, me quiero matar", lexicon).language == "es"


# ------------------------------------------------------------------ what was matched


def test_matched_span_is_the_original_text(lexicon: Lexicon) -> None:
    text = "Hola doc... la verdad QUIERO MORIRRR 😭 ya"
    detection = found(text, lexicon)
    assert detection.matched == "QUIERO MORIRRR"
    assert text[detection.span[0] : detection.span[1]] == detection.matched
    assert detection.pattern_id == "es.ideation.die"


def test_matched_span_with_expanded_shorthand(lexicon: Lexicon) -> None:
    text = "honestly I'm gonna kms tonight"
    detection = found(text, lexicon)
    assert detection.matched == "I'm gonna kms"  # "i am going to kms": whole original tokens
    assert detection.pattern_id == "en.intent.kill_self"


def test_detection_is_frozen(lexicon: Lexicon) -> None:
    detection = found("quiero morir", lexicon)
    with pytest.raises(dataclasses.FrozenInstanceError):
        detection.category = "x"  # type: ignore[misc]


# ------------------------------------------------------------------ long messages and speed


def test_10kb_message(lexicon: Lexicon) -> None:
    filler = "hoy fue un día largo en la chamba y no sé qué más contarte causa. " * 160
    assert len(filler) > 10_000
    assert detect(filler, lexicon) is None
    signal = filler[:2000] + " me quiero matar " + filler[2000:]
    assert found(signal, lexicon).matched == "me quiero matar"


def test_text_beyond_the_scan_cap_is_ignored(lexicon: Lexicon) -> None:
    text = "a " * MAX_SCAN_CHARS + "quiero morir"
    assert detect(text, lexicon) is None


@pytest.mark.parametrize(
    "text",
    ["no quiero morir, " * 700, "quiero " * 1500, "a" * 10_000, "how many " * 1200, "😭" * 5000],
)
def test_pathological_messages_stay_fast(text: str, lexicon: Lexicon) -> None:
    started = time.thread_time()
    detect(text, lexicon)
    assert time.thread_time() - started < 0.25


def test_typical_message_is_fast(lexicon: Lexicon) -> None:
    rng = random.Random(3)
    sentence = (
        "hola causa como estás hoy tengo chamba temprano y no sé qué hacer la verdad me siento "
        "cansado pero bien gracias my friend said the homework is killing me lol quiero vivir"
    )
    words = sentence.split(" ")
    messages = [" ".join(rng.choice(words) for _ in range(60))[:300] for _ in range(300)]
    timings = []
    for message in messages:
        started = time.thread_time_ns()
        detect(message, lexicon)
        timings.append(time.thread_time_ns() - started)
    assert statistics.median(timings) < 1_000_000  # ns; measured ~60 µs on the dev box


def test_detect_does_no_compilation_or_io(
    lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("called on the hot path")

    monkeypatch.setattr(re, "compile", forbidden)
    monkeypatch.setattr(yaml, "safe_load", forbidden)
    monkeypatch.setattr(Path, "read_text", forbidden)
    assert found("ya no kiero vivir, me voy a matar hoy 😭", lexicon).priority is Priority.IMMINENT
