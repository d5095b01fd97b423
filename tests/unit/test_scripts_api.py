"""Call scripts through the real WSGI app: a script refused with the reason and written by an
admin only; the agent's walk on their call (test_webui's live snapshot: 1001 talking with
13800000001 on sales), a wrong type refused with the field's rule in the reader's language,
If-Match on the customer's version, another agent refused; what was said, scoped."""

from __future__ import annotations

from test_scripts import TWO_BRANCHES, step
from test_webui import env, seed_agents, token_for  # noqa: F401  (env is a fixture)

from appliance.db import models as m


def setup(env):  # noqa: F811
    seed_agents(env.deps.config)
    for name, kind, choices in (("level", "choice", "gold,silver"), ("budget", "number", "")):
        env.deps.config.create("customer_fields", {"name": name, "label": name, "type": kind, "choices": choices},
                               actor="t")
    admin = token_for(env, "admin")
    env.app.post_json("/api/v1/customers", {"name": "王芳", "phone": "13800000001", "account_manager": "1002"},
                      headers=admin)
    return admin


def test_scripts_are_refused_with_the_reason_and_written_by_admins(env):  # noqa: F811
    admin = setup(env)
    bad = env.app.post_json("/api/v1/scripts", {"name": "x", "label": "X", "steps": [step("a"), step("b")]},
                            headers=admin, expect_errors=True)
    assert bad.status_int == 422 and bad.json["fields"]["steps"] == "no way leads to b from a"
    body = {"name": "welcome", "label": "欢迎", "steps": TWO_BRANCHES, "queues": ["sales"]}
    assert env.app.post_json("/api/v1/scripts", body, headers=token_for(env, "sup"), expect_errors=True
                             ).status_int == 403
    made = env.app.post_json("/api/v1/scripts", body, headers=admin)
    assert made.status_int == 201 and made.json["queues"] == ["sales"]
    assert env.app.get("/api/v1/scripts", headers=token_for(env, "alice"), expect_errors=True).status_int == 403
    env.app.delete(f"/api/v1/scripts/{made.json['id']}", headers=admin)
    assert env.app.get("/api/v1/scripts", headers=admin).json["items"] == []


def test_an_agent_walks_their_calls_script_and_a_wrong_type_is_refused_in_their_language(env):  # noqa: F811
    admin = setup(env)
    env.app.post_json("/api/v1/scripts", {"name": "welcome", "label": "欢迎", "steps": TWO_BRANCHES,
                                          "queues": ["sales"]}, headers=admin)
    alice, bob = token_for(env, "alice"), token_for(env, "bob")
    walk = env.app.get("/api/v1/scripts/calls/1.1/1001", headers=alice).json
    assert (walk["current"], walk["customer"]["name"]) == ("greet", "王芳")  # not her customer: the caller
    assert env.app.get("/api/v1/scripts/calls/1.1/1001", headers=bob, expect_errors=True).status_int == 403
    url = "/api/v1/scripts/calls/1.1/1001/answers"
    env.app.post_json(url, {"step": "greet"}, headers=alice)
    walk = env.app.post_json(url, {"step": "ask", "answer": "silver"},
                             headers={**alice, "If-Match": f'"{walk["customer"]["version"]}"'}).json
    assert walk["current"] == "offer"
    env.app.post_json(url, {"step": "offer"}, headers=alice)
    for lang, words in (("en", "a number"), ("zh_CN", "数字")):
        m.User.update(language=lang).where(m.User.username == "alice").execute()
        wrong = env.app.post_json(url, {"step": "budget", "answer": "lots"}, headers=alice, expect_errors=True)
        assert wrong.status_int == 422 and wrong.json["error"] == "scripts.bad_answer"
        assert words in wrong.json["params"]["problem"]
    stale = env.app.post_json(url, {"step": "budget", "answer": "12"}, headers={**alice, "If-Match": '"0"'},
                              expect_errors=True)
    assert stale.status_int == 409 and stale.json["error"] == "customers.changed"
    runs = env.app.get("/api/v1/scripts/runs?linkedid=1.1", headers=token_for(env, "sup")).json["items"]
    assert [p["step"] for p in runs[0]["path"]] == ["greet", "ask", "offer"]
    assert env.app.get("/api/v1/scripts/runs", headers=bob).json["items"] == []
