"""sign_twilio_request agrees with twilio's RequestValidator."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.fakes.twilio_signing import sign_twilio_request, twilio_signature_headers

URL = "https://bot.example/twilio/whatsapp"


def test_known_vector_from_twilio_python() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert sign_twilio_request("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_good_and_bad_signatures() -> None:
    params = {"From": "whatsapp:+34600111222", "Body": "Hola", "MessageSid": "SM" + "1" * 32}
    signature = sign_twilio_request("token-a", URL, params)
    validator = RequestValidator("token-a")

    assert validator.validate(URL, params, signature)
    assert not validator.validate(URL, {**params, "Body": "Adiós"}, signature)
    assert not validator.validate(URL, params, sign_twilio_request("token-b", URL, params))
    assert twilio_signature_headers("token-a", URL, params)["X-Twilio-Signature"] == signature


def test_repeated_fields_as_pairs_or_lists() -> None:
    pairs = [("MediaUrl0", "a"), ("Tag", "x"), ("Tag", "y")]
    as_lists = {"MediaUrl0": "a", "Tag": ["y", "x"]}
    assert sign_twilio_request("t", URL, pairs) == sign_twilio_request("t", URL, as_lists)
    assert sign_twilio_request("t", URL, pairs) != sign_twilio_request("t", URL, {"Tag": "x"})
