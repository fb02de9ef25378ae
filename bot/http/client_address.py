"""The client's address, believing ``X-Forwarded-For`` only from proxies we were told of.

``TRUSTED_PROXIES`` lists the reverse proxies (addresses or CIDR networks) in front of the
service. When the TCP peer is one of them, ``X-Forwarded-For`` is read from the right: the
first address that is not a trusted proxy is the client (anything to its left was written by
the client and proves nothing). From any other peer the header is ignored. Uvicorn's own
proxy-header handling is switched off (``bot.cli``) so that it cannot rewrite the peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "x-forwarded-for"


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 172.16.0.0/12"`` → networks; ValueError names a bad entry."""
    networks: list[Network] = []
    for raw in value.replace(";", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return tuple(networks)


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(request: Request, trusted: Sequence[Network]) -> str | None:
    """The address sign-in throttling and the audit log record for ``request``."""
    peer = request.client.host if request.client else None
    if peer is None or not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist(FORWARDED_FOR)).split(",")]
    hops = [h for h in hops if h]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a trusted proxy: count it against the proxy
    return hops[0] if hops else peer
