"""The form Twilio posts to its webhooks (``application/x-www-form-urlencoded``), every value
of a repeated field kept."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl


class FormParams(dict[str, list[str]]):
    """Form fields with every value of a repeated field (what ``RequestValidator`` reads)."""

    def getall(self, name: str) -> list[str]:
        return self[name]

    def first(self, name: str) -> str:
        values = self.get(name)
        return values[0] if values else ""

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> FormParams:
        params = cls()
        for name, value in pairs:
            params.setdefault(name, []).append(value)
        return params


def parse_form(body: bytes) -> FormParams:
    """Decode an urlencoded body; undecodable bytes become U+FFFD (the signature then fails)."""
    return FormParams.from_pairs(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
