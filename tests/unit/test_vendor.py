"""The front-end libraries under webui/static/vendor/ are what packages.json records (fetched
by its fetch.py from the npm registry): each listed file is there, with its licence."""

import json
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "webui" / "static" / "vendor"


def test_every_recorded_file_is_vendored_with_its_licence():
    packages = json.loads((VENDOR / "packages.json").read_text())
    assert {"echarts", "sip.js"} <= set(packages)
    for name, spec in packages.items():
        folder = VENDOR / spec["dir"]
        for dst in spec["files"].values():
            assert (folder / dst).is_file(), f"{name}: {dst} missing: run webui/static/vendor/fetch.py {name}"
        assert any(p.name.startswith("LICENSE") for p in folder.iterdir()), name
        for dst in spec.get("trees", {}).values():
            assert any((folder / dst).rglob("*" + spec["tree_suffix"])), name
        assert len(spec["sha256"]) == 64


def test_the_softphone_loads_sipjs_entry_point():
    assert "export { Web }" in (VENDOR / "sipjs" / "lib" / "index.js").read_text()
