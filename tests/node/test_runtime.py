"""Higher layers join the node as plugins: job handlers, API routers, commands."""

from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from node import cli, plugins
from node.api.app import create_app
from node.jobs import ClaimedJob
from node.runtime import Runtime, build_runtime, register_plugins
from node.settings import Settings


def _register(runtime: Runtime) -> None:
    def handle(job: ClaimedJob) -> None:
        return None

    runtime.registry.register("index", handle)
    router = APIRouter()

    @router.get("/plugged")
    def plugged() -> dict[str, bool]:
        return {"plugged": True}

    runtime.routers.append(router)


def _add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub = commands.add_parser("plugged", help="a plugin's command")
    sub.set_defaults(command=cli.runtime_command(lambda args, runtime: 7))


PLUGIN = SimpleNamespace(register=_register, add_commands=_add_commands)


def test_plugins_add_handlers_routers_and_commands(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setattr(plugins, "installed", lambda: (PLUGIN,))
    node = build_runtime(settings)
    try:
        assert node.registry.kinds == ["index"]
        assert node.worker().kinds == ["index"]
        with TestClient(create_app(settings, runtime=node, workers=0)) as client:
            assert client.get("/api/v1/plugged").json() == {"plugged": True}
    finally:
        node.close()
    monkeypatch.setenv("MAILLON_DATABASE_URL", settings.database_url)
    assert cli.main(["plugged"]) == 7


def test_a_plugin_without_hooks_is_harmless(settings: Settings) -> None:
    node = build_runtime(settings, plugins=False)
    try:
        register_plugins(node, [SimpleNamespace()])
        assert node.registry.kinds == [] and node.routers == []
    finally:
        node.close()
