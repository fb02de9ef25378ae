"""Bounds checked on a JSON body before it is parsed: how deeply it nests.

Python's parser recurses once per level (1,000 levels of ``[`` is a ``RecursionError``, a
2 kB body), and so do the libraries that read the result (python-telegram-bot builds a
``Message`` per ``reply_to_message``). A body nesting deeper than any real update is refused
before either runs.
"""

from __future__ import annotations

import re

#: Deeper than any Telegram update (an update, its message, a quoted message, its entities…
#: stay under a dozen levels).
MAX_DEPTH = 32

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_within(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the arrays and objects of ``body`` nest at most ``limit`` deep (brackets
    inside strings do not count; a body that is not JSON may be refused either way)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return True
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True
