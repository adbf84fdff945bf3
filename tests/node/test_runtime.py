"""Higher layers plug their job handlers into the runtime through entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from node import runtime as runtime_module
from node.jobs import ClaimedJob
from node.runtime import HANDLER_PLUGINS, Runtime, build_runtime
from node.settings import Settings


def register(runtime: Runtime) -> None:
    def handle(job: ClaimedJob) -> None:
        return None

    runtime.registry.register("index", handle)


def test_installed_plugins_register_their_handlers(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    entry = EntryPoint(name="test", value=f"{__name__}:register", group=HANDLER_PLUGINS)
    seen: list[str] = []

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        seen.append(group)
        return [entry]

    monkeypatch.setattr(runtime_module, "entry_points", fake_entry_points)
    node = build_runtime(settings)
    try:
        assert seen == [HANDLER_PLUGINS]
        assert node.registry.kinds == ["index"]
        assert node.worker().kinds == ["index"]
    finally:
        node.close()
