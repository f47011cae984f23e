"""Virus scanning through clamd's INSTREAM protocol (no client library: the protocol is small).

When ``CLAMD_SOCKET`` (a unix socket path) or ``CLAMD_HOST`` (with ``CLAMD_PORT``, 3310) is set,
every stored file is streamed to clamd before its row exists (``storage.services.file_store``):

    client: b"zINSTREAM\\0", then chunks, each a 4-byte big-endian length and the bytes, then a
            zero length
    clamd:  b"stream: OK\\0" | b"stream: <signature> FOUND\\0" | b"<reason> ERROR\\0"

Without either setting files are stored unscanned (``is_processed`` false) and the system check
``storage.W001`` says so in production.
"""

from __future__ import annotations

import logging
import socket
import struct
from dataclasses import dataclass

from django.conf import settings

logger = logging.getLogger("storage.scanning")

CHUNK_BYTES = 64 * 1024
REPLY_MAX_BYTES = 4096


class ScanUnavailable(Exception):
    """clamd could not be reached or did not give a verdict; the file is not stored."""


@dataclass(frozen=True)
class Verdict:
    clean: bool
    signature: str = ""


def scanning_enabled() -> bool:
    return bool(getattr(settings, "CLAMD_SOCKET", "") or getattr(settings, "CLAMD_HOST", ""))


def _connect() -> socket.socket:
    timeout = float(getattr(settings, "CLAMD_TIMEOUT", 60.0))
    path = getattr(settings, "CLAMD_SOCKET", "")
    try:
        if path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(path)
        else:
            sock = socket.create_connection(
                (settings.CLAMD_HOST, int(getattr(settings, "CLAMD_PORT", 3310))), timeout=timeout
            )
    except OSError as exc:
        raise ScanUnavailable(f"cannot connect to clamd: {exc}") from exc
    return sock


class ScanSession:
    """One INSTREAM scan: ``send`` the bytes as they are read, then ``verdict()``."""

    def __init__(self):
        self._sock = _connect()
        self._closed_early = False
        try:
            self._sock.sendall(b"zINSTREAM\0")
        except OSError as exc:
            self._sock.close()
            raise ScanUnavailable(f"clamd refused the stream: {exc}") from exc

    def send(self, data: bytes) -> None:
        if self._closed_early:
            return
        view = memoryview(data)
        try:
            for start in range(0, len(view), CHUNK_BYTES):
                piece = view[start:start + CHUNK_BYTES]
                self._sock.sendall(struct.pack("!L", len(piece)) + bytes(piece))
        except OSError:
            # clamd closes the stream when it passes StreamMaxLength; its reply says why.
            self._closed_early = True

    def _reply(self) -> str:
        reply = b""
        while not reply.endswith(b"\0") and len(reply) < REPLY_MAX_BYTES:
            piece = self._sock.recv(REPLY_MAX_BYTES)
            if not piece:
                break
            reply += piece
        return reply.rstrip(b"\0").decode("utf-8", "replace").strip()

    def verdict(self) -> Verdict:
        try:
            if not self._closed_early:
                try:
                    self._sock.sendall(struct.pack("!L", 0))
                except OSError:
                    pass
            reply = self._reply()
        except OSError as exc:
            raise ScanUnavailable(f"no reply from clamd: {exc}") from exc
        finally:
            self.close()
        if reply.endswith("OK") and not reply.endswith("ERROR"):
            return Verdict(clean=True)
        if reply.endswith("FOUND"):
            signature = reply.removeprefix("stream:").removesuffix("FOUND").strip()
            return Verdict(clean=False, signature=signature[:200])
        raise ScanUnavailable(f"clamd did not scan the file: {reply[:200] or 'no reply'}")

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass


def scan_bytes(data: bytes) -> Verdict:
    """Scan ``data`` at once (tests, small files)."""
    session = ScanSession()
    session.send(data)
    return session.verdict()


def clamd_ping() -> bool:
    """Whether clamd answers PING (the system check and tests)."""
    try:
        sock = _connect()
    except ScanUnavailable:
        return False
    try:
        sock.sendall(b"zPING\0")
        return sock.recv(64).rstrip(b"\0") == b"PONG"
    except OSError:
        return False
    finally:
        sock.close()
