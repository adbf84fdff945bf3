"""Two nodes as real processes on loopback ports: follow by the CLI, then propagation."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port

DEADLINE_SECONDS = 60.0
MAILLON = Path(sys.executable).with_name("maillon")



def _env(tmp_path: Path, name: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    env |= {
        "MAILLON_DATABASE_URL": f"sqlite:///{tmp_path / name}.db",
        "MAILLON_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MAILLON_SECRET_KEY": f"secret-{name}",
        "MAILLON_FEDERATION_ALLOW_PRIVATE": "true",
        "MAILLON_WORKERS": "1",
    }
    return env


def _until(check: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {DEADLINE_SECONDS:.0f} s")


@contextmanager
def serve(tmp_path: Path, name: str) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = _env(tmp_path, name, port)
    log_path = tmp_path / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(MAILLON), "serve", "--port", str(port)], cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=2.0) as http:

                def healthy() -> bool:
                    if process.poll() is not None:
                        pytest.fail(log_path.read_text(errors="replace"))
                    try:
                        return http.get("/readyz").status_code == 200
                    except httpx.TransportError:
                        return False

                _until(healthy, f"{name} ready")
            yield base, env
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert "Traceback" not in log_path.read_text(errors="replace")


def test_two_node_processes_federate(tmp_path: Path) -> None:
    assert MAILLON.exists(), f"{MAILLON} missing: pip install -e . first"
    with serve(tmp_path, "lille") as (lille, lille_env), serve(tmp_path, "roubaix") as (
        roubaix,
        _,
    ):
        followed = subprocess.run(
            [str(MAILLON), "peers", "follow", roubaix], cwd=tmp_path, env=lille_env,
            capture_output=True, text=True, timeout=60,
        )
        assert followed.returncode == 0, followed.stdout + followed.stderr
        with httpx.Client(base_url=roubaix, timeout=5.0) as http:

            def accepted() -> bool:
                listed = subprocess.run(
                    [str(MAILLON), "peers", "list"], cwd=tmp_path, env=lille_env,
                    capture_output=True, text=True, timeout=60,
                )
                return "accepted" in listed.stdout

            _until(accepted, "Roubaix accepting Lille's follow")
            account = {"email": "nadia@roubaix.example", "password": "correct horse",
                       "name": "Nadia"}
            assert http.post("/api/v1/accounts", json=account).status_code == 201
            login = {"email": account["email"], "password": account["password"]}
            token = http.post("/api/v1/tokens", json=login).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            org = http.post("/api/v1/organisations", headers=auth, json={
                "name": "Vélo Roubaix", "kind": "association",
                "place": {"city": "Roubaix", "postal_code": "59100"}}).json()
            made = http.post("/api/v1/events", headers=auth, json={
                "name": "Vélorution roubaisienne", "organisation_id": org["id"],
                "starts_at": "2030-06-01T10:00:00", "ends_at": "2030-06-01T12:00:00",
                "place": {"city": "Roubaix", "postal_code": "59100"}})
            assert made.status_code == 201, made.text
        with httpx.Client(base_url=lille, timeout=5.0) as http:

            def arrived() -> bool:
                found = http.get("/api/v1/search", params={"q": "velorution"}).json()
                return [h["name"] for h in found["hits"]] == ["Vélorution roubaisienne"]

            _until(arrived, "the event reaching Lille's search")
