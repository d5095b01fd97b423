"""Voice menus and prompts through the real WSGI app: the JSON API and the admin pages."""

from __future__ import annotations

from test_menus import wav_bytes
from test_webui import env, sign_in, token_for  # noqa: F401 (fixtures and helpers)


def test_menu_api_create_tree_keys_and_problems(env):
    admin, sup = token_for(env, "admin"), token_for(env, "sup")
    env.deps.config.create("queues", {"name": "sales"}, actor="t")
    app = env.app
    made = app.post_json("/api/v1/menus", {"name": "main", "prompt": "en-hello", "live": True, "options": [
        {"digit": "1", "action": "queue", "target": "sales"}]}, headers=admin, status=201).json
    assert made["options"] == [{"digit": "1", "action": "queue", "target": "sales", "enabled": True}]
    app.post_json("/api/v1/menus", {"name": "sub", "prompt": "en-hello"}, headers=sup, status=403)
    bad = app.put_json("/api/v1/menus/main/options/2", {"action": "menu", "target": "nowhere"}, headers=admin,
                       status=422).json
    assert bad["error"] == "menus.invalid" and "no menu 'nowhere'" in bad["message"]
    app.put_json("/api/v1/menus/main/options/%23", {"action": "hangup"}, headers=admin, status=200)
    tree = app.get("/api/v1/menus/main/tree", headers=sup).json
    assert [s["key"] for s in tree["steps"]] == ["1", "#", "invalid", "timeout"]
    app.delete("/api/v1/menus/main/options/%23", headers=admin, status=200)
    assert app.delete("/api/v1/queues/sales", headers=admin, status=409).json["error"] == "queues.in_use"
    assert [m["name"] for m in app.get("/api/v1/menus", headers=sup).json["items"]] == ["main"]
    spec = app.get("/api/openapi.json", headers=sup).json
    assert "/api/v1/menus/{menu}/options/{digit}" in spec["paths"] and "MenuCreate" in spec["components"]["schemas"]


def test_prompt_upload_converted_or_refused_clearly(env):
    admin = token_for(env, "admin")
    ok = env.app.post("/api/v1/prompts", {"name": "welcome", "language": "zh_CN"}, headers=admin,
                      upload_files=[("file", "welcome.wav", wav_bytes(seconds=0.5))], status=201).json
    assert ok["source"] == "upload" and ok["present"] and ok["source_rate"] == 44100
    silent = env.app.post("/api/v1/prompts", {"name": "blank"}, headers=admin,
                          upload_files=[("file", "blank.wav", wav_bytes(seconds=0.5, amplitude=0.0))],
                          status=422).json
    assert silent["error"] == "prompt.silent"
    mp3 = env.app.post("/api/v1/prompts", {"name": "song"}, headers=admin,
                       upload_files=[("file", "song.mp3", b"ID3\x04" + b"\x00" * 64)], status=422).json
    assert mp3["error"] == "prompt.mp3_unsupported"


def form_to(page, action, field=None):
    return next(f for f in page.forms.values() if f.action == action and (field is None or field in f.fields))


def test_menu_pages_show_the_tree_and_add_skip_remove_a_step(env):
    env.deps.config.create("queues", {"name": "sales"}, actor="t")
    sign_in(env.app, "admin")
    page = env.app.get("/admin/menus")
    form = form_to(page, "/admin/menus")
    form["name"], form["prompt"] = "main", "en-hello"
    page = form.submit().follow()
    assert "main" in page.text and "Keys" in page.text
    form = form_to(page, "/admin/menus/main/options", "target")
    form["digit"], form["action"], form["target"] = "1", "queue", "sales"
    page = form.submit().follow()
    assert "queue" in page.text and "sales" in page.text
    skip = [f for f in page.forms.values() if f.action.endswith("/options") and "digit" in f.fields
            and f["digit"].value == "1" and "enabled" not in f.fields][0]
    page = skip.submit().follow()
    assert "skipped" in page.text
    env.app.get("/admin/menus").mustcontain("main", "Prompts", "en-hello")
