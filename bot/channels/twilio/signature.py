"""Twilio's webhooks (WhatsApp messages, status callbacks): the ``X-Twilio-Signature`` check
over the public URL and every form field received."""

from __future__ import annotations

import hmac

from fastapi import Request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from bot.channels.twilio.form import FormParams
from bot.channels.webhook import header

SIGNATURE_HEADER = b"x-twilio-signature"
SETTINGS_HEADER = b"x-twilio-webhooks-signature-settings"


def signed_url(public_base_url: str, path: str, query_string: str) -> str:
    """The URL Twilio called, as it signed it: the configured public base URL (never the Host
    header, which is wrong behind a proxy), the path, and the raw query string."""
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url


def signature_valid(
    auth_token: str,
    url: str,
    params: FormParams,
    signature: str | None,
    settings_header: str | None = None,
    *,
    fragment: str | None = None,
) -> bool:
    """Twilio's own check of ``X-Twilio-Signature`` over ``url`` and every form field.

    The signature over ``url`` as given is computed first (one HMAC); only when it differs
    does ``RequestValidator.validate`` try the URL with and without its port, as Twilio's
    signing is inconsistent about the port. ``fragment``: the connection overrides the
    configured webhook URL ends with (``#rc=3&rp=5xx``); whether Twilio signs them is not
    documented, so the URL with them is accepted too."""
    if not signature:
        return False
    if _signed_over(auth_token, url, params, signature, settings_header):
        return True
    return bool(fragment) and _signed_over(
        auth_token, f"{url}#{fragment}", params, signature, settings_header
    )


def _signed_over(
    auth_token: str, url: str, params: FormParams, signature: str, settings_header: str | None
) -> bool:
    algorithm = get_signature_algorithm(settings_header)
    validator = RequestValidator(auth_token)  # twilio is untyped: bool() for its answers
    try:
        expected = validator.compute_signature(url, params, algorithm)
    except ValueError:  # an algorithm this twilio version does not know: validate() says no
        return bool(validator.validate(url, params, signature, algorithm))
    if hmac.compare_digest(expected.encode(), signature.encode("latin-1", "replace")):
        return True
    return bool(validator.validate(url, params, signature, algorithm))


def twilio_signed(
    request: Request, path: str, params: FormParams, *, fragment: str | None = None
) -> bool:
    """Whether ``X-Twilio-Signature`` signs this request to ``PUBLIC_BASE_URL`` + ``path``
    (+ the query string) with ``TWILIO_AUTH_TOKEN`` (which the caller checked is set)."""
    settings = request.app.state.runtime.settings
    assert settings.twilio_auth_token is not None
    url = signed_url(
        settings.public_base_url, path, request.scope["query_string"].decode("latin-1")
    )
    return signature_valid(
        settings.twilio_auth_token.get_secret_value(),
        url,
        params,
        header(request, SIGNATURE_HEADER),
        header(request, SETTINGS_HEADER),
        fragment=fragment,
    )
