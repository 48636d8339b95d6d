"""Bodies far above each surface's limit, with a Content-Length and chunked, sent to a live
server before any authentication: each is refused with 413 in the surface's format after at
most about the limit has been read, and the server's memory stays bounded."""

from __future__ import annotations

import json
import select
import socket
import time

import pytest

from tests.reliability.support import Server, record, size

ATTACK = size(48, 48) << 20  # bytes a caller tries to send
ROUNDS = size(2, 5)
#: Growth of the server's resident memory allowed over all rounds (the bodies are 48 MiB).
MAX_GROWTH_KIB = 40 << 10

SURFACES = {
    "rest": ("/api/v1/transfers", "application/json", "payload_too_large"),
    "shopex": ("/index.php/openapi/rpc/service/", "application/x-www-form-urlencoded", 2002),
    "yichuan": ("/v3/login", "application/x-www-form-urlencoded", 41301),
}


def attack(base: str, path: str, ctype: str, chunked: bool) -> tuple[int, dict, int]:
    """Send up to ATTACK bytes; stop when the server answers. ``(status, body, bytes sent)``."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {ATTACK}"
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n{framing}\r\n\r\n"
    sock.sendall(head.encode())
    piece = b"a" * (64 << 10)
    sent = 0
    try:
        while sent < ATTACK:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server has answered
            data = (b"%x\r\n" % len(piece) + piece + b"\r\n") if chunked else piece
            sock.sendall(data)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = b""
    deadline = time.monotonic() + 30
    try:
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = sock.recv(65536)
            if not chunk or time.monotonic() > deadline:
                break
            answer += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, json.loads(body) if body else {}, sent


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_body_limits_hold_with_content_length_and_chunked(db_url, tmp_path):
    server = Server(db_url, tmp_path / "serve.log", workers=1).start()
    results = []
    try:
        baseline = server.rss_kib()
        peak = baseline
        for _ in range(ROUNDS):
            for name, (path, ctype, code) in SURFACES.items():
                for chunked in (False, True):
                    status, body, sent = attack(server.base, path, ctype, chunked)
                    peak = max(peak, server.rss_kib())
                    assert status == 413, (name, chunked, status, body)
                    assert body.get("code") == code, (name, body)
                    assert sent <= 8 << 20, (name, chunked, sent)  # stopped early
                    results.append((name, "chunked" if chunked else "content-length", sent))
    finally:
        server.stop()
    growth = peak - baseline
    assert growth < MAX_GROWTH_KIB, f"server memory grew {growth} KiB"
    record(
        "body limits",
        backend="sqlite",
        attempts=len(results),
        refused_413=len(results),
        attack_mib=ATTACK >> 20,
        max_mib_sent_before_refusal=round(max(s for *_, s in results) / (1 << 20), 1),
        rss_baseline_mib=round(baseline / 1024, 1),
        rss_growth_mib=round(growth / 1024, 1),
    )
