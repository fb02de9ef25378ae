from __future__ import annotations

import pytest

from bot.crypto import Cipher, InvalidToken, new_pseudonym


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


def test_pseudonym_is_short_random_and_not_derived_from_the_identifier() -> None:
    pseudonyms = {new_pseudonym() for _ in range(50)}
    assert len(pseudonyms) == 50  # random: a person who erased their data gets a new one
    assert all(p.startswith("P-") and len(p) == 10 for p in pseudonyms)
    cipher = Cipher("k" * 40)
    assert not hasattr(cipher, "pseudonym")  # nothing derives it from the identifier
