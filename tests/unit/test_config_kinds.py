"""The shape of the configuration store: one declaration per kind, hooks instead of branches
on kind names, no import circle with the menus, and a public store for the services of
kinds with a shape of their own (menus, prompts)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.db import models as m
from appliance.errors import Conflict, ValidationError
from appliance.services import config as config_module
from appliance.services.config import FIELDS, KEYS, KIND_TABLE, KINDS, MODELS, SINGULAR, ConfigService

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "appliance" / "services"


def test_config_imports_in_a_fresh_interpreter_without_the_menus():
    code = ("import sys, appliance.services.config; "
            "assert 'appliance.services.menus' not in sys.modules, 'config pulled in the menus'; "
            "import appliance.services.menus; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_config_imports_no_other_service_nor_the_web_layer():
    """Not even lazily inside a function: the circle config <-> menus stays gone."""
    tree = ast.parse((SERVICES / "config.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith(("appliance.services", "webui"))}


@pytest.mark.parametrize("module", ["menus.py", "prompts.py"])
def test_menus_and_prompts_use_only_the_public_store(module):
    tree = ast.parse((SERVICES / module).read_text())
    private = [f"line {node.lineno}: config.{node.attr}" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and node.attr.startswith("_")
               and isinstance(node.value, ast.Attribute) and node.value.attr == "config"]
    assert not private


def test_every_kind_is_declared_once_and_the_old_tables_derive_from_it():
    assert list(KIND_TABLE) == [*KINDS, "menus", "prompts"]
    assert set(KIND_TABLE) == set(FIELDS)
    assert KINDS == ("trunks", "card_routes", "queues", "dids", "phones", "agents", "pause_reasons",
                     "time_conditions", "holidays", "blacklist", "customer_fields", "recording_rules")
    for name, kind in KIND_TABLE.items():
        assert kind.fields is FIELDS[name]
        assert MODELS[name] is kind.model and KEYS[name] == kind.key and SINGULAR[name] == kind.singular
        assert any(f.attr == kind.key for f in kind.fields), f"{name}: its key {kind.key} is not one of its fields"
    # references may point at web accounts, which are not configured here
    assert MODELS["users"] is m.User and KEYS["users"] == "username"
    assert {f.ref_kind for fields in FIELDS.values() for f in fields if f.type == "ref"} <= set(MODELS)


def test_config_branches_on_no_kind_name():
    """What one kind needs beyond its fields is a hook in its declaration, not an ``if kind ==``."""
    source = (SERVICES / "config.py").read_text()
    assert "kind ==" not in source and "kind in (" not in source


def test_a_hook_declared_for_a_kind_is_what_the_store_calls(db, monkeypatch):
    """The store calls the declaration's hooks: replace one and the store follows it."""
    config = ConfigService(db)
    calls = []

    def check(obj):
        calls.append(("check", obj.name))
        if obj.name == "refused":
            raise ValidationError("refused by the hook")

    kind = KIND_TABLE["trunks"]
    monkeypatch.setitem(KIND_TABLE, "trunks", config_module.Kind(
        kind.name, kind.singular, kind.model, kind.key, kind.fields, check=check,
        used_by=lambda obj: ["the test"], view=lambda obj, pre: {"extra": pre}, preload=lambda: "loaded",
        view_schema={"extra": {"type": "string"}}))
    config.create("trunks", {"name": "pstn", "host": "127.0.0.2"}, actor="t")
    with pytest.raises(ValidationError):
        config.create("trunks", {"name": "refused", "host": "127.0.0.2"}, actor="t")
    assert not m.Trunk.select().where(m.Trunk.name == "refused").exists()
    assert calls == [("check", "pstn"), ("check", "refused")]
    assert config.get("trunks", "pstn")["extra"] is None
    assert config.list("trunks")[0]["extra"] == "loaded"
    assert "extra" in config.output_schema("trunks")["properties"]
    with pytest.raises(Conflict, match="still used by the test"):
        config.delete("trunks", "pstn", actor="t")


def test_what_a_voice_menu_names_cannot_be_renamed_or_deleted_under_it(db):
    """The named_by hook of queues, agents and phones (menus name them by key, not by row)."""
    config = ConfigService(db)
    config.create("queues", {"name": "sales"}, actor="t")
    config.create("phones", {"extension": "1001", "secret": "s3cret-pass"}, actor="t")
    menu = m.Menu.create(name="main", timeout_action="extension", timeout_target="1001")
    m.MenuOption.create(menu=menu, digit="1", action="queue", target="sales")
    with pytest.raises(Conflict, match=r"queue sales cannot be renamed: voice menus lead to it \(menu main \(key 1\)\)"):
        config.update("queues", "sales", {"name": "sales2"}, actor="t")
    with pytest.raises(Conflict, match=r"queue sales is still used by menu main \(key 1\)") as refused:
        config.delete("queues", "sales", actor="t")
    assert refused.value.code == "queues.in_use"
    with pytest.raises(Conflict, match="phone 1001 is still used by menu main$"):
        config.delete("phones", "1001", actor="t")
    config.update("queues", "sales", {"display_name": "Sales"}, actor="t")  # not a rename: allowed
    m.MenuOption.delete().execute()
    config.update("queues", "sales", {"name": "sales2"}, actor="t")
    config.delete("queues", "sales2", actor="t")
