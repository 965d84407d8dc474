"""A TCP relay on loopback that can go silent, as a NAT box does when it forgets a connection.

``freeze()`` stops relaying bytes on every connection open at that moment without closing any
socket: neither end sees an error or EOF, the bytes just stop. Connections opened afterwards
are relayed normally, so a client that notices and reconnects gets through again.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from types import TracebackType

from .net import LOOPBACK


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.frozen = False

    def close(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.close()


class SilentRelay:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``target_port`` until closed."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-relay", daemon=True)
        self._thread.start()

    def freeze(self) -> None:
        """Go silent on every connection open now."""
        with self._lock:
            for pair in self._pairs:
                pair.frozen = True

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, None)
        while not self._closed.is_set():
            for key, _ in selector.select(timeout=0.1):
                if key.data is None:
                    client, _ = self._listener.accept()
                    server = socket.create_connection((LOOPBACK, self.target_port))
                    pair = _Pair(client, server)
                    with self._lock:
                        self._pairs.append(pair)
                    selector.register(client, selectors.EVENT_READ, (pair, server))
                    selector.register(server, selectors.EVENT_READ, (pair, client))
                    continue
                pair, other = key.data
                if pair.frozen:  # bytes stay unread in the kernel, as if lost on the way
                    selector.unregister(key.fileobj)
                    continue
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if not data:
                    for sock in (pair.client, pair.server):
                        with contextlib.suppress(KeyError, ValueError):
                            selector.unregister(sock)
                    pair.close()
                    continue
                with contextlib.suppress(OSError):
                    other.sendall(data)
        selector.close()

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for pair in self._pairs:
                pair.close()

    def __enter__(self) -> SilentRelay:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
