"""The knowledge base over a real database: search in Chinese and English through the FTS5
trigram index the migration's triggers keep in step (and LIKE under three characters),
FTS syntax in the search box searched for and never an error, ranking and escaped
highlights, categories of two levels, drafts hidden from agents, attachments capped while
they are copied, the Markdown subset escaped, and every change audited."""

from __future__ import annotations

import io

import pytest

from appliance.db import models as m
from appliance.engine import kb as engine
from appliance.errors import Conflict, NotFound, TooLarge, ValidationError
from appliance.services.crm import Viewer
from appliance.services.kb import KnowledgeBase

ADMIN = Viewer("root", "admin")
AGENT = Viewer("alice", "agent", frozenset({"1001"}))
RETURNS = ("## 退货流程\n客户收到商品 7 天内可以申请退货。请先核对订单号，再按**退货流程**登记。\n\n"
           "- 核对订单\n- 登记原因\n- 安排上门取件")


@pytest.fixture
def kb(db, tmp_path):
    m.Queue.create(name="sales")
    m.Queue.create(name="support")
    return KnowledgeBase(db, data_dir=tmp_path / "data")


def write(kb, title, body, **more):
    return kb.create({"title": title, "body": body, **more}, "root")


def titles(result) -> list[str]:
    return [i["title"] for i in result["items"]]


def test_chinese_search_finds_the_article_and_highlights_it(kb):
    article = write(kb, "退货说明", RETURNS, tags="售后,退货")
    write(kb, "Opening hours", "We open at nine.")
    found = kb.search(AGENT, q="退货流程")
    assert titles(found) == ["退货说明"] and found["total"] == 1
    marked = [p["text"] for p in found["items"][0]["snippet"] if p["mark"]]
    assert marked and all("退货流程" in t for t in marked)
    quoted = "".join(p["text"] for p in found["items"][0]["snippet"])
    assert "退货流程" in quoted and "**" not in quoted and "##" not in quoted  # the text, not its Markdown
    assert titles(kb.search(AGENT, q="上门取件")) == ["退货说明"]  # a phrase inside a list item
    assert titles(kb.search(AGENT, q="退货")) == ["退货说明"]  # two characters: LIKE
    assert titles(kb.search(AGENT, q="货")) == ["退货说明"]
    assert kb.search(AGENT, q="换货流程")["items"] == []
    assert titles(kb.search(AGENT, q="退货\x00流程")) == ["退货说明"]  # a NUL is a control character: dropped from the terms (it ends FTS5 strings)
    # changed: the index follows (the update trigger), the old words are gone
    kb.update(article["id"], {"title": "换货说明", "body": "换货流程如下"}, "root")
    assert kb.search(AGENT, q="退货流程")["items"] == [] and titles(kb.search(AGENT, q="换货流程")) == ["换货说明"]
    kb.delete(article["id"], "root")
    assert kb.search(AGENT, q="换货流程")["items"] == []
    assert m.KbArticle.select().count() == 1
    indexed = m.KbArticle._meta.database.execute_sql("SELECT id FROM kb_fts_docsize").fetchall()
    assert indexed == [(m.KbArticle.get().id,)]  # the index holds the articles there are, each once


def test_english_prefixes_and_inner_words_match_as_trigrams_allow(kb):
    write(kb, "Refund policy", "Refunds are processed within five working days.")
    write(kb, "Delivery", "Parcels leave the warehouse at noon.")
    assert titles(kb.search(AGENT, q="refund")) == ["Refund policy"]  # prefix of "Refunds", any case
    assert titles(kb.search(AGENT, q="PROCESS")) == ["Refund policy"]
    assert titles(kb.search(AGENT, q="house")) == ["Delivery"]  # inside "warehouse"
    assert titles(kb.search(AGENT, q="refund days")) == ["Refund policy"]  # every term
    assert kb.search(AGENT, q="refund noon")["items"] == []
    assert titles(kb.search(AGENT, q="at")) == ["Delivery"]  # under three characters: LIKE
    assert len(kb.search(AGENT, q="re")["items"]) == 2


def test_fts_syntax_in_the_search_box_is_searched_for_never_an_error(kb):
    write(kb, "Quotes", 'Say "hello" to NEAR friends (and) AND others - a*b ^x col:umn')
    write(kb, "Plain", "Nothing special here.")
    for q in ('"', '"hello', "hello*", "AND", "OR", "NOT", "NEAR", "NEAR(a b)", "(", ")", "-", "- friends",
              "a*b", "^x", "col:umn", '""""', "'", "\\", "%", "_", "*", "hello OR", "{title}:x", "title:Quotes"):
        kb.search(AGENT, q=q)  # none raises
    assert titles(kb.search(AGENT, q='"hello"')) == ["Quotes"]
    assert titles(kb.search(AGENT, q="(and)")) == ["Quotes"]
    assert titles(kb.search(AGENT, q="a*b")) == ["Quotes"]
    assert titles(kb.search(AGENT, q="NEAR")) == ["Quotes"]
    assert kb.search(AGENT, q="%")["items"] == [] and kb.search(AGENT, q="_")["items"] == []  # LIKE's own, escaped
    with pytest.raises(ValidationError) as too_long:
        kb.search(AGENT, q="x" * 101)
    assert too_long.value.code == "kb.query_too_long"


def test_ranked_by_bm25_title_first_and_snippets_are_text(kb):
    write(kb, "Printer jams", "Open the tray.")
    write(kb, "Toner", "If the printer jams after a toner change, see the printer guide. printer printer")
    assert titles(kb.search(AGENT, q="printer")) == ["Printer jams", "Toner"]  # the title weighs ten times
    with pytest.raises(ValidationError) as markup:
        write(kb, "Script <b>", "x")  # a title holds no markup
    assert "title" in markup.value.fields
    evil = write(kb, "Evil", "<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://example.cn/a?b=1&c=2)")
    parts = kb.search(AGENT, q="script")["items"][0]["snippet"]
    assert "".join(p["text"] for p in parts).startswith("<script>")  # text, for the page to escape
    assert "<script>" not in evil["body_html"] and "&lt;script&gt;" in evil["body_html"]
    assert 'href="javascript' not in evil["body_html"]
    assert '<a href="https://example.cn/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">ok</a>' in evil["body_html"]


def test_markdown_subset_is_rendered_and_everything_else_escaped():
    html = engine.render_markdown("# Title\n\nA **bold** and *it* and `<b>` [home](/kb)\n"
                                  "line two\n\n1. one\n2. two\n\n> quote <i>\n\n```\n<raw> & **no**\n```")
    assert "<h3>Title</h3>" in html and "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<code>&lt;b&gt;</code>" in html and '<a href="/kb">home</a>' in html and "A" in html
    assert "<br>line two" in html and "<ol><li>one</li><li>two</li></ol>" in html
    assert "<blockquote><p>quote &lt;i&gt;</p></blockquote>" in html
    assert "<pre><code>&lt;raw&gt; &amp; **no**</code></pre>" in html
    for target in ("javascript:alert(1)", "//evil.example/x", "data:text/html,x", "JaVaScRiPt:x", "/\\evil"):
        assert "href" not in engine.render_markdown(f"[x]({target})"), target
    assert engine.plain_text("## T\n- **a** [b](/x) `c`\n```\nx*y\n```", "markdown") == "T\na b c\nx*y"
    assert engine.plain_text("**kept**", "text") == "**kept**"
    assert engine.render_text("a <b>\nc\n\nd") == "<p>a &lt;b&gt;<br>c</p>\n<p>d</p>"
    assert engine.safe_filename("C:\\Users\\x\\..\\报价单 2026.pdf") == "报价单 2026.pdf"
    assert engine.safe_filename("../../etc/passwd") == "passwd" and engine.safe_filename("a\x00b\n") == "ab"
    assert engine.safe_filename("...") == "file" and len(engine.safe_filename("x" * 300 + ".pdf")) == 200


def test_categories_two_levels_filter_and_refused_deletes(kb):
    top = kb.save_category({"name": "售后"}, "root")
    sub = kb.save_category({"name": "退货", "parent": top["id"]}, "root")
    with pytest.raises(ValidationError) as deep:
        kb.save_category({"name": "更深", "parent": sub["id"]}, "root")
    assert deep.value.fields["parent"].msgid == "kb.two_levels"
    with pytest.raises(ValidationError) as moved:
        kb.save_category({"name": "售后", "parent": kb.save_category({"name": "其他"}, "root")["id"]}, "root",
                         top["id"])
    assert moved.value.fields["parent"].msgid == "kb.has_children"
    with pytest.raises(Conflict):
        kb.save_category({"name": "退货", "parent": top["id"]}, "root")
    write(kb, "退货说明", RETURNS, category=sub["id"])
    write(kb, "Elsewhere", "nothing")
    assert titles(kb.search(AGENT, category=top["id"])) == ["退货说明"]  # a top-level one holds its children's
    tree = kb.categories()
    assert [c["name"] for c in tree] == ["其他", "售后"] and tree[1]["children"][0]["articles"] == 1
    with pytest.raises(Conflict) as in_use:
        kb.delete_category(sub["id"], "root")
    assert in_use.value.code == "kb.category_in_use" and in_use.value.params["articles"] == "1"
    with pytest.raises(Conflict):
        kb.delete_category(top["id"], "root")
    with pytest.raises(ValidationError):
        write(kb, "x", "y", category=99)


def test_queues_tags_drafts_versions_and_audit(kb):
    a = write(kb, "Greeting", "Say hello", queues=["sales"], tags="opening, 问候")
    write(kb, "Draft", "Not yet", queues="sales,support", published=False)
    assert a["queues"] == ["sales"] and a["tags"] == ["opening", "问候"]
    assert titles(kb.search(AGENT, queue="sales")) == ["Greeting"]  # the draft: editors only
    assert titles(kb.search(ADMIN, queue="sales")) == ["Draft", "Greeting"]
    assert titles(kb.search(AGENT, queue="support")) == []
    assert titles(kb.search(AGENT, tag="问候")) == ["Greeting"] and kb.search(AGENT, tag="问")["items"] == []
    draft = m.KbArticle.get(title="Draft")
    with pytest.raises(NotFound):
        kb.get(AGENT, draft.id)
    with pytest.raises(ValidationError) as bad_queue:
        write(kb, "x", "y", queues=["nope"])
    assert bad_queue.value.fields["queues"] == "no queue nope"
    changed = kb.update(a["id"], {"title": "Greeting", "body": "Say 您好", "version": a["version"]}, "root")
    assert changed["version"] == a["version"] + 1 and changed["queues"] == []
    with pytest.raises(Conflict) as stale:  # an editor who loaded the first version
        kb.update(a["id"], {"title": "Greeting", "body": "old", "version": a["version"]}, "root")
    assert stale.value.code == "kb.changed"
    actions = [(r.action, r.object_type) for r in m.AuditLog.select().order_by(m.AuditLog.id)]
    assert actions == [("create", "kb_articles"), ("create", "kb_articles"), ("update", "kb_articles")]


def test_attachments_capped_while_copied_and_gone_with_their_article(db, tmp_path):
    m.Queue.create(name="sales")
    kb = KnowledgeBase(db, data_dir=tmp_path / "data", max_attachment_bytes=1000, max_store_bytes=2500)
    a = write(kb, "Manual", "See the file.")
    att = kb.attach(a["id"], "../报价单.pdf", io.BytesIO(b"%PDF" + b"x" * 996), "root")
    assert (att["filename"], att["size"]) == ("报价单.pdf", 1000)
    view, path = kb.attachment(AGENT, att["id"])
    assert path.read_bytes().startswith(b"%PDF") and path.parent == tmp_path / "data" / "kb" / str(a["id"])
    with pytest.raises(TooLarge) as big:
        kb.attach(a["id"], "big.bin", io.BytesIO(b"x" * 1001), "root")
    assert big.value.code == "kb.too_large" and big.value.params["mb"] == "0"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # the partial copy is gone
    with pytest.raises(ValidationError) as empty:
        kb.attach(a["id"], "empty.txt", io.BytesIO(b""), "root")
    assert empty.value.code == "kb.empty_file"
    kb.attach(a["id"], "two.bin", io.BytesIO(b"y" * 1000), "root")
    with pytest.raises(TooLarge) as full:  # 2000 of 2500 used: 501 bytes do not fit
        kb.attach(a["id"], "three.bin", io.BytesIO(b"z" * 501), "root")
    assert full.value.code == "kb.store_full"
    assert [f["filename"] for f in kb.get(AGENT, a["id"])["attachments"]] == ["报价单.pdf", "two.bin"]
    kb.detach(att["id"], "root")
    assert not path.exists()
    kb.delete(a["id"], "root")
    assert not (tmp_path / "data" / "kb" / str(a["id"])).exists() and not m.KbAttachment.select().exists()
    assert [r.action for r in m.AuditLog.select().order_by(m.AuditLog.id)] == ["create", "attach", "attach",
                                                                                "detach", "delete"]
