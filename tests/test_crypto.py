from __future__ import annotations

import pytest

from bot.crypto import Cipher, InvalidToken


def test_lookup_hash_is_stable_keyed_and_channel_scoped() -> None:
    a, b = Cipher("k" * 40), Cipher("j" * 40)
    assert a.lookup_hash("telegram", "42") == a.lookup_hash("telegram", "42")
    assert a.lookup_hash("telegram", "42") != a.lookup_hash("whatsapp", "42")
    assert a.lookup_hash("telegram", "42") != b.lookup_hash("telegram", "42")


def test_encryption_round_trips_and_needs_the_key() -> None:
    a, b = Cipher("k" * 40), Cipher("j" * 40)
    token = a.encrypt("whatsapp:+51987654321")
    assert "987654321" not in token
    assert a.decrypt(token) == "whatsapp:+51987654321"
    with pytest.raises(InvalidToken):
        b.decrypt(token)


def test_pseudonym_is_short_and_not_the_identifier() -> None:
    cipher = Cipher("k" * 40)
    pseudonym = cipher.pseudonym(cipher.lookup_hash("telegram", "123456789"))
    assert pseudonym.startswith("P-") and len(pseudonym) == 10
    assert "123456789" not in pseudonym
