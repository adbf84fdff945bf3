"""The docs stay true: every setting and every command is documented."""

from __future__ import annotations

import argparse
from pathlib import Path

from node.cli import build_parser
from node.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"`MAILLON_{n.upper()}`" not in text]
    assert missing == []


def test_the_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_every_cli_command_and_option_is_documented() -> None:
    text = (ROOT / "docs" / "cli.md").read_text()
    parser = build_parser()
    missing: list[str] = []
    for name, sub in _subcommands(parser):
        if f"maillon {name}" not in text:
            missing.append(name)
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in text:
                    missing.append(f"{name} {option}")
    assert missing == []


def _subcommands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                children = _subcommands(sub, f"{full} ")
                found.extend(children or [(full, sub)])
    return found
