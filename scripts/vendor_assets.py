"""Vendor the pages' front-end libraries from their npm packages (run by hand, output committed).

Each library is pinned (version and the registry's ``dist.integrity``). For each, the
script ``npm pack``-s the tarball into a temporary directory, hashes its bytes itself
(sha512, compared with the pin and with what npm reports), then copies only the listed
files, with the package's licence files, into its destination:

- ``web/static/vendor/leaflet/``: the map (Leaflet);
- ``web/static/vendor/htmx/``: partial page updates (htmx);
- ``tests/web/vendor/axe-core/``: the accessibility audit the browser tests inject
  (never served to visitors).

Pages never load a library from a CDN. ``--check`` verifies the committed copies
against fresh tarballs and changes nothing (exit 1 on any difference). Needs ``npm``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Library:
    package: str
    version: str
    integrity: str
    destination: Path
    #: tarball member (under ``package/``) → file name in the destination
    files: dict[str, str]


LIBRARIES = (
    Library(
        "leaflet",
        "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        ROOT / "web" / "static" / "vendor" / "leaflet",
        {
            "LICENSE": "LICENSE",
            "dist/leaflet.js": "leaflet.js",
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
    ),
    Library(
        "htmx.org",
        "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        ROOT / "web" / "static" / "vendor" / "htmx",
        {"LICENSE": "LICENSE", "dist/htmx.min.js": "htmx.min.js"},
    ),
    Library(
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        ROOT / "tests" / "web" / "vendor" / "axe-core",
        {
            "LICENSE": "LICENSE",
            "LICENSE-3RD-PARTY.txt": "LICENSE-3RD-PARTY.txt",
            "axe.min.js": "axe.min.js",
        },
    ),
)


class VendorError(Exception):
    """Why a library could not be vendored (printed, exit status 1)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, change nothing")
    args = parser.parse_args(argv)
    npm = shutil.which("npm")
    if npm is None:
        print("vendor_assets: ERROR: npm is not on PATH", file=sys.stderr)
        return 1
    differences = 0
    try:
        for library in LIBRARIES:
            differences += vendor(npm, library, check=args.check)
    except VendorError as error:
        print(f"vendor_assets: ERROR: {error}", file=sys.stderr)
        return 1
    return 1 if differences else 0


def vendor(npm: str, library: Library, *, check: bool) -> int:
    spec = f"{library.package}@{library.version}"
    with tempfile.TemporaryDirectory(prefix="vendor-npm-") as tmp:
        workdir = Path(tmp)
        packed = json.loads(run([npm, "pack", spec, "--json"], cwd=workdir))
        tarball = workdir / packed[0]["filename"]
        actual = sri_sha512(tarball)
        if actual != library.integrity or packed[0].get("integrity") != library.integrity:
            raise VendorError(
                f"integrity mismatch for {spec}: bytes {actual}, npm "
                f"{packed[0].get('integrity')!r}, pinned {library.integrity}"
            )
        differences = 0
        with tarfile.open(tarball, "r:gz") as archive:
            for member, name in library.files.items():
                data = read_member(archive, f"package/{member}")
                target = library.destination / name
                if check:
                    if not target.is_file() or target.read_bytes() != data:
                        print(f"vendor_assets: {target.relative_to(ROOT)} differs from {spec}")
                        differences += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if not check:
            (library.destination / "VERSION").write_text(
                f"{spec}\n{library.integrity}\n", encoding="utf-8"
            )
            print(f"vendor_assets: {spec} → {library.destination.relative_to(ROOT)}")
        return differences


def read_member(archive: tarfile.TarFile, member: str) -> bytes:
    try:
        info = archive.getmember(member)
    except KeyError:
        raise VendorError(f"{member} is not in the tarball") from None
    source = archive.extractfile(info) if info.isfile() else None
    if source is None:
        raise VendorError(f"{member} is not a regular file")
    with source:
        return source.read()


def run(command: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise VendorError(f"`{' '.join(command)}` could not run: {error}") from error
    if done.returncode != 0:
        raise VendorError(f"`{' '.join(command)}` exited {done.returncode}: {done.stderr[-800:]}")
    return done.stdout


def sri_sha512(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes())
    return "sha512-" + base64.b64encode(digest.digest()).decode("ascii")


if __name__ == "__main__":
    sys.exit(main())
