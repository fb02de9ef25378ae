"""Forge ``X-Twilio-Signature`` headers with twilio's own ``RequestValidator``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]


class _MultiParams(dict[str, list[str]]):
    """What ``RequestValidator.get_values`` expects for repeated fields (``getall``)."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def _multi(params: Params | None) -> _MultiParams:
    multi = _MultiParams()
    if params is None:
        return multi
    items = params.items() if isinstance(params, Mapping) else params
    for name, value in items:
        values = [value] if isinstance(value, str) else list(value)
        multi.setdefault(name, []).extend(values)
    return multi


def sign_twilio_request(auth_token: str, url: str, params: Params | None = None) -> str:
    """The signature Twilio would send for a form POST of ``params`` to ``url``.

    ``url`` must be exactly what Twilio called (scheme, host, port, path, query). ``params``
    is a mapping (a sequence value means a repeated field) or ``(name, value)`` pairs.
    For a JSON body, pass ``url`` with its ``bodySHA256`` query parameter and no params.
    """
    return RequestValidator(auth_token).compute_signature(url, _multi(params))


def twilio_signature_headers(
    auth_token: str, url: str, params: Params | None = None
) -> dict[str, str]:
    """Headers for a signed form POST: ``{"X-Twilio-Signature": ..., "Content-Type": ...}``."""
    return {
        SIGNATURE_HEADER: sign_twilio_request(auth_token, url, params),
        "Content-Type": "application/x-www-form-urlencoded",
    }
