"""The login form's CSRF token, bound to its browser by an HMAC.

Before sign-in there is no session to keep a token with. The login page sets a random
*nonce* in an HttpOnly, SameSite=Strict cookie and puts ``<random>.<HMAC(key, nonce,
random)>`` in the form; a POST is accepted only when the token's HMAC matches the cookie's
nonce. The key derives from ``SECRET_KEY``, so nobody without it can make a matching pair
(a plain double-submit pair, cookie = token, could be made up by whoever can set a cookie),
and a token copied from another browser does not match this browser's nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_LENGTH = 256


class LoginCsrf:
    def __init__(self, secret_key: str) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"dashboard login csrf v1"
        ).derive(secret_key.encode())

    def _mac(self, nonce: str, salt: str) -> str:
        digest = hmac.new(self._key, f"{nonce}!{salt}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def token(self, nonce: str) -> str:
        """A form token for the browser holding ``nonce`` in its cookie."""
        salt = secrets.token_urlsafe(16)
        return f"{salt}.{self._mac(nonce, salt)}"

    def verify(self, nonce: str, token: str | None) -> bool:
        if not nonce or not token or len(nonce) > MAX_LENGTH or len(token) > MAX_LENGTH:
            return False
        salt, dot, mac = token.partition(".")
        if not dot or not salt:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(nonce, salt).encode())
