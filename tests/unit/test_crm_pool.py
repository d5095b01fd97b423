"""An agent and the customers that are not theirs: the shared pool (公海) an admin turns on,
claiming from it (one winner), and reading the record of whoever is calling them, over a
real SQLite file and the real Bottle app."""

from __future__ import annotations

import datetime as dt

from appliance.db import models as m
from test_crm import api, crm, make  # noqa: F401  (crm is a fixture)
from test_webui import env, session_for  # noqa: F401  (env is a fixture)


def seed(env):
    """Alice's, Bob's and nobody's customer (the fixture's agents: 1001 alice, 1002 bob)."""
    mine = make(env, "admin", name="Mine", phone="13800000011", account_manager="1001").json
    bobs = make(env, "admin", name="Bob's", phone="13800000012", account_manager="1002").json
    nobody = make(env, "admin", name="Nobody's", phone="13800000013").json
    return mine, bobs, nobody


def pool_on(env, **more):
    res = env.app.put_json("/api/v1/customers/pool/settings", {"enabled": True, **more},
                           headers=api(env, "admin"), expect_errors=True)
    assert res.status_int == 200, res.json
    return res.json


def status(env, who, path):
    return env.app.get(path, headers=api(env, who), expect_errors=True).status_int


def test_the_pool_is_off_until_an_admin_turns_it_on(crm):  # noqa: F811
    _mine, bobs, nobody = seed(crm)
    alice = api(crm, "alice")
    assert crm.app.get("/api/v1/customers/pool/settings", headers=alice).json == {"enabled": False, "limit": 0}
    page = crm.app.get("/api/v1/customers/pool", headers=alice).json
    assert (page["items"], page["total"], page["pool"]) == ([], 0, {"enabled": False, "limit": 0})
    assert status(crm, "alice", f"/api/v1/customers/{nobody['id']}") == 404
    res = crm.app.post(f"/api/v1/customers/{nobody['id']}/claim", headers=alice, expect_errors=True)
    assert res.status_int == 409 and res.json["error"] == "customers.pool_off"
    assert m.Customer.get_by_id(nobody["id"]).account_manager is None
    # staff see the customers of nobody, pool or not
    assert [c["name"] for c in crm.app.get("/api/v1/customers/pool", headers=api(crm, "sup")).json["items"]] == [
        "Nobody's"]
    # only an admin turns it on
    for who in ("alice", "sup"):
        res = crm.app.put_json("/api/v1/customers/pool/settings", {"enabled": True}, headers=api(crm, who),
                               expect_errors=True)
        assert res.status_int == 403, who
    res = crm.app.put_json("/api/v1/customers/pool/settings", {"enabled": "yes", "limit": -1},
                           headers=api(crm, "admin"), expect_errors=True)
    assert res.status_int == 422 and set(res.json["fields"]) == {"enabled", "limit"}
    assert pool_on(crm) == {"enabled": True, "limit": 0}
    page = crm.app.get("/api/v1/customers/pool", headers=alice).json
    assert [c["name"] for c in page["items"]] == ["Nobody's"] and page["held"] == 1 and page["pool"]["enabled"]
    # a pool customer is readable, not changeable; someone else's is still not found
    assert crm.app.get(f"/api/v1/customers/{nobody['id']}", headers=alice).json["name"] == "Nobody's"
    assert status(crm, "alice", f"/api/v1/customers/{nobody['id']}/history") == 200
    res = crm.app.patch_json(f"/api/v1/customers/{nobody['id']}", {"name": "x"}, headers=alice, expect_errors=True)
    assert res.status_int == 404
    res = crm.app.post_json(f"/api/v1/customers/{nobody['id']}/notes", {"body": "x"}, headers=alice,
                            expect_errors=True)
    assert res.status_int == 404
    assert status(crm, "alice", f"/api/v1/customers/{bobs['id']}") == 404
    cookie, _csrf = session_for(crm, "alice")
    page = crm.app.get(f"/customers/{nobody['id']}", headers=cookie)
    assert "in the shared pool" in page.text and 'id="claim"' in page.text and 'id="edit"' not in page.text
    assert crm.app.get(f"/customers/{bobs['id']}", headers=cookie, expect_errors=True).status_int == 404
    audit = crm.app.get("/api/v1/audit?limit=1", headers=api(crm, "admin")).json["items"][0]
    assert (audit["object_type"], audit["username"]) == ("customer_pool", "admin")


def test_two_agents_claim_the_same_customer_one_wins(crm):  # noqa: F811
    _mine, _bobs, nobody = seed(crm)
    pool_on(crm)
    # both saw it in the pool; alice's claim lands first
    for who in ("alice", "bob"):
        assert [c["id"] for c in crm.app.get("/api/v1/customers/pool", headers=api(crm, who)).json["items"]] == [
            nobody["id"]]
    won = crm.app.post(f"/api/v1/customers/{nobody['id']}/claim", headers=api(crm, "alice"))
    assert won.json["account_manager"] == "1001"
    lost = crm.app.post(f"/api/v1/customers/{nobody['id']}/claim", headers=api(crm, "bob"), expect_errors=True)
    assert lost.status_int == 409 and lost.json["error"] == "customers.claimed"
    assert m.Customer.get_by_id(nobody["id"]).account_manager.number == "1001"
    # alice's second click changes nothing; the pool is empty; the claim is audited and shown
    assert crm.app.post(f"/api/v1/customers/{nobody['id']}/claim",
                        headers=api(crm, "alice")).json["account_manager"] == "1001"
    assert crm.app.get("/api/v1/customers/pool", headers=api(crm, "bob")).json["total"] == 0
    claims = m.AuditLog.select().where(m.AuditLog.action == "claim")
    assert [(a.username, a.object_id) for a in claims] == [("alice", str(nobody["id"]))]
    cookie, _csrf = session_for(crm, "alice")
    page = crm.app.get(f"/customers/{nobody['id']}", headers=cookie)
    assert "Claimed from the shared pool for agent 1001 by alice" in page.text and 'id="edit"' in page.text
    # someone else's customer cannot be claimed; a missing one is not found
    res = crm.app.post(f"/api/v1/customers/{_bobs['id']}/claim", headers=api(crm, "alice"), expect_errors=True)
    assert res.status_int == 409
    assert crm.app.post("/api/v1/customers/99999/claim", headers=api(crm, "alice"),
                        expect_errors=True).status_int == 404


def test_the_pools_limit_and_staff_still_assign(crm):  # noqa: F811
    _mine, _bobs, nobody = seed(crm)
    other = make(crm, "admin", name="Other", phone="13800000014").json
    pool_on(crm, limit=2)
    assert crm.app.post(f"/api/v1/customers/{nobody['id']}/claim", headers=api(crm, "alice")).status_int == 200
    res = crm.app.post(f"/api/v1/customers/{other['id']}/claim", headers=api(crm, "alice"), expect_errors=True)
    assert res.status_int == 409 and res.json["error"] == "customers.claim_limit" and res.json["params"] == {
        "limit": 2}
    assert m.Customer.get_by_id(other["id"]).account_manager is None
    cookie, csrf = session_for(crm, "alice")  # the pool page says it with the number
    page = crm.app.post(f"/customers/{other['id']}/claim", {"csrf_token": csrf}, headers=cookie, expect_errors=True)
    assert page.status_int == 409 and "You hold 2 customers, the most the shared pool allows." in page.text
    # a team leader assigns and reclaims as before, the limit notwithstanding
    res = crm.app.post_json("/api/v1/customers/assign", {"customers": [other["id"]], "agent": "1001"},
                            headers=api(crm, "sup"))
    assert res.json == {"assigned": 1}
    crm.app.post_json("/api/v1/customers/assign", {"customers": [nobody["id"]], "agent": None},
                      headers=api(crm, "sup"))
    assert crm.app.get("/api/v1/customers/pool", headers=api(crm, "bob")).json["total"] == 1
    # an account without an agent has nothing to claim for
    crm.users.create("carol", "correct-horse-9", "agent", language="en")
    carol = {"Authorization": "Bearer " + crm.users.create_token(crm.users.authenticate(
        "carol", "correct-horse-9")["id"], "t")}
    res = crm.app.post(f"/api/v1/customers/{nobody['id']}/claim", headers=carol, expect_errors=True)
    assert res.status_int == 403 and res.json["error"] == "customers.no_agent"


def test_an_agent_reads_the_caller_of_their_call_and_no_other(crm):  # noqa: F811
    _mine, bobs, _nobody = seed(crm)
    bobs_other = make(crm, "admin", name="Bob's other", phone="13800000015", account_manager="1002").json
    path = f"/api/v1/customers/{bobs['id']}"
    cookie, _csrf = session_for(crm, "alice")

    def live(*calls):
        crm.deps.live = lambda: {"queues": [], "agents": [], "calls": list(calls)}

    live()
    assert status(crm, "alice", path) == 404
    assert crm.app.get(f"/customers/{bobs['id']}", headers=cookie, expect_errors=True).status_int == 404
    # offered to alice (ringing her agent): she reads the record, read-only
    live({"linkedid": "9.1", "caller": "+8613800000012", "agent": "", "ringing_agents": ["1001"], "state": "ringing"})
    assert crm.app.get(path, headers=api(crm, "alice")).json["name"] == "Bob's"
    page = crm.app.get(f"/customers/{bobs['id']}", headers=cookie)
    assert 'id="read-only"' in page.text and "is calling you" in page.text
    assert 'id="edit"' not in page.text and "/notes" not in page.text and 'id="claim"' not in page.text
    res = crm.app.patch_json(path, {"name": "x"}, headers=api(crm, "alice"), expect_errors=True)
    assert res.status_int == 404
    # only that caller: not another customer of Bob's, not by id guessing
    assert status(crm, "alice", f"/api/v1/customers/{bobs_other['id']}") == 404
    # the same caller talking to Bob: not Alice's call
    live({"linkedid": "9.1", "caller": "13800000012", "agent": "1002", "state": "talking"})
    assert status(crm, "alice", path) == 404
    # connected to Alice
    live({"linkedid": "9.1", "caller": "13800000012", "agent": "1001", "state": "talking"})
    assert status(crm, "alice", path) == 200
    # hung up: the call record keeps it readable for a while, then not
    live()
    ended = m.utcnow() - dt.timedelta(minutes=5)
    record = m.CallRecord.create(linkedid="9.1", caller="13800000012", agent="1001", disposition="answered",
                                 enter_time=ended - dt.timedelta(minutes=3), end_time=ended)
    assert status(crm, "alice", path) == 200 and status(crm, "alice", f"{path}/history") == 200
    assert status(crm, "bob", f"/api/v1/customers/{_mine['id']}") == 404  # Bob took no call from Alice's
    record.end_time = m.utcnow() - dt.timedelta(hours=2)
    record.save()
    assert status(crm, "alice", path) == 404


def test_an_unknown_callers_new_customer_form_has_the_number(crm):  # noqa: F811
    cookie, csrf = session_for(crm, "alice")
    page = crm.app.get("/customers/new?phone=%2B8613900001111", headers=cookie)
    assert 'name="phone" value="+8613900001111"' in page.text
    res = crm.app.post("/customers", {"csrf_token": csrf, "name": "新客户", "phone": "+8613900001111"},
                       headers=cookie)
    assert res.status_int == 302 and res.location.endswith(f"/customers/{m.Customer.get(m.Customer.phone == '+8613900001111').id}")
    assert m.Customer.get(m.Customer.phone == "+8613900001111").account_manager.number == "1001"


def test_openapi_shows_the_pool_and_claim_routes_with_their_roles(crm):  # noqa: F811
    spec = crm.app.get("/api/openapi.json", headers=api(crm, "sup")).json
    paths = spec["paths"]
    assert paths["/api/v1/customers/pool"]["get"]["x-roles"] == ["admin", "agent", "supervisor"]
    assert paths["/api/v1/customers/{customer_id}/claim"]["post"]["x-roles"] == ["admin", "agent", "supervisor"]
    assert paths["/api/v1/customers/pool/settings"]["put"]["x-roles"] == ["admin"]
    assert "customers.claimed" in paths["/api/v1/customers/{customer_id}/claim"]["post"]["description"]
