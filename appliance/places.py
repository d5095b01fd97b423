"""Where a number is from, as phonenumbers' geocoder and carrier data say, in a compact table
of only what the appliance shows: the place names of the office's own country (China: +86)
and the operators of mobiles, in Chinese and English, and every country's name in both.

phonenumbers keeps its place names as Python dicts for every country and language: importing
them took 113 MB of the supervisor's 169 MB, of which China's prefixes are 130,191 of 287,454
(README, "Performance").  The table holds the same answers as sorted arrays of prefixes
(``array('Q')``) with an index into one list of distinct names per language: about 2.5 MB.

It is built from the installed phonenumbers' own data (``build``, in a process of its own:
``python -m appliance.places build PATH``), never written by hand, so it follows the package's
updates: a file made by another phonenumbers version, format or byte order is not current and
is built again.  The image ships one (``SHIPPED``, made by ``image_build``); elsewhere the
appliance builds it once into ``Settings.places_path`` (``appliance.main``).

Lookups answer what phonenumbers would for the office's region: ``description`` is
``geocoder.description_for_valid_number(number, lang, region=office)`` and ``carrier``
``carrier.name_for_valid_number(number, lang)`` (every country's mobiles), for ``lang``
``zh`` or ``en`` (tests/unit/test_places.py compares them prefix by prefix).
"""

from __future__ import annotations

import json
import os
import sys
from array import array
from bisect import bisect_left
from pathlib import Path

import phonenumbers
from phonenumbers import PhoneNumberFormat

FORMAT = 1  # of the file below: a change of layout makes every older file not current
LANGUAGES = ("zh", "en")
SHIPPED = Path("/usr/share/appliance/number-places.bin")  # made by image_build at build time
_NONE = 0xFFFFFFFF  # no name in this language for this prefix: a shorter prefix is tried


class PrefixNames:
    """Prefixes (E.164 digits, as integers: a prefix never starts with 0, so its length is in
    its value) in ascending order, and for each language the index of the prefix's name."""

    def __init__(self, prefixes: array, names: dict[str, array]):
        self.prefixes, self.names = prefixes, names
        self.longest = max((len(str(p)) for p in prefixes), default=0)

    @classmethod
    def from_dict(cls, data: dict[str, str | dict], pick, names: list[str], index: dict[str, int]) -> "PrefixNames":
        """From phonenumbers' ``{prefix: {locale: name}}``; ``pick(langdict, lang)`` is its own
        choice of the locale, ``names``/``index`` the shared list of distinct names."""
        keys = sorted(data, key=int)
        by_lang = {}
        for lang in LANGUAGES:
            column = array("I")
            for key in keys:
                name = pick(data[key], lang)
                if name is None:
                    column.append(_NONE)
                    continue
                if name not in index:
                    index[name] = len(names)
                    names.append(name)
                column.append(index[name])
            by_lang[lang] = column
        return cls(array("Q", (int(k) for k in keys)), by_lang)

    def name(self, digits: str, lang: str, names: list[str]) -> str:
        """The name of the longest prefix of ``digits`` that has one in ``lang``, else ""
        (phonenumbers' ``prefix._prefix_description_for_number``)."""
        column = self.names[lang]
        for length in range(self.longest, 0, -1):
            key = int(digits[:length])
            at = bisect_left(self.prefixes, key)
            if at < len(self.prefixes) and self.prefixes[at] == key and column[at] != _NONE:
                return names[column[at]]
        return ""


class PlaceTable:
    """The compact table (module docstring): places of ``office``'s country, every carrier,
    every country's name, in ``LANGUAGES``."""

    def __init__(self, office: str, places: PrefixNames, carriers: PrefixNames, names: list[str],
                 countries: dict[str, list[str]], version: str = phonenumbers.__version__):
        self.office, self.places, self.carriers, self.names = office, places, carriers, names
        self.countries, self.version = countries, version

    # -- answers ----------------------------------------------------------------------------
    def description(self, number: phonenumbers.PhoneNumber, lang: str) -> str:
        """``geocoder.description_for_valid_number(number, lang, region=office)``: a number of
        the office's country, its place (else the country); another one, its country."""
        where = phonenumbers.region_code_for_number(number)
        if where == self.office:
            found = self.places.name(_digits(number), lang, self.names)
            return found or self.country(_single_region(number), lang)
        return self.country(where, lang)

    def carrier(self, number: phonenumbers.PhoneNumber, lang: str) -> str:
        """``carrier.name_for_valid_number(number, lang)``."""
        return self.carriers.name(_digits(number), lang, self.names)

    def country(self, region_code: str | None, lang: str) -> str:
        names = self.countries.get(region_code or "")
        return names[LANGUAGES.index(lang)] if names else ""

    # -- made from phonenumbers, written, read ---------------------------------------------
    @classmethod
    def from_phonenumbers(cls, office: str = "CN") -> "PlaceTable":
        """Built from the installed phonenumbers' data (imports all of it: 100 MB and more,
        which is why the appliance runs this in a process of its own)."""
        from phonenumbers import geocoder
        from phonenumbers.carrierdata import CARRIER_DATA
        from phonenumbers.geodata import GEOCODE_DATA
        from phonenumbers.geodata.locale import LOCALE_DATA
        from phonenumbers.prefix import _find_lang

        office = office.upper()
        if phonenumbers.country_mobile_token(phonenumbers.country_code_for_region(office)):
            # phonenumbers rewrites such numbers (Argentina, Mexico) before geocoding them
            raise ValueError(f"the place table does not cover {office}'s mobile token")
        code = str(phonenumbers.country_code_for_region(office))
        ours = {k: v for k, v in GEOCODE_DATA.items() if k.startswith(code) or code.startswith(k)}
        names: list[str] = []
        index: dict[str, int] = {}
        places = PrefixNames.from_dict(ours, lambda d, lang: _find_lang(d, lang, None, office), names, index)
        carriers = PrefixNames.from_dict(CARRIER_DATA, lambda d, lang: _find_lang(d, lang, None, None), names, index)
        countries = {rc: [geocoder._region_display_name(rc, lang) for lang in LANGUAGES] for rc in LOCALE_DATA}
        return cls(office, places, carriers, names, countries)

    def write(self, path: Path) -> None:
        """One file: a JSON header line (what made it, the names, the arrays' lengths), then
        the arrays' bytes.  Written to a temporary file and renamed: a reader sees the whole
        file or none."""
        arrays = [self.places.prefixes, *self.places.names.values(), self.carriers.prefixes,
                  *self.carriers.names.values()]
        header = {**_stamp(self.office), "names": self.names, "countries": self.countries,
                  "arrays": [[a.typecode, len(a)] for a in arrays]}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
            for a in arrays:
                a.tofile(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "PlaceTable":
        """The table in ``path`` (``write``'s file; ``current`` says whether it may be used)."""
        with open(path, "rb") as f:
            header = json.loads(f.readline())
            arrays = []
            for typecode, length in header["arrays"]:
                a = array(typecode)
                a.fromfile(f, length)
                arrays.append(a)
        places = PrefixNames(arrays[0], dict(zip(LANGUAGES, arrays[1:3])))
        carriers = PrefixNames(arrays[3], dict(zip(LANGUAGES, arrays[4:6])))
        return cls(header["office"], places, carriers, header["names"], header["countries"], header["phonenumbers"])


def _digits(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)[1:]


def _single_region(number: phonenumbers.PhoneNumber) -> str:
    """The region ``geocoder.country_name_for_number`` names: the country code's one region
    (China: CN), or of several (+1, +7) the one the number is valid in, none when several."""
    regions = phonenumbers.region_codes_for_country_code(number.country_code)
    if len(regions) == 1:
        return regions[0]
    valid = [rc for rc in regions if phonenumbers.is_valid_number_for_region(number, rc)]
    return valid[0] if len(valid) == 1 else ""


def _stamp(office: str) -> dict:
    return {"format": FORMAT, "phonenumbers": phonenumbers.__version__, "byteorder": sys.byteorder,
            "office": office.upper()}


def current(path: Path, office: str = "CN") -> bool:
    """Whether ``path`` holds a table this code can read, made from the installed phonenumbers
    for ``office``: only its header line is read."""
    try:
        with open(path, "rb") as f:
            header = json.loads(f.readline())
    except (OSError, ValueError):
        return False
    return isinstance(header, dict) and all(header.get(k) == v for k, v in _stamp(office).items())


def build_argv(path: Path, office: str = "CN") -> list[str]:
    """The command that builds the table into ``path`` in a process of its own."""
    return [sys.executable, "-m", "appliance.places", "build", str(path), office]


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] != "build":
        print("usage: python -m appliance.places build PATH [OFFICE_REGION]", file=sys.stderr)
        return 2
    path = Path(argv[1])
    PlaceTable.from_phonenumbers(argv[2] if len(argv) == 3 else "CN").write(path)
    print(f"{path}: {path.stat().st_size} bytes", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
