"""Twilio WhatsApp form fields → Inbound, and the signature check."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from bot.channels.twilio.form import FormParams, parse_form
from bot.channels.twilio.signature import signature_valid, signed_url
from bot.channels.whatsapp.inbound import parse_message
from tests.fakes.twilio_signing import sign_twilio_request

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TOKEN = "12345"
SENDER = "whatsapp:+51987654321"
SID = "SM" + "a" * 32


def form(**fields: str) -> FormParams:
    base = {"From": SENDER, "MessageSid": SID, "Body": "hola", "NumMedia": "0"}
    base.update(fields)
    return FormParams({k: [v] for k, v in base.items()})


def test_a_text_message() -> None:
    parsed = parse_message(form(ProfileName="Ana"), received_at=NOW)
    inbound = parsed.inbound
    assert inbound is not None and parsed.ignored is None
    assert (inbound.channel, inbound.external_id, inbound.provider_message_id) == (
        "whatsapp",
        SENDER,
        SID,
    )
    assert (inbound.text, inbound.kind, inbound.payload, inbound.received_at) == (
        "hola",
        "text",
        None,
        NOW,
    )


def test_a_quick_reply_button_carries_its_payload() -> None:
    fields = form(Body="Yes", ButtonPayload="consent:yes", ButtonText="Yes")
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None
    assert (inbound.payload, inbound.text, inbound.kind) == ("consent:yes", "Yes", "text")


def test_media_without_text_is_unsupported() -> None:
    fields = form(Body="", NumMedia="1", MediaUrl0="https://x/y", MediaContentType0="audio/ogg")
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None and (inbound.kind, inbound.text) == ("unsupported", "")


def test_media_with_a_caption_is_text() -> None:
    fields = form(Body="esto", NumMedia="1", MediaUrl0="https://x/y")
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None and (inbound.kind, inbound.text) == ("text", "esto")


def test_a_location_without_text_is_unsupported() -> None:
    inbound = parse_message(form(Body="", Latitude="-12", Longitude="-77"), received_at=NOW)
    assert inbound.inbound is not None and inbound.inbound.kind == "unsupported"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"From": "+51987654321"}, "not_whatsapp"),
        ({"From": "whatsapp:"}, "not_whatsapp"),
        ({"From": ""}, "not_whatsapp"),
        ({"MessageSid": ""}, "no_message_id"),
        ({"MessageSid": "S" * 65}, "no_message_id"),
        ({"MessageStatus": "delivered"}, "status_callback"),
        ({"SmsStatus": "sent"}, "status_callback"),
    ],
)
def test_what_is_not_an_incoming_whatsapp_message_is_ignored(
    fields: dict[str, str], reason: str
) -> None:
    parsed = parse_message(form(**fields), received_at=NOW)
    assert parsed.inbound is None and parsed.ignored == reason


def test_an_old_style_sms_sid_is_accepted() -> None:
    fields = FormParams({"From": [SENDER], "SmsMessageSid": [SID], "Body": ["hi"]})
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None and inbound.provider_message_id == SID


def test_parse_form_keeps_repeated_fields_and_blank_values() -> None:
    body = urlencode([("A", "1"), ("A", "2"), ("Body", ""), ("Text", "á é")]).encode()
    params = parse_form(body)
    assert params.getall("A") == ["1", "2"]
    assert params.first("Body") == "" and params.first("Missing") == ""
    assert params.first("Text") == "á é"
    assert parse_form(b"\xff=\xfe")  # undecodable bytes never raise


def test_signed_url_uses_the_configured_base_and_raw_query() -> None:
    base = "https://bot.example.org/"
    assert signed_url(base, "/webhooks/whatsapp", "") == "https://bot.example.org/webhooks/whatsapp"
    assert (
        signed_url("https://h/prefix", "/webhooks/whatsapp", "a=1&b=%20")
        == "https://h/prefix/webhooks/whatsapp?a=1&b=%20"
    )


def test_twilio_published_test_vector() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = FormParams(
        {
            "CallSid": ["CA1234567890ABCDE"],
            "Digits": ["1234"],
            "From": ["+14158675309"],
            "To": ["+18005551212"],
            "Caller": ["+14158675309"],
        }
    )
    assert signature_valid(TOKEN, url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_valid(TOKEN, url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8X")
    assert not signature_valid("other", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_every_field_is_signed() -> None:
    url = "https://bot.example.org/webhooks/whatsapp"
    fields = form(Body="1")
    signature = sign_twilio_request(TOKEN, url, {k: v[0] for k, v in fields.items()})
    assert signature_valid(TOKEN, url, fields, signature)
    tampered = form(Body="3")
    assert not signature_valid(TOKEN, url, tampered, signature)
    extra = form(Body="1", NewField="x")
    assert not signature_valid(TOKEN, url, extra, signature)
    assert not signature_valid(TOKEN, url, fields, None)
    assert not signature_valid(TOKEN, url, fields, "")
    assert not signature_valid(TOKEN, url + "?x=1", fields, signature)


def test_repeated_fields_are_signed_as_twilio_does() -> None:
    url = "https://bot.example.org/webhooks/whatsapp"
    pairs = [("From", SENDER), ("MediaUrl0", "b"), ("MediaUrl0", "a")]
    signature = sign_twilio_request(TOKEN, url, pairs)
    assert signature_valid(TOKEN, url, FormParams.from_pairs(pairs), signature)


def test_hmac_sha256_signatures_are_checked_when_announced() -> None:
    from twilio.request_validator import HMAC_SHA256, RequestValidator

    url = "https://bot.example.org/webhooks/whatsapp"
    fields = form()
    signature = RequestValidator(TOKEN).compute_signature(url, fields, HMAC_SHA256)
    header = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    assert signature_valid(TOKEN, url, fields, signature, header)
    assert not signature_valid(TOKEN, url, fields, signature)  # read as SHA-1


MEDIA_URL = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages/{SID}/Media/ME1"


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("audio/ogg", "voice"),
        ("image/jpeg", "photo"),
        ("image/webp", "sticker"),
        ("video/mp4", "video"),
        ("application/pdf", "document"),
    ],
)
def test_the_attached_file_is_kept_by_reference(content_type: str, kind: str) -> None:
    fields = form(Body="", NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0=content_type)
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None and inbound.media is not None
    assert (inbound.media.kind, inbound.media.ref, inbound.media.content_type) == (
        kind,
        MEDIA_URL,
        content_type,
    )


def test_a_caption_is_text_with_its_file_and_plain_text_has_none() -> None:
    fields = form(Body="mire", NumMedia="1", MediaUrl0=MEDIA_URL, MediaContentType0="image/png")
    inbound = parse_message(fields, received_at=NOW).inbound
    assert inbound is not None and inbound.kind == "text"
    assert inbound.media is not None and inbound.media.kind == "photo"
    plain = parse_message(form(), received_at=NOW).inbound
    assert plain is not None and plain.media is None


@pytest.mark.parametrize(
    "fields",
    [
        {"Body": "", "Latitude": "-12", "Longitude": "-77"},
        {"Body": "aquí estoy", "Latitude": "-12", "Longitude": "-77"},
        {"Body": "", "NumMedia": "1", "MediaUrl0": "http://insecure.example/x"},
    ],
    ids=["location", "location-with-label", "not-https"],
)
def test_what_cannot_be_fetched_is_other(fields: dict[str, str]) -> None:
    inbound = parse_message(form(**fields), received_at=NOW).inbound
    assert inbound is not None and inbound.media is not None
    assert (inbound.media.kind, inbound.media.ref) == ("other", None)
