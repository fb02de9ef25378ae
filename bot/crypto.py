"""Pseudonymisation of personal identifiers (phone numbers, chat ids).

``lookup_hash`` is a keyed HMAC used to find a participant without storing the identifier
in clear; ``encrypt``/``decrypt`` keep the identifier readable only where it must be read
back (to send a reply). Both keys derive from ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["Cipher", "InvalidToken", "new_pseudonym"]


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


class Cipher:
    """Hashing and encryption bound to one secret key."""

    def __init__(self, secret_key: str) -> None:
        self._hash_key = _derive(secret_key, b"screening-bot lookup hash v1")
        self._fernet = Fernet(
            base64.urlsafe_b64encode(_derive(secret_key, b"screening-bot enc v1"))
        )

    def lookup_hash(self, channel: str, external_id: str) -> str:
        message = f"{channel}:{external_id}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()


def new_pseudonym() -> str:
    """A short id to show staff instead of the number: random, so it says nothing about the
    identifier, and a person who erased their data and writes again gets another one."""
    return "P-" + secrets.token_hex(4).upper()


@lru_cache(maxsize=4)
def cipher_for(secret_key: str) -> Cipher:
    return Cipher(secret_key)
