"""Uploads with a bounded cost, against a real service process over TCP (uvicorn, real sockets):
a stalled body is cut (408), an anonymous upload is refused before its body is read, an oversized
chunked body is a 413 with our code, and a full disk is a clear 507 with nothing half-written."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.live import LiveService

MB = 1024 * 1024


def _stl(triangles: int) -> bytes:
    import struct

    body = b"".join(
        struct.pack("<12fH", *([0.0] * 3), 0, 0, 0, 1, 0, 0, 0, 1, 0, 0) for _ in range(triangles)
    )
    return b"\0" * 80 + struct.pack("<I", triangles) + body


def _multipart(data: bytes, name: str = "piece.stl") -> tuple[bytes, str]:
    boundary = "fablabboundary42"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _raw(service: LiveService, request: bytes, *, wait_s: float) -> tuple[bytes, float]:
    """Send raw bytes, read the answer; the answer and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", service.port), timeout=wait_s) as sock:
        sock.sendall(request)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                    break
        except TimeoutError:
            pass
    return answer, time.monotonic() - started


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    live = LiveService(tmp_path_factory.mktemp("uploads") / "data", body_timeout_s="1", max_upload_mb="2")
    live.start()
    yield live
    live.stop()


def test_a_stalled_upload_is_cut_with_408(service: LiveService) -> None:
    auth = service.login()["Authorization"]
    body, content_type = _multipart(_stl(100))
    head = (
        f"POST /api/v1/designs HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer, took = _raw(service, head + body[:200], wait_s=15)  # then nothing more
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b'"BODY_TIMEOUT"' in answer
    assert took < 10
    assert not list(service.data.joinpath("designs").rglob(".upload-*")), "a partial upload was left"


def test_an_anonymous_upload_is_refused_before_its_body_is_read(service: LiveService) -> None:
    head = (
        "POST /api/v1/designs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {MB}\r\n\r\n"
    ).encode()
    answer, took = _raw(service, head, wait_s=15)  # no body at all: the 401 must not wait for it
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b'"NOT_AUTHENTICATED"' in answer
    assert took < 5


def test_an_oversized_chunked_upload_is_413_with_our_code(service: LiveService) -> None:
    headers = service.login()
    body, content_type = _multipart(b"solid x\n" + b" " * (3 * MB))

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        for i in range(0, len(body), 64 * 1024):
            yield body[i : i + 64 * 1024]

    response = httpx.post(
        f"{service.url}/designs",
        content=chunks(),
        headers={**headers, "Content-Type": content_type, "Accept-Language": "fr"},
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "UPLOAD_TOO_LARGE"
    assert "trop gros" in response.json()["message"]
    assert not list(service.data.joinpath("designs").rglob(".upload-*"))


def test_garbage_is_told_and_not_kept(service: LiveService) -> None:
    import os

    headers = service.login()
    before = {p for p in service.data.joinpath("designs").rglob("*") if p.is_file()}
    for name, data in (("bruit.stl", os.urandom(300_000)), ("photo.stl", b"\x89PNG\r\n\x1a\n" + b"\0" * 500)):
        response = httpx.post(
            f"{service.url}/designs", files={"file": (name, data)}, headers=headers, timeout=30
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] in {"FILE_TYPE_UNSUPPORTED", "STL_TRUNCATED", "STL_PARSE_ERROR"}
        assert response.json()["detail"]["report"]["findings"]
    after = {p for p in service.data.joinpath("designs").rglob("*") if p.is_file()}
    assert after == before, f"refused files were kept: {after - before}"


def _mount_tmpfs(path: Path, size: str) -> bool:
    if shutil.which("mount") is None:
        return False
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def test_a_full_disk_is_a_clear_507_with_nothing_half_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    designs = data / "designs"
    if not _mount_tmpfs(designs, "2m"):
        pytest.fail("cannot mount a small tmpfs (the test needs root, as in CI): mount -t tmpfs failed")
    service = LiveService(data, max_upload_mb="8")
    try:
        service.start()
        headers = {**service.login(), "Accept-Language": "fr"}
        small = httpx.post(
            f"{service.url}/designs", files={"file": ("petit.stl", _stl(200))}, headers=headers, timeout=30
        )
        assert small.status_code == 201, small.text
        big = httpx.post(
            f"{service.url}/designs", files={"file": ("gros.stl", _stl(60_000))}, headers=headers, timeout=60
        )
        assert big.status_code == 507, big.text
        assert big.json()["code"] == "STORAGE_FULL"
        assert "disque" in big.json()["message"]
        left = sorted(p.name for p in designs.rglob("*") if p.is_file())
        assert left == [small.json()["sha256"]], f"half-written files left in the store: {left}"
        listed = httpx.get(f"{service.url}/designs", headers=headers, timeout=30).json()
        assert [d["filename"] for d in listed] == ["petit.stl"]
        assert "Traceback" not in service.tail(400)
    finally:
        service.stop()
        subprocess.run(["umount", "-l", str(designs)], capture_output=True)
