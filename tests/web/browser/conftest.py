"""Browser tests: a real ``maillon serve --demo`` on a loopback port, driven by Playwright
through Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it).

Without a Chromium the tests are skipped, loudly. Pages never reach the network: any
request leaving the node (map tiles included) is aborted, so the map must (and does)
work without tiles. Waiting is polling with deadlines, never a fixed sleep.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from node.demo import DEMO_PASSWORD
from tests.ports import free_port

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
START_DEADLINE = 180.0
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


def chromium_path() -> str | None:
    override = os.environ.get("MAILLON_CHROMIUM")
    for candidate in (override, *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass(frozen=True)
class Node:
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str
    password: str = DEMO_PASSWORD

    def url(self, path: str) -> str:
        return self.base + path



def poll(check: Callable[[], Any], deadline_seconds: float, what: str) -> Any:
    """``check()``'s first truthy answer, polled until the deadline (then the test fails)."""
    deadline = time.monotonic() + deadline_seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {deadline_seconds:.0f} s")
        time.sleep(0.1)  # the interval between two polls, not a wait for an outcome


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "!!! BROWSER TESTS NOT RUN: no Chromium found (looked for /usr/bin/chromium). "
            "Install Debian's package: apt-get install -y --no-install-recommends chromium"
        )
    return path


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Node]:
    """``maillon serve --demo`` as a user starts it, with one job worker (indexing)."""
    workdir = tmp_path_factory.mktemp("browser-node")
    executable = Path(sys.executable).with_name("maillon")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLON_")}
    database_url = f"sqlite:///{workdir / 'node.db'}"
    env.update(
        MAILLON_DATABASE_URL=database_url,
        MAILLON_PUBLIC_URL=base,
        MAILLON_SECRET_KEY="browser-tests",
        MAILLON_WORKERS="1",
    )
    log = workdir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(executable), "serve", "--demo", "--port", str(port)],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    started = Node(base, process, log, database_url)
    try:
        with httpx.Client(base_url=base, timeout=5.0) as http:

            def healthy() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"maillon serve exited:\n{log.read_text(errors='replace')}")
                try:
                    return http.get("/healthz", timeout=1.0).status_code == 200
                except httpx.TransportError:
                    return False

            poll(healthy, START_DEADLINE, "the node answers /healthz")

            def indexed() -> bool:
                answer = http.get("/api/v1/search", params={"types": "event", "limit": 1})
                return answer.status_code == 200 and answer.json()["total"] >= 20

            poll(indexed, START_DEADLINE, "the demo events are indexed")
        yield started
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, node: Node, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser tab (own cookies), French, offline but for the node."""
    context = browser.new_context(
        locale="fr-FR", accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)

    def only_the_node(route: Any) -> None:
        if route.request.url.startswith(node.base):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_node)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"][:3]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_up(page: Any, node: Node, name: str, email: str) -> None:
    page.goto(node.url("/signup"))
    page.get_by_label("Votre nom").fill(name)
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill("correct horse battery")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/agenda")
