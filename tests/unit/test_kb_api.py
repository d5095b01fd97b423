"""The knowledge base through the real WSGI app: who may write and who only reads, a search
full of FTS syntax answered (never a 500) through the API and the page, Chinese found and
highlighted with the writer's markup escaped, the editor's form with a file (refused past
the cap with what was typed kept), downloads as attachments with a safe name, drafts and
categories."""

from __future__ import annotations

from test_webui import env, seed_agents, sign_in, token_for  # noqa: F401  (env is a fixture)

from appliance.db import models as m
from webui.areas import kb as area

BODY = "## 退货流程\n客户收到商品 7 天内可申请退货。<script>alert(1)</script>"


def write(env, headers, **more):  # noqa: F811
    return env.app.post_json("/api/v1/kb/articles", {"title": "退货说明", "body": BODY, **more}, headers=headers).json


def post_editor(env, fields: dict, upload: tuple):  # noqa: F811
    """The editor's form as the browser posts it (its own fields, the typed ones, a file)."""
    form = env.app.get("/kb/new").forms["kb-form"]
    params = [(k, v) for k, v in form.submit_fields() if k != "files" and k not in fields] + list(fields.items())
    return env.app.post("/kb/new", params, upload_files=[("files", *upload)], expect_errors=True)


def test_staff_write_agents_read_published_only(env):  # noqa: F811
    seed_agents(env.deps.config)
    admin, sup, alice = (token_for(env, n) for n in ("admin", "sup", "alice"))
    a = write(env, sup, queues=["sales"], tags=["售后"])  # supervisors write too
    draft = write(env, admin, title="Draft", published=False)
    assert env.app.post_json("/api/v1/kb/articles", {"title": "x"}, headers=alice, expect_errors=True).status_int == 403
    assert env.app.put_json(f"/api/v1/kb/articles/{a['id']}", {"title": "x"}, headers=alice,
                            expect_errors=True).status_int == 403
    assert env.app.delete(f"/api/v1/kb/articles/{a['id']}", headers=alice, expect_errors=True).status_int == 403
    assert env.app.post_json("/api/v1/kb/categories", {"name": "x"}, headers=alice, expect_errors=True).status_int == 403
    listed = env.app.get("/api/v1/kb/articles?queue=sales", headers=alice).json
    assert [i["title"] for i in listed["items"]] == ["退货说明"] and listed["items"][0]["queues"] == ["sales"]
    assert env.app.get(f"/api/v1/kb/articles/{draft['id']}", headers=alice, expect_errors=True).status_int == 404
    assert env.app.get(f"/api/v1/kb/articles/{draft['id']}", headers=sup).json["published"] is False
    got = env.app.get(f"/api/v1/kb/articles/{a['id']}", headers=alice).json
    assert "&lt;script&gt;" in got["body_html"] and "<script>" not in got["body_html"]
    stale = env.app.put_json(f"/api/v1/kb/articles/{a['id']}", {"title": "新", "version": got["version"] + 5},
                             headers=admin, expect_errors=True)
    assert stale.status_int == 409 and stale.json["error"] == "kb.changed"
    assert env.app.delete(f"/api/v1/kb/articles/{a['id']}", headers=admin).status_int == 204
    assert [r.action for r in m.AuditLog.select().where(m.AuditLog.object_type == "kb_articles")] == [
        "create", "create", "delete"]


def test_fts_syntax_through_the_api_and_the_page_is_never_a_500(env):  # noqa: F811
    admin = token_for(env, "admin")
    write(env, admin)
    for q in ('"', '退货"流程', "退货*", "AND", "NEAR(退货 流程)", "(", "-退货", "a:b", "^x", "OR NOT", "%_\\"):
        res = env.app.get("/api/v1/kb/articles", {"q": q}, headers=admin)
        assert res.status_int == 200, q
    found = env.app.get("/api/v1/kb/articles", {"q": "退货流程"}, headers=admin).json["items"][0]
    assert [p["text"] for p in found["snippet"] if p["mark"]] == ["退货流程"]
    too_long = env.app.get("/api/v1/kb/articles", {"q": "x" * 101}, headers=admin, expect_errors=True)
    assert too_long.status_int == 422 and too_long.json["error"] == "kb.query_too_long"
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    page = env.app.get("/kb", {"q": "退货流程"})
    assert page.html.select_one("#kb-results mark").text == "退货流程"
    snippet = page.html.select_one(".kb-snippet")
    assert "<script>" in snippet.text and snippet.select("script") == []  # the writer's markup as text
    assert env.app.get("/kb", {"q": 'NEAR("退货'}).status_int == 200
    refused = env.app.get("/kb", {"q": "长" * 101})
    assert "搜索内容最多 100 个字符" in refused.html.select_one("#problem").text


def test_the_editor_with_a_file_and_the_download(env, monkeypatch):  # noqa: F811
    seed_agents(env.deps.config)
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    res = post_editor(env, {"title": "报价", "body": "见附件。", "tags": "价格, 销售", "queues": "sales"},
                      ("报价单 2026.pdf", b"%PDF-1.4 quote")).follow()
    assert res.html.select_one("#kb-article-title").text == "报价"
    link = res.html.select_one("#kb-files a")
    assert link.text == "报价单 2026.pdf"
    download = env.app.get(link["href"])
    assert download.body == b"%PDF-1.4 quote" and download.content_type == "application/octet-stream"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"___ 2026.pdf\"; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95%202026.pdf")
    assert area.content_disposition('a"b\\c;.pdf') == (
        "attachment; filename=\"a_b_c;.pdf\"; filename*=UTF-8''a%22b%5Cc%3B.pdf")
    agent = env.app.get(link["href"], headers=token_for(env, "alice"))
    assert agent.body == b"%PDF-1.4 quote"
    # a file over the cap: refused before anything is saved, what was typed still there
    monkeypatch.setattr(area, "MAX_ATTACHMENT_BYTES", 10)
    refused = post_editor(env, {"title": "第二篇", "body": "正文保留"}, ("big.bin", b"x" * 11))
    assert refused.status_int == 413 and "big.bin 超过 0 MB" in refused.html.select_one("#problem").text
    assert refused.html.select_one("#kb-body-text").text == "正文保留" and m.KbArticle.select().count() == 1
    audit = env.app.get("/admin/audit").html.select_one("#audit").text  # the changes, in the reader's words
    assert "知识库文章" in audit and "添加附件" in audit and "报价单 2026.pdf" in audit


def test_categories_page_and_api(env):  # noqa: F811
    admin = token_for(env, "admin")
    top = env.app.post_json("/api/v1/kb/categories", {"name": "售后"}, headers=admin).json
    sub = env.app.post_json("/api/v1/kb/categories", {"name": "退货", "parent": top["id"]}, headers=admin).json
    deep = env.app.post_json("/api/v1/kb/categories", {"name": "x", "parent": sub["id"]}, headers=admin,
                             expect_errors=True)
    assert deep.status_int == 422 and deep.json["fields"]["parent"] == "categories are two levels at most"
    write(env, admin, category=sub["id"])
    tree = env.app.get("/api/v1/kb/categories", headers=token_for(env, "alice")).json["items"]
    assert tree[0]["children"][0]["name"] == "退货" and tree[0]["children"][0]["articles"] == 1
    in_use = env.app.delete(f"/api/v1/kb/categories/{sub['id']}", headers=admin, expect_errors=True)
    assert in_use.status_int == 409 and in_use.json["params"] == {"articles": "1", "children": "0"}
    env.users.set_language(env.ids["admin"], "zh_CN")
    sign_in(env.app, "admin")
    page = env.app.get(f"/kb?category={top['id']}")
    assert [li.select_one(".kb-title").text for li in page.html.select("#kb-results li[data-id]")] == ["退货说明"]
    form = env.app.get("/kb/categories").forms["kb-category-new"]
    form["name"] = "售后"
    clash = form.submit(expect_errors=True)
    assert clash.status_int == 409 and "同级已有同名分类" in clash.html.select_one("#problem").text
