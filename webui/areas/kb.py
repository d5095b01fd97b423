"""The knowledge base in the web UI and the API (``appliance/services/kb.py``): the list with
its search and category filter (``/kb``), an article's page, the editor (with attachments),
the categories, and ``/api/v1/kb/...``.  The workspace's knowledge panel (``static/kb.js``)
reads the same API: the articles suggested for the call's queue, a search, one article.

Everyone signed in reads published articles and their files; admins and supervisors also
see drafts and write.  Registered by ``install`` from ``make_app``.
"""

from __future__ import annotations

import urllib.parse

import bottle
from bottle import request, response

from appliance.errors import DomainError, FieldError, NotFound, TooLarge, Unavailable, ValidationError
from appliance.services.kb import MAX_ATTACHMENT_BYTES, PER_PAGE
from webui.apidoc import Operation, body, errors, items, resp
from webui.edge import MULTIPART_OVERHEAD
from webui.http import EVERYONE, STAFF, actor, created, json_body, no_content, problem_of, render, viewer
from webui.params import page_arg, query_int

MAX_FILES_PER_POST = 3  # the editor's file picker
EDITOR_BODY_LIMIT = MAX_FILES_PER_POST * MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD
ATTACH_BODY_LIMIT = MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD

PARTS = {"type": "array", "description": "text in parts; `mark`: a part that matched (shown highlighted)",
         "items": {"type": "object", "properties": {"text": {"type": "string"}, "mark": {"type": "boolean"}}}}
CATEGORY_REF = {"type": ["object", "null"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "path": {"type": "string", "description": "上级 / 子类"}}}
SUMMARY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "title": {"type": "string"}, "category": CATEGORY_REF,
    "tags": {"type": "array", "items": {"type": "string"}},
    "queues": {"type": "array", "items": {"type": "string"}, "description": "suggested during these queues' calls"},
    "published": {"type": "boolean", "description": "false: a draft, only admins and supervisors see it"},
    "updated_at": {"type": "string"}, "updated_by": {"type": "string"},
    "title_parts": {**PARTS, "description": "with `q`: the title, matches marked"},
    "snippet": {**PARTS, "description": "with `q`: a piece of the body around the matches"}}}
ATTACHMENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "article": {"type": "integer"}, "filename": {"type": "string"},
    "size": {"type": "integer"}, "created_at": {"type": "string"}, "created_by": {"type": "string"},
    "url": {"type": "string", "description": "the download (`Content-Disposition: attachment`)"}}}
ARTICLE = {"type": "object", "properties": {
    **SUMMARY["properties"], "body": {"type": "string"}, "format": {"enum": ["markdown", "text"]},
    "body_html": {"type": "string", "description": "the body rendered, everything typed escaped"},
    "version": {"type": "integer"}, "created_by": {"type": "string"}, "created_at": {"type": "string"},
    "attachments": {"type": "array", "items": ATTACHMENT}}}
ARTICLE_IN = {"type": "object", "required": ["title"], "properties": {
    "title": {"type": "string", "maxLength": 200},
    "body": {"type": "string", "maxLength": 50000, "description": "plain text or a small Markdown (format)"},
    "format": {"enum": ["markdown", "text"], "default": "markdown"},
    "category": {"type": ["integer", "null"]},
    "tags": {"type": ["array", "string"], "items": {"type": "string", "maxLength": 32},
             "description": "at most 20 (comma-separated when a string)"},
    "queues": {"type": ["array", "string"], "items": {"type": "string"}, "description": "queue names"},
    "published": {"type": "boolean", "default": True},
    "version": {"type": "integer", "description": "on a change: the version read (409 `kb.changed` if it moved on)"}}}
CATEGORY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string", "maxLength": 64},
    "parent": {"type": ["integer", "null"], "description": "a top-level category (two levels at most)"},
    "position": {"type": "integer", "minimum": 0, "maximum": 9999},
    "articles": {"type": "integer"}, "children": {"type": "array", "items": {"type": "object"}}}}
SEARCH_PARAMETERS = [
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
     "description": "words, all of them (Chinese or English; FTS syntax is searched for as text)"},
    {"name": "category", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "a category (a top-level one includes its subcategories)"},
    {"name": "queue", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "the articles suggested for this queue"},
    {"name": "tag", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    {"name": "per_page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": 100}}]
FILE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}}


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice: an ASCII stand-in (``"`` ``\\`` and anything else
    outside printable ASCII as ``_``) and the real one, percent-encoded UTF-8 (RFC 6266)."""
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(filename, safe='')}"


def problem(exc: DomainError) -> dict:
    return {**problem_of(exc), "fields": exc.fields}


def uploads(name: str, most: int) -> list:
    """The files chosen under ``name`` (empty parts skipped); each at most the cap, known
    before anything is saved (a part is spooled by bottle: its size is where it ends)."""
    found = [u for u in request.files.getall(name) if u.raw_filename]
    if len(found) > most:
        raise ValidationError(f"at most {most} files at once", code="kb.too_many_at_once", params={"n": str(most)},
                              fields={"files": FieldError("field.max", f"at most {most}", n=most)})
    for upload in found:
        upload.file.seek(0, 2)
        size = upload.file.tell()
        upload.file.seek(0)
        if size > MAX_ATTACHMENT_BYTES:
            mb = str(MAX_ATTACHMENT_BYTES // (1024 * 1024))
            raise TooLarge(f"{upload.filename} is larger than {mb} MB", code="kb.too_large",
                           params={"mb": mb, "file": upload.raw_filename[:200]},
                           fields={"files": FieldError("kb.file_too_large", f"larger than {mb} MB", mb=mb)})
    return found


def install(app, deps) -> None:
    def service():
        if deps.kb is None:
            raise Unavailable(FieldError("kb.unavailable", "the knowledge base is not available"),
                              code="kb.unavailable")
        return deps.kb

    def queues() -> list[tuple[str, str]]:
        return [(q["name"], q.get("display_name") or q["name"]) for q in deps.config.list("queues")]

    def search_args() -> dict:
        q = request.query
        return {"q": (q.getunicode("q") or "").strip(), "category": q.get("category") or None,
                "queue": (q.getunicode("queue") or "").strip()[:32], "tag": (q.getunicode("tag") or "").strip()[:32],
                "page": page_arg()}

    def search(args: dict, per_page: int = PER_PAGE) -> dict:
        return deps.queries.run(service().search, viewer(), per_page=per_page, **args)

    # -- pages --------------------------------------------------------------------------
    @app.get("/kb", name="kb", roles=EVERYONE)
    def kb_page():
        args = search_args()
        try:
            found = search(args)
        except ValidationError as exc:  # a search too long: said on the page, nothing found
            found, args["problem"] = {"items": [], "total": 0, "page": 1, "per_page": PER_PAGE}, problem(exc)
        except NotFound:  # a category removed meanwhile: every category
            args["category"] = None
            found = search(args)
        return render("kb.tpl", found=found, args=args, categories=service().categories(),
                      queue_names=dict(queues()), editor=viewer().staff)

    @app.get("/kb/articles/<article_id:int>", name="kb_article", roles=EVERYONE)
    def kb_article(article_id):
        return render("kb_article.tpl", a=service().get(viewer(), article_id), queue_names=dict(queues()),
                      editor=viewer().staff)

    def editor(a: dict, problem_=None, status: int = 200):
        response.status = status
        return render("kb_edit.tpl", a=a, problem=problem_, categories=service().categories(), queues=queues(),
                      max_files=MAX_FILES_PER_POST, max_mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))

    def form_article() -> dict:
        f = request.forms
        return {"title": f.getunicode("title") or "", "body": f.getunicode("body") or "",
                "format": f.getunicode("format") or "markdown", "category": f.getunicode("category") or None,
                "tags": f.getunicode("tags") or "", "queues": f.getall("queues"),
                "published": bool(f.get("published")), "version": f.getunicode("version") or None}

    def shown(data: dict, article_id=None) -> dict:
        """What the editor shows again after a refusal: what was typed (and the files kept)."""
        kept = service().get(viewer(), article_id)["attachments"] if article_id else []
        tags = data["tags"] if isinstance(data["tags"], str) else ", ".join(data["tags"])
        return {**data, "id": article_id, "tags": [t.strip() for t in tags.split(",") if t.strip()],
                "attachments": kept,
                "category": {"id": int(data["category"])} if str(data["category"] or "").isdigit() else None}

    def save(article_id=None):
        data = form_article()
        try:
            files = uploads("files", MAX_FILES_PER_POST)
            a = (service().create(data, actor()) if article_id is None
                 else service().update(article_id, data, actor()))
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return editor(shown(data, article_id), problem(exc), exc.http_status)
        for upload in files:  # the article is saved: a file refused now is said on its editor
            try:
                service().attach(a["id"], upload.raw_filename, upload.file, actor())
            except DomainError as exc:
                return editor(service().get(viewer(), a["id"]), problem(exc), exc.http_status)
        bottle.redirect(f"/kb/articles/{a['id']}")

    @app.get("/kb/new", name="kb_new", roles=STAFF)
    def kb_new():
        return editor({"id": None, "title": "", "body": "", "format": "markdown", "category": None, "tags": [],
                       "queues": [], "published": True, "attachments": [], "version": None})

    @app.post("/kb/new", name="kb_create", roles=STAFF, body_limit=EDITOR_BODY_LIMIT)
    def kb_create():
        return save()

    @app.get("/kb/articles/<article_id:int>/edit", name="kb_edit", roles=STAFF)
    def kb_edit(article_id):
        return editor(service().get(viewer(), article_id))

    @app.post("/kb/articles/<article_id:int>/edit", name="kb_update", roles=STAFF, body_limit=EDITOR_BODY_LIMIT)
    def kb_update(article_id):
        return save(article_id)

    @app.post("/kb/articles/<article_id:int>/delete", name="kb_delete", roles=STAFF)
    def kb_delete(article_id):
        service().delete(article_id, actor())
        bottle.redirect("/kb")

    @app.post("/kb/attachments/<attachment_id:int>/delete", name="kb_detach", roles=STAFF)
    def kb_detach(attachment_id):
        a = service().detach(attachment_id, actor())
        bottle.redirect(f"/kb/articles/{a['article']}/edit")

    def categories_page(problem_=None, status: int = 200):
        response.status = status
        return render("kb_categories.tpl", categories=service().categories(), problem=problem_)

    @app.get("/kb/categories", name="kb_categories", roles=STAFF)
    def kb_categories():
        return categories_page()

    def category_change(change):
        try:
            change()
        except DomainError as exc:
            if exc.http_status == 404:
                raise
            return categories_page(problem(exc), exc.http_status)
        bottle.redirect("/kb/categories")

    def form_category() -> dict:
        f = request.forms
        return {"name": f.getunicode("name") or "", "parent": f.getunicode("parent") or None,
                "position": f.getunicode("position") or 0}

    @app.post("/kb/categories", name="kb_category_create", roles=STAFF)
    def kb_category_create():
        return category_change(lambda: service().save_category(form_category(), actor()))

    @app.post("/kb/categories/<category_id:int>", name="kb_category_update", roles=STAFF)
    def kb_category_update(category_id):
        return category_change(lambda: service().save_category(form_category(), actor(), category_id))

    @app.post("/kb/categories/<category_id:int>/delete", name="kb_category_delete", roles=STAFF)
    def kb_category_delete(category_id):
        return category_change(lambda: service().delete_category(category_id, actor()))

    # -- API ----------------------------------------------------------------------------
    @app.get("/api/v1/kb/articles", name="api_kb_articles", scope="customers:read", roles=EVERYONE,
             api=Operation({
        "tags": ["knowledge base"], "summary": "Search the articles, or list them (newest first)",
        "description": "`q`: every word must occur (SQLite FTS5, trigram: any three or more characters, Chinese or "
                       "English, any case; shorter words by substring); best first (bm25, the title weighs most), "
                       "each with `title_parts` and `snippet` (matches marked). `queue`: the articles suggested for "
                       "it (the workspace's knowledge panel). Agents see published articles only. A search longer "
                       "than 100 characters is 422 `kb.query_too_long`.",
        "parameters": SEARCH_PARAMETERS,
        "responses": {"200": resp("a page of articles", {**items(SUMMARY), "properties": {
            **items(SUMMARY)["properties"], "total": {"type": "integer"}, "page": {"type": "integer"},
            "per_page": {"type": "integer"}}}), **errors(401, 404, 422)}}))
    def api_kb_articles():
        return search(search_args(), query_int("per_page", PER_PAGE, 1, 100))

    @app.post("/api/v1/kb/articles", name="api_kb_article_create", scope="config", roles=STAFF,
              api=Operation({"tags": ["knowledge base"], "summary": "Write an article",
                             "requestBody": body(ARTICLE_IN),
                             "responses": {"201": resp("written", ARTICLE), **errors(400, 401, 403, 422)}}))
    def api_kb_article_create():
        return created(service().create(json_body(), actor()))

    @app.get("/api/v1/kb/articles/<article_id:int>", name="api_kb_article", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["knowledge base"], "summary": "One article, its body also as HTML, its files",
                            "responses": {"200": resp("it", ARTICLE), **errors(401, 404)}}))
    def api_kb_article(article_id):
        return service().get(viewer(), article_id)

    @app.put("/api/v1/kb/articles/<article_id:int>", name="api_kb_article_update", scope="config", roles=STAFF,
             api=Operation({"tags": ["knowledge base"], "summary": "Change an article (whole)",
                            "description": "With `version`, refused (409 `kb.changed`) if someone changed it since.",
                            "requestBody": body(ARTICLE_IN),
                            "responses": {"200": resp("changed", ARTICLE), **errors(400, 401, 403, 404, 409, 422)}}))
    def api_kb_article_update(article_id):
        return service().update(article_id, json_body(), actor())

    @app.delete("/api/v1/kb/articles/<article_id:int>", name="api_kb_article_delete", scope="config", roles=STAFF,
                api=Operation({"tags": ["knowledge base"], "summary": "Remove an article and its files",
                               "responses": {"204": resp("removed"), **errors(401, 403, 404)}}))
    def api_kb_article_delete(article_id):
        service().delete(article_id, actor())
        return no_content()

    @app.post("/api/v1/kb/articles/<article_id:int>/attachments", name="api_kb_attach", scope="config", roles=STAFF,
              body_limit=ATTACH_BODY_LIMIT,
              api=Operation({
        "tags": ["knowledge base"], "summary": "Attach a file to an article",
        "description": "`multipart/form-data` with `file`: any kind, at most 20 MiB (413 `kb.too_large`, counted "
                       "while it is copied), 20 files an article (422 `kb.too_many_files`), not empty "
                       "(422 `kb.empty_file`).",
        "requestBody": FILE_BODY, "responses": {"201": resp("attached", ATTACHMENT),
                                                **errors(401, 403, 404, 413, 422)}}))
    def api_kb_attach(article_id):
        upload = request.files.get("file")
        if upload is None or not upload.raw_filename:
            raise ValidationError("choose a file to upload", fields={"file": FieldError("field.required", "required")})
        return created(service().attach(article_id, upload.raw_filename, upload.file, actor()))

    @app.get("/api/v1/kb/attachments/<attachment_id:int>", name="api_kb_attachment",
             scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["knowledge base"], "summary": "Download an attached file",
                            "description": "Always as a download (`application/octet-stream`, "
                                           "`Content-Disposition: attachment` with the file's name), never shown "
                                           "inline.",
                            "responses": {"200": {"description": "the file", "content": {"application/octet-stream": {
                                "schema": {"type": "string", "format": "binary"}}}}, **errors(401, 404)}}))
    def api_kb_attachment(attachment_id):
        a, path = service().attachment(viewer(), attachment_id)
        sent = bottle.static_file(path.name, root=str(path.parent), mimetype="application/octet-stream")
        if isinstance(sent, bottle.HTTPError):
            raise NotFound(f"no attachment {attachment_id}", code="kb.no_attachment")
        sent.set_header("Content-Disposition", content_disposition(a["filename"]))
        return sent

    @app.delete("/api/v1/kb/attachments/<attachment_id:int>", name="api_kb_detach", scope="config", roles=STAFF,
                api=Operation({"tags": ["knowledge base"], "summary": "Remove an attached file",
                               "responses": {"204": resp("removed"), **errors(401, 403, 404)}}))
    def api_kb_detach(attachment_id):
        service().detach(attachment_id, actor())
        return no_content()

    @app.get("/api/v1/kb/categories", name="api_kb_categories", scope="customers:read", roles=EVERYONE,
             api=Operation({"tags": ["knowledge base"], "summary": "The categories, as a tree of two levels",
                            "responses": {"200": resp("the tree", items(CATEGORY)), **errors(401)}}))
    def api_kb_categories():
        return {"items": service().categories()}

    @app.post("/api/v1/kb/categories", name="api_kb_category_create", scope="config", roles=STAFF,
              api=Operation({"tags": ["knowledge base"], "summary": "Add a category",
                             "description": "Under a top-level one at most (`fields.parent`: `kb.two_levels`); "
                                            "names are unique among their siblings (409 `kb.category_exists`).",
                             "requestBody": body(CATEGORY),
                             "responses": {"201": resp("added", CATEGORY), **errors(400, 401, 403, 409, 422)}}))
    def api_kb_category_create():
        return created(service().save_category(json_body(), actor()))

    @app.put("/api/v1/kb/categories/<category_id:int>", name="api_kb_category_update", scope="config", roles=STAFF,
             api=Operation({"tags": ["knowledge base"], "summary": "Rename or move a category",
                            "requestBody": body(CATEGORY),
                            "responses": {"200": resp("changed", CATEGORY), **errors(400, 401, 403, 404, 409, 422)}}))
    def api_kb_category_update(category_id):
        return service().save_category(json_body(), actor(), category_id)

    @app.delete("/api/v1/kb/categories/<category_id:int>", name="api_kb_category_delete", scope="config", roles=STAFF,
                api=Operation({"tags": ["knowledge base"], "summary": "Remove an empty category",
                               "description": "One holding articles or subcategories is 409 `kb.category_in_use`.",
                               "responses": {"204": resp("removed"), **errors(401, 403, 404, 409)}}))
    def api_kb_category_delete(category_id):
        service().delete_category(category_id, actor())
        return no_content()
