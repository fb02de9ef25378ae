"""Normalisation: what every message goes through before detection."""

from __future__ import annotations

import random
import string

import pytest

from bot.escalation.detection.normalize import iter_tokens, normalize, normalize_token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kiero MORIRRR!!! 😭", "quiero morir emojicry"),
        ("me kiero suisidar", "me quiero suisidar"),
        ("me quiero suicidar", "me quiero suisidar"),
        ("Ya no quiero VIVIR...", "ya no quiero bibir"),
        ("qiero morirme xq nadie", "quiero morirme porque nadie"),
        ("I'm gonna kms", "i am going to kms"),
        ("don’t", "do not"),
        ("k1ll myself", "quil myself"),
        ("hacerme daño", "aserme dano"),
        ("volví a cortarme 🔪🩸", "bolbi a cortarme emojiknife emojiblod"),
        ("", ""),
        ("¿¡...!? 😭😭", "emojicry emojicry"),
        ("¿¡...!? 🙂", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_matches_token_by_token_normalisation() -> None:
    """The fast whole-message path and the per-token path (used for spans) must agree."""
    rng = random.Random(7)
    alphabet = string.printable + "áéíóúñÁÉÍÓÚÑüÜ’'😭🔪🩸💊ßﬁ℃™½²Ａ\u0301\u00a0_"
    samples = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(3000)
    ]
    for text in samples:
        per_token = [normalize_token(m.group()) for m in iter_tokens(text)]
        assert normalize(text) == " ".join(p for p in per_token if p), repr(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # WhatsApp shorthand and phonetic spelling common in Peru
        ("xq nd me sale bn", "porque nada me sale bien"),
        ("tmb kiero irme pe", "tambien quiero irme pues"),
        ("ps q le voy a hacer", "pues que le boy a aser"),
        ("nse q hacer", "no se que aser"),
        ("toy cansada d todo", "estoy cansada de todo"),
        # repeated letters, case, accents, spacing and punctuation
        ("MORIRRRME!!!", "morirme"),
        ("quieroooo    morir...", "quiero morir"),
        ("Mañana,sí.", "manana si"),
        # emoji carry meaning; laughter is one word
        ("me voy 👋👋", "me boy emojiwabe emojiwabe"),
        ("jajajaja me muero 😂", "jaja me muero emojilaugh"),
        ("xD jsjsjs", "jaja jaja"),
        # English and Spanglish through the same function
        ("im so done rn, ya no puedo", "i am so done right now ya no puedo"),
        ("idk why i even exist", "i do not know why i eben exist"),
    ],
)
def test_shorthand_phonetics_emoji_and_mixing(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_a_word_with_an_accent_and_without_normalise_alike() -> None:
    assert normalize("Está pensando en quitarse la vida") == normalize(
        "esta pensando en kitarse la bida"
    )
