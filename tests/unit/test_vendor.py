"""The front-end libraries under webui/static/vendor/ are what packages.json records (fetched
by its fetch.py from the npm registry): each listed file is there, with its licence."""

import json
import re
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
        if "bundle" in spec:
            assert (folder / spec["bundle"]["out"]).is_file(), name
        assert len(spec["sha256"]) == 64


def test_the_softphone_imports_what_the_sipjs_bundle_exports():
    """SIP.js joined into one module (one request for the workspace, not 190): it exports
    what webui/static/softphone.js imports, and keeps the licence comments."""
    bundle = (VENDOR / "sipjs" / "sip.min.js").read_text()
    exported = set(re.findall(r"\b\w+ as (\w+)\b", bundle[bundle.rindex("export{"):]))
    imported = re.search(r"import \{([^}]*)\} from \"/static/vendor/sipjs/sip.min.js\"",
                         (VENDOR.parent / "softphone.js").read_text()).group(1)
    assert {n.strip() for n in imported.split(",")} <= exported
    assert "0.21" in bundle[:200]
