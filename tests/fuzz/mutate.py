"""Fast mutations of webhook bodies, seeded: Hypothesis draws a few bodies and a seed per
example, and these turn them (and realistic deliveries) into many more bodies cheaply, so
that tens of thousands of bodies per webhook fit in the test suite's time."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import parse_qsl, urlencode

_ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**50,
    -(10**50),
    1.5e308,
    "",
    "x" * 5000,
    "\u0000\ud7ff\ufffd",
    "me quiero matar",
    [],
    ["me", "quiero", "matar"],
    {},
    {"text": "hola"},
    [[[[[[[[]]]]]]]],
]


def odd_value(rng: random.Random) -> Any:
    if rng.random() < 0.15:
        depth = rng.choice([5, 40, 200, 1200])
        value: Any = "x"
        for _ in range(depth):
            value = [value] if rng.random() < 0.5 else {"a": value}
        return value
    value = rng.choice(_ODD_VALUES)
    # A fresh copy: the mutants change the containers they pick.
    return json.loads(json.dumps(value)) if isinstance(value, list | dict) else value


def _containers(value: Any, found: list[Any]) -> None:
    if isinstance(value, dict | list):
        found.append(value)
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if len(found) < 200:
                _containers(item, found)


def mutate_json(value: Any, rng: random.Random) -> Any:
    """A copy of ``value`` with one to three fields replaced, removed or added."""
    copy = json.loads(json.dumps(value))
    for _ in range(rng.randint(1, 3)):
        containers: list[Any] = []
        _containers(copy, containers)
        if not containers:
            return odd_value(rng)
        target = rng.choice(containers)
        if isinstance(target, dict):
            if target and rng.random() < 0.7:
                key = rng.choice(list(target))
                if rng.random() < 0.2:
                    del target[key]
                else:
                    target[key] = odd_value(rng)
            else:
                target[rng.choice(["text", "caption", "chat", "data", "id", "zz"])] = odd_value(rng)
        elif target:
            target[rng.randrange(len(target))] = odd_value(rng)
        else:
            target.append(odd_value(rng))
    return copy


def mutate_bytes(body: bytes, rng: random.Random) -> bytes:
    """``body`` truncated, with bytes flipped, or with a run of brackets inserted."""
    data = bytearray(body)
    choice = rng.random()
    if not data or choice < 0.25:
        data.extend(rng.choice([b"[", b"{", b"%", b"\xff", b"\x00"]) * rng.randint(1, 2000))
    elif choice < 0.5:
        del data[rng.randrange(len(data)) :]
    elif choice < 0.8:
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    else:
        at = rng.randrange(len(data))
        data[at:at] = rng.choice([b'{"a":', b"[", b"]", b'"', b"&", b"=", b"%zz"]) * rng.randint(
            1, 1500
        )
    return bytes(data)


def telegram_mutants(
    bases: list[bytes], templates: list[dict[str, Any]], seed: int, n: int
) -> list[bytes]:
    rng = random.Random(seed)
    bodies: list[bytes] = []
    for _ in range(n):
        if rng.random() < 0.7:
            update = mutate_json(rng.choice(templates), rng)
            try:
                body = json.dumps(update).encode()
            except RecursionError:
                body = b"[" * 1200 + b"]" * 1200
        else:
            body = mutate_bytes(rng.choice(bases) if bases else b"{}", rng)
        bodies.append(body)
    return bodies


def form_mutants(
    bases: list[bytes], templates: list[list[tuple[str, str]]], seed: int, n: int
) -> list[bytes]:
    rng = random.Random(seed)
    bodies: list[bytes] = []
    for _ in range(n):
        if rng.random() < 0.7:
            pairs = list(rng.choice(templates))
            for _ in range(rng.randint(1, 3)):
                value = rng.choice(
                    [
                        "",
                        "9" * rng.randint(1, 80),
                        "x" * rng.randint(1, 3000),
                        "ñ\u2028\U0001f600",
                        "whatsapp:",
                        "whatsapp:+" + "9" * rng.randint(1, 40),
                        "delivered",
                        "failed",
                    ]
                )
                if pairs and rng.random() < 0.8:
                    at = rng.randrange(len(pairs))
                    if rng.random() < 0.2:
                        pairs.insert(at, pairs[at])  # a repeated field
                    else:
                        pairs[at] = (pairs[at][0], value)
                else:
                    pairs.append((rng.choice(["Body", "ErrorCode", "From", "zz", ""]), value))
            body = urlencode(pairs).encode()
        else:
            base = rng.choice(bases) if bases else b""
            body = mutate_bytes(base, rng)
        bodies.append(body)
    return bodies


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
