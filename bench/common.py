"""What the benchmarks share: loopback helpers and a server run as a child process.

A benchmark script that serves apps answers ``<script> serve --app NAME --db FILE
--port N``; :func:`serve_process` runs that in a child process (pinned to a CPU when
asked), waits for its ``/healthz`` and always stops it. Used by ``bench/api.py`` and
``bench/web.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from node.themes import THEMES

HOST = "127.0.0.1"  # the load only ever goes to loopback
MAILLON = Path(sys.executable).with_name("maillon")
MAILLON_START_DEADLINE_S = 60.0
THEME_IDS = tuple(THEMES)
#: free tags the generated territories use (realistic ESS words, folded)
TAG_WORDS = (
    "velo", "compost", "repair-cafe", "jardin-partage", "amap", "zero-dechet", "tiers-lieu",
    "numerique-inclusif", "insertion", "habitat-participatif", "monnaie-locale", "friperie",
    "circuit-court", "atelier", "conference", "benevolat", "solaire", "covoiturage",
    "lecture", "concert", "marche", "formation", "jeunesse", "seniors", "quartier",
)  # fmt: skip
SERVER_START_TIMEOUT_S = 60.0


def pin_to(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=10) as response:
        return json.load(response)


@contextlib.contextmanager
def serve_process(
    script: Path, name: str, db: Path, workdir: Path, cpu: int | None
) -> Iterator[tuple[int, int]]:
    """Run ``script serve --app name`` in a child process; yields (port, pid); always
    stops it."""
    port = free_port()
    log = (workdir / f"{name}.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [
            sys.executable,
            str(script),
            "serve",
            "--app",
            name,
            "--db",
            str(db),
            "--port",
            str(port),
        ],
        cwd=workdir,  # no maillon.toml here
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=pin_to(cpu),
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} server exited ({process.returncode}):\n"
                    + (workdir / f"{name}.log").read_text()[-3000:]
                )
            try:
                get_json(port, "/healthz")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} server did not start in time") from None
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()


@contextlib.contextmanager
def maillon_serve(settings: dict[str, str], port: int, log: Path) -> Iterator[tuple[str, int]]:
    """``maillon serve --no-workers`` as a real process on a loopback port, with the
    ``MAILLON_*`` variables ``settings`` (and none of this process's); waits for
    ``/readyz``; yields (base URL, pid); always stopped."""
    if not MAILLON.exists():
        raise RuntimeError(f"{MAILLON} is missing: pip install -e . first")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")} | settings
    base = f"http://{HOST}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(MAILLON), "serve", "--host", HOST, "--port", str(port), "--no-workers"],
            cwd=log.parent, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + MAILLON_START_DEADLINE_S
        while True:
            if process.poll() is not None:
                raise RuntimeError("maillon serve exited:\n" + log.read_text()[-3000:])
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{base}/readyz", timeout=2.0) as answer,
            ):
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"maillon serve not ready after {MAILLON_START_DEADLINE_S:.0f} s"
                )
            time.sleep(0.05)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
