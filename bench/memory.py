"""Benchmark: what placing numbers costs the supervisor's memory (issue 23 point 5).

Two fresh Pythons, one after the other, each importing what the supervisor imports
(``appliance.main``) and then placing the same numbers (``numbers.home_region``,
``province_city`` and ``describe``: Chinese mobiles and fixed lines of several provinces,
Beijing, Hong Kong, foreign numbers) in Chinese (``zh_CN``) and English:

- **table**: the appliance's way: the place table (``appliance/places.py``) built once in a
  process of its own (timed: ``place table build``), then loaded by ``main.load_places`` as
  ``Appliance.start`` loads it;
- **baseline**: the same ``numbers`` code answered by phonenumbers' full geocoder and carrier
  data (every country, every language), as the appliance placed numbers before.

Each reports its resident memory's high-water mark (``VmHWM``, /proc/self/status) after the
imports and after the answers.  Figures: ``import rss`` (MB, table ÷ baseline), ``places rss``
(after the answers, table ÷ baseline: the supervisor's memory with numbers placed), ``place
table load`` (s) and ``places answers equal`` (1 when every answer of the two is the same,
with how many were compared).  Not a test: it measures (the table's equality with phonenumbers
for every prefix is tests/unit/test_places.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NUMBERS = (
    "13912345678",  # mobiles: China Mobile, Changzhou (Jiangsu)
    "+8613800138000",  # China Mobile, Beijing
    "15012345678",
    "18612345678",  # China Unicom
    "17712345678",  # China Telecom
    "19912345678",
    "01058888888",  # Beijing
    "02161234567",  # Shanghai
    "02087654321",  # Guangzhou
    "075588889999",  # Shenzhen
    "02885551234",  # Chengdu
    "09918881234",  # Urumqi
    "08916331234",  # Lhasa
    "04716661234",  # Hohhot
    "+85291234567",  # Hong Kong mobile
    "+85221234567",  # Hong Kong fixed line
    "+12125551234",  # New York
    "+442071234567",  # London
    "4008123123",  # a 400 number: no place
)
LANGS = ("zh_CN", "en")


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PhonenumbersPlaces:
    """The baseline: ``PlaceTable``'s two questions answered by phonenumbers' own geocoder and
    carrier modules, with all their data (what ``numbers`` called before the table)."""

    office = "CN"

    def __init__(self):
        from phonenumbers import carrier, geocoder

        self._geocoder, self._carrier = geocoder, carrier

    def description(self, number, lang: str) -> str:
        return self._geocoder.description_for_valid_number(number, lang, region=self.office)

    def carrier(self, number, lang: str) -> str:
        return self._carrier.name_for_valid_number(number, lang)


def measure(kind: str, table_path: str) -> dict:
    """In a fresh Python: the imports, then the numbers placed (``kind``: table or baseline)."""
    import types

    from appliance import main, numbers

    imported = vm_hwm_mb()
    started = time.perf_counter()
    if kind == "table":
        numbers.places_pending()
        main.load_places(types.SimpleNamespace(places_path=Path(table_path)))
    else:
        numbers.use_places(PhonenumbersPlaces())
    loaded = time.perf_counter() - started
    answers = {f"{n} {lang}": [repr(numbers.home_region(n, lang)), numbers.province_city(n, lang),
                               numbers.describe(n, lang)] for n in NUMBERS for lang in LANGS}
    return {"import_mb": imported, "places_mb": vm_hwm_mb(), "load_s": loaded, "answers": answers}


def _child(kind: str, table_path: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.memory", "measure", kind, str(table_path)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def run() -> Path:
    from bench.common import figure, write_results
    from appliance import places

    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    table_path = work / "number-places.bin"
    started = time.perf_counter()
    subprocess.run(places.build_argv(table_path), cwd=REPO, check=True, capture_output=True)
    built = time.perf_counter() - started
    table, baseline = _child("table", table_path), _child("baseline", table_path)
    differ = sorted(k for k in baseline["answers"] if table["answers"].get(k) != baseline["answers"][k])
    load = [round(x, 2) for x in os.getloadavg()]
    figures = [
        figure("import rss", table["import_mb"], "MB", baseline=baseline["import_mb"], load_average=load),
        figure("places rss", table["places_mb"], "MB", baseline=baseline["places_mb"], load_average=load,
               note="VmHWM after placing the numbers; baseline: phonenumbers' full geocoder and carrier data"),
        figure("place table load", table["load_s"], "s", baseline=baseline["load_s"],
               table_bytes=table_path.stat().st_size, note="baseline: importing phonenumbers' data"),
        figure("place table build", built, "s", note="once, in a process of its own (or at image build)"),
        figure("places answers equal", 0 if differ else 1, "", compared=len(baseline["answers"]) * 3,
               differing=differ, sample=table["answers"][f"{NUMBERS[0]} {LANGS[0]}"]),
    ]
    return write_results("memory", figures)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2], sys.argv[3]), ensure_ascii=False))
    else:
        result = run()
        print(result.read_text())
