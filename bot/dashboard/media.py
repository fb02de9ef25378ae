"""A file a person sent, for the case page: which message holds it, and how to serve it.

Only a message of the case's person with a kept reference can be opened. The file is fetched
from the platform on each opening (``bot.channels.media``) and sent to the browser with
headers that keep it inert: a type browsers show inline only for images, audio, video and
PDF (anything else is a download), ``nosniff``, a sandboxing policy, and no caching.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlmodel import Session

from bot.db.models import InboundMessage
from bot.runtime import Runtime

#: Types a browser may show in the tab; any other file is offered as a download.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/wav",
        "video/mp4",
        "video/webm",
        "video/3gpp",
        "application/pdf",
    }
)
DOWNLOAD_TYPE = "application/octet-stream"
#: The file's own page: nothing runs, nothing loads from elsewhere.
MEDIA_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
    "sandbox; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class StoredMedia:
    message_id: int
    channel: str
    kind: str
    ref: str
    content_type: str | None


def stored_media(runtime: Runtime, participant_id: int, message_id: int) -> StoredMedia | None:
    """The file of message ``message_id`` if it is the person's and its reference is kept."""
    with Session(runtime.db) as session:
        row = session.get(InboundMessage, message_id)
        if row is None or row.participant_id != participant_id or not row.media_ref_enc:
            return None
        try:
            ref = runtime.cipher.decrypt(row.media_ref_enc)
        except InvalidToken:
            return None
        return StoredMedia(message_id, row.channel, row.media_kind or "other", ref, row.media_type)


def served_type(*candidates: str | None) -> str:
    """The first known type among the stored one and the platform's answer, for inline
    display; otherwise a download."""
    for candidate in candidates:
        if candidate:
            base = candidate.split(";", 1)[0].strip().lower()
            if base in INLINE_TYPES:
                return base
    return DOWNLOAD_TYPE


def headers_for(media_type: str, kind: str, message_id: int) -> dict[str, str]:
    disposition = "inline" if media_type != DOWNLOAD_TYPE else "attachment"
    return {
        "Content-Disposition": f'{disposition}; filename="{kind}-{message_id}"',
        "Content-Security-Policy": MEDIA_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store, private",
        "Referrer-Policy": "no-referrer",
    }
