"""Hypothesis strategies for webhook bodies: raw bytes, any JSON, deep nesting, and bodies
shaped like Telegram updates and Twilio forms whose every field may be of any type."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import strategies as st

#: Structured fuzz updates keep their ids below this; the valid updates sent beside them
#: use ids above it, so that the two never collide.
FUZZ_ID_LIMIT = 2**40

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The field as expected most of the time, anything JSON otherwise."""
    return st.one_of(strategy, strategy, json_values)


chat_types = st.sampled_from(["private", "group", "supergroup", "channel", "", "PRIVATE"])
chats = st.fixed_dictionaries(
    {"id": maybe(st.integers(-(2**40), 2**40)), "type": maybe(chat_types)},
    optional={"first_name": json_values},
)


@st.composite
def messages(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": draw(maybe(st.integers(0, 2**31))),
        "date": draw(maybe(st.integers(0, 2**31))),
        "chat": draw(maybe(chats)),
    }
    for key in ("text", "caption"):
        if draw(st.booleans()):
            message[key] = draw(maybe(st.text(max_size=200)))
    if draw(st.integers(0, 5)) == 0:
        message[draw(st.sampled_from(["sticker", "photo", "voice", "location"]))] = draw(
            json_values
        )
    if depth < 3 and draw(st.integers(0, 4)) == 0:
        message["reply_to_message"] = draw(messages(depth + 1))
    if draw(st.integers(0, 4)) == 0:
        message[draw(st.text(max_size=10))] = draw(json_values)
    return message


callback_queries = st.fixed_dictionaries(
    {
        "id": maybe(st.text(min_size=1, max_size=20)),
        "from": maybe(
            st.fixed_dictionaries(
                {"id": st.integers(1, 2**40), "is_bot": st.just(False), "first_name": st.just("A")}
            )
        ),
        "chat_instance": maybe(st.text(max_size=5)),
    },
    optional={"data": maybe(st.text(max_size=70)), "message": maybe(messages())},
)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    update: dict[str, Any] = {"update_id": draw(maybe(st.integers(0, FUZZ_ID_LIMIT - 1)))}
    kind = draw(
        st.sampled_from(["message", "edited_message", "callback_query", "channel_post", "poll"])
    )
    update[kind] = draw(callback_queries if kind == "callback_query" else maybe(messages()))
    return update


deep = st.integers(1, 3_000).map(lambda n: b"[" * n + b"]" * n) | st.integers(1, 3_000).map(
    lambda n: b'{"update_id":1,"message":' + b'{"a":' * n + b"1" + b"}" * (n + 1)
)

telegram_bodies = st.one_of(
    updates().map(_dumps),
    updates().map(_dumps),
    updates().map(_dumps),
    json_values.map(_dumps),
    st.binary(max_size=300),
    deep,
)

# --- Twilio forms ------------------------------------------------------------------------------

WHATSAPP_KEYS = [
    "From",
    "To",
    "Body",
    "MessageSid",
    "SmsMessageSid",
    "SmsStatus",
    "MessageStatus",
    "ButtonPayload",
    "NumMedia",
    "ProfileName",
    "WaId",
]
STATUS_KEYS = ["MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode", "To", "From"]
statuses = st.sampled_from(
    ["received", "delivered", "read", "failed", "undelivered", "sent", "queued", "DELIVERED"]
)
form_text = st.text(max_size=80)


def _pairs(
    keys: list[str], special: dict[str, st.SearchStrategy[str]]
) -> st.SearchStrategy[list[tuple[str, str]]]:
    def value_for(key: str) -> st.SearchStrategy[tuple[str, str]]:
        return st.tuples(st.just(key), st.one_of(special.get(key, form_text), form_text))

    known = st.sampled_from(keys).flatmap(value_for)
    other = st.tuples(st.text(max_size=12), form_text)
    return st.lists(st.one_of(known, known, known, other), max_size=12)


whatsapp_forms = _pairs(
    WHATSAPP_KEYS,
    {
        "From": st.from_regex(r"\Awhatsapp:\+[0-9]{6,15}\Z"),
        "MessageSid": st.from_regex(r"\ASM[0-9a-f]{0,70}\Z"),
        "SmsStatus": statuses,
        "MessageStatus": statuses,
        "NumMedia": st.integers(-5, 2**70).map(str),
    },
)
status_forms = _pairs(
    STATUS_KEYS,
    {
        "MessageSid": st.from_regex(r"\ASM[0-9a-f]{0,70}\Z"),
        "MessageStatus": statuses,
        "SmsStatus": statuses,
        "ErrorCode": st.one_of(
            st.integers(-(10**60), 10**60).map(str), st.from_regex(r"\A[0-9]{0,80}\Z")
        ),
    },
)


def encode_form(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()
