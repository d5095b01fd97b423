"""The layers import downwards only: nothing in ``appliance/`` imports the web UI, except the
composition root (``appliance/main.py``) that builds it.  Services and the serial console
translate from ``appliance.i18n``; the web pages are one edge among others."""

from __future__ import annotations

import ast
from pathlib import Path

APPLIANCE = Path(__file__).resolve().parents[2] / "appliance"
COMPOSITION_ROOT = APPLIANCE / "main.py"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_no_module_of_the_appliance_imports_the_web_ui():
    modules = [p for p in APPLIANCE.rglob("*.py") if p != COMPOSITION_ROOT]
    assert len(modules) > 50
    offenders = {str(p.relative_to(APPLIANCE.parent)): sorted(m for m in imported_modules(p)
                                                              if m == "webui" or m.startswith("webui."))
                 for p in modules}
    assert not {p: m for p, m in offenders.items() if m}


def test_the_check_sees_an_import_of_the_web_ui(tmp_path):
    """The walk finds the import forms in use (so the test above can fail)."""
    sample = tmp_path / "sample.py"
    sample.write_text("import json\nfrom webui.i18n import translate\n\ndef f():\n    import webui.app\n")
    assert {"webui.i18n", "webui.app"} <= imported_modules(sample)
    assert COMPOSITION_ROOT.exists() and "webui.app" in imported_modules(COMPOSITION_ROOT)
