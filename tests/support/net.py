"""Loopback networking helpers for tests: pick a free port, wait for a listener.

Only 127.0.0.1 is ever used: tests must not reach past the loopback interface.
"""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    The kernel picks it (bind to port 0); the socket is closed before returning, so a caller that
    binds later can in rare cases lose a race — servers started by the fixtures retry on that.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = LOOPBACK) -> bool:
    """True when something accepts TCP connections on ``host:port`` right now.

    A connect to a closed port of the ephemeral range can succeed on its own: the kernel may
    pick that very port as the source, and TCP's simultaneous open connects the socket to
    itself. That is no listener, so it counts as closed.
    """
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            return sock.getsockname() != sock.getpeername()
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 10.0, host: str = LOOPBACK) -> bool:
    """Poll until ``host:port`` accepts connections; return False when ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return True
        time.sleep(0.01)
    return False
