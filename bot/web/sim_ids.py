"""Simulator conversation ids, issued by the server and unguessable.

An id is 32 random hex digits followed by 32 hex digits of an HMAC (keyed by ``SECRET_KEY``)
over them and the account it was issued to, so a made-up id, or another account's id, is
recognised as such without storing anything (and in any process that shares the key).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_ID = re.compile(r"[0-9a-f]{64}")


class ConversationIds:
    def __init__(self, secret_key: str) -> None:
        self._key = hashlib.sha256(b"simulator-conversation:" + secret_key.encode()).digest()

    def _mac(self, nonce: str, owner: str) -> str:
        message = f"{nonce}:{owner}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, owner: str) -> str:
        nonce = secrets.token_hex(16)
        return nonce + self._mac(nonce, owner)

    def valid(self, conversation: str, owner: str) -> bool:
        if not _ID.fullmatch(conversation):
            return False
        nonce, mac = conversation[:32], conversation[32:]
        return hmac.compare_digest(mac, self._mac(nonce, owner))
