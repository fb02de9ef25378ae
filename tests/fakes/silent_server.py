"""A loopback TCP server that accepts connections, reads whatever is sent, and never answers:
a database that hangs (``tests/web/test_timeouts.py``)."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator


class SilentServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        self.listener.setblocking(False)
        selector.register(self.listener, selectors.EVENT_READ)
        peers: list[socket.socket] = []
        try:
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self.listener:
                        peer, _ = self.listener.accept()
                        peer.setblocking(False)
                        peers.append(peer)
                        self.accepted += 1
                        selector.register(peer, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)  # read, and say nothing
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(sock)
                        sock.close()
        finally:
            for peer in peers:
                peer.close()
            selector.close()
            self.listener.close()

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def silent_server() -> Iterator[SilentServer]:
    with SilentServer() as server:
        yield server
