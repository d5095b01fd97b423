"""The knowledge base (知识库): articles in categories (two levels), with tags, the queues they
are suggested for (the workspace's knowledge panel during those queues' calls) and attached
files; full-text search in Chinese and English.

**Who.** Every signed-in user reads published articles and their files; admins and
supervisors (the web routes' ``STAFF``) also read drafts and write: articles, categories,
attachments.  Every change is audited (``audit_log``, ``object_type`` ``kb_articles`` or
``kb_categories``).

**Search** (``search``): SQLite FTS5, ``trigram`` tokenizer, an external-content index the
migration's triggers keep in step with ``kb_article``; the query's terms are quoted
(``appliance/engine/kb.py``) so FTS syntax in a search box is searched for, never run;
terms under three characters go through ``LIKE``; results ranked by ``bm25`` (title ten
times the body, tags five), each with its title highlighted and a snippet of the body,
as parts a page escapes.

**Files** live under ``<data>/kb/<article id>/`` by a random name; the name the browser
sent is kept (made safe) for the download.  Each is copied from the upload in chunks off the
loop, counted as it goes: past ``MAX_ATTACHMENT_BYTES`` the copy stops and is removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from peewee import fn

from appliance.db import models as m
from appliance.engine import kb as engine
from appliance.errors import Conflict, FieldError, NotFound, TooLarge, ValidationError, field_error_of
from appliance.services.config import Field, coerce
from appliance.services.crm import Viewer

logger = logging.getLogger(__name__)

MAX_BODY = 50_000  # characters
MAX_TAGS = 20
MAX_QUEUES = 50
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 20  # per article
MAX_STORE_BYTES = 2 * 1024 * 1024 * 1024  # every attachment together
PER_PAGE = 20
FORMATS = ("markdown", "text")
CHUNK = 1024 * 1024
TITLE = Field("title", "str", required=True, max_length=200)
CATEGORY_NAME = Field("name", "str", required=True, max_length=64)
TAG = Field("tags", "str", max_length=32)


def _t(value: dt.datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def _id(value) -> int:
    """A row id as sent; -1 (no such row) for anything else."""
    if isinstance(value, (bool, float)):
        return -1
    try:
        number = int(value)
    except (TypeError, ValueError):
        return -1
    return number if 0 < number < 2 ** 63 else -1


def _one(model, row_id, code: str, what: str):
    """The row of ``model`` with this id, or NotFound ``code``."""
    row = model.get_or_none(model.id == _id(row_id))
    if row is None:
        raise NotFound(f"no {what} {row_id}", code=code)
    return row


def _invalid(errors: dict, what: str = "the article") -> ValidationError:
    name, error = next(iter(errors.items()))
    return ValidationError(f"{what} cannot be saved: {name}: {error}", fields=errors)


def _audit(actor: str, action: str, kind: str, object_id, detail: dict) -> None:
    m.AuditLog.create(username=(actor or "system")[:64], action=action, object_type=kind, object_id=str(object_id),
                      detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str))


def _required(f: Field, value, errors: dict) -> str:
    """A required text field's value, or "" with its fault put in ``errors``."""
    try:
        value = coerce(f, value or "")
    except ValueError as exc:
        errors[f.name] = field_error_of(exc)
        return ""
    if not value:
        errors[f.name] = FieldError("field.required", "required")
    return value or ""


def _list(value) -> list[str]:
    """Tags or queues as sent: a list, or text separated by commas (ASCII or Chinese)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    if not isinstance(value, list):
        raise ValueError(FieldError("field.text", "text"))
    return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def check_body(value) -> str:
    """The body as stored: text of at most ``MAX_BODY`` characters, line breaks and tabs kept,
    no other control characters (ValueError with the field's error)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(FieldError("field.text", "text"))
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > MAX_BODY:
        raise ValueError(FieldError("field.max_length", f"at most {MAX_BODY} characters", n=MAX_BODY))
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in value):
        raise ValueError(FieldError("field.control", "no control characters"))
    return value


def copy_capped(source, target: Path, cap: int) -> tuple[int, str]:
    """Copy ``source`` (a file object) to ``target`` in chunks, stopping past ``cap`` bytes
    (``target`` removed, ValueError); (size, SHA-256).  Plain file work, for a worker thread."""
    digest, size = hashlib.sha256(), 0
    try:
        with open(target, "xb") as out:
            while True:
                chunk = source.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise ValueError("too large")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return size, digest.hexdigest()


class KnowledgeBase:
    def __init__(self, db, *, data_dir: Path, clock: Callable[[], dt.datetime] = m.utcnow, off_loop=None,
                 max_attachment_bytes: int = MAX_ATTACHMENT_BYTES, max_store_bytes: int = MAX_STORE_BYTES):
        self.db = db
        self.files = Path(data_dir) / "kb"
        self.clock = clock
        # runs plain file work off the event loop (gevent's thread pool in the appliance); None: in place
        self.off_loop = off_loop or (lambda fn_, *a: fn_(*a))
        self.max_attachment_bytes = max_attachment_bytes
        self.max_store_bytes = max_store_bytes

    # -- categories ------------------------------------------------------------------------
    def categories(self) -> list[dict]:
        """The tree: top-level categories, each with its ``children``, with their article counts."""
        counts = dict(m.KbArticle.select(m.KbArticle.category, fn.COUNT(m.KbArticle.id))
                      .group_by(m.KbArticle.category).tuples())
        rows = list(m.KbCategory.select().order_by(m.KbCategory.position, m.KbCategory.name))
        view = {r.id: {"id": r.id, "name": r.name, "parent": r.parent_id, "position": r.position,
                       "articles": counts.get(r.id, 0), "children": []} for r in rows}
        top = []
        for r in rows:
            (view[r.parent_id]["children"] if r.parent_id in view else top).append(view[r.id])
        return top

    @staticmethod
    def _category_row(category_id) -> m.KbCategory:
        return _one(m.KbCategory, category_id, "kb.no_category", "category")

    def save_category(self, data, actor: str, category_id=None) -> dict:
        if not isinstance(data, dict):
            raise ValidationError("a category must be a JSON object", code="request.not_an_object")
        row = self._category_row(category_id) if category_id is not None else None
        errors = {}
        name = _required(CATEGORY_NAME, data.get("name"), errors)
        parent = None
        if data.get("parent") not in (None, "", 0, "0"):
            parent = m.KbCategory.get_or_none(m.KbCategory.id == _id(data["parent"]))
            if parent is None:
                errors["parent"] = FieldError("field.no_such", "no such category", key=str(data["parent"]))
            elif parent.parent_id is not None or (row is not None and parent.id == row.id):
                errors["parent"] = FieldError("kb.two_levels", "categories are two levels at most")
            elif row is not None and m.KbCategory.select().where(m.KbCategory.parent == row.id).exists():
                errors["parent"] = FieldError("kb.has_children", "a category with subcategories stays at the top")
        try:
            position = coerce(Field("position", "int", min=0, max=9999), data.get("position") or 0)
        except ValueError as exc:
            errors["position"], position = field_error_of(exc), 0
        if errors:
            raise _invalid(errors, "the category")
        with self.db.atomic():
            siblings = m.KbCategory.select().where(m.KbCategory.name == name,
                                                   m.KbCategory.parent.is_null() if parent is None
                                                   else m.KbCategory.parent == parent.id)
            if row is not None:
                siblings = siblings.where(m.KbCategory.id != row.id)
            if siblings.exists():
                raise Conflict(f"a category {name} exists there", code="kb.category_exists",
                               fields={"name": FieldError("field.exists", "already exists", item=name)})
            values = {"name": name, "parent": parent.id if parent else None, "position": position}
            if row is None:
                row = m.KbCategory.create(**values)
                _audit(actor, "create", "kb_categories", row.id, values)
            else:
                m.KbCategory.update(**values).where(m.KbCategory.id == row.id).execute()
                _audit(actor, "update", "kb_categories", row.id, values)
        return {"id": row.id, **values}

    def delete_category(self, category_id, actor: str) -> None:
        """Only an empty one: no articles, no subcategories (409 ``kb.category_in_use``)."""
        with self.db.atomic():
            row = self._category_row(category_id)
            articles = m.KbArticle.select().where(m.KbArticle.category == row.id).count()
            children = m.KbCategory.select().where(m.KbCategory.parent == row.id).count()
            if articles or children:
                raise Conflict(f"the category holds {articles} articles and {children} subcategories",
                               code="kb.category_in_use", params={"articles": str(articles),
                                                                   "children": str(children)})
            row.delete_instance()
            _audit(actor, "delete", "kb_categories", row.id, {"name": row.name})

    def _category_ids(self, category_id) -> list[int]:
        """The category and its subcategories (a filter on a top-level one shows both)."""
        row = self._category_row(category_id)
        return [row.id] + [c.id for c in m.KbCategory.select(m.KbCategory.id).where(m.KbCategory.parent == row.id)]

    # -- articles ----------------------------------------------------------------------------
    def clean(self, data) -> dict:
        """The article's columns (and ``queues``) from what an editor sent, or ValidationError
        with every field's fault."""
        if not isinstance(data, dict):
            raise ValidationError("an article must be a JSON object", code="request.not_an_object")
        errors = {}
        values = {"title": _required(TITLE, data.get("title"), errors)}
        try:
            values["body"] = check_body(data.get("body"))
        except ValueError as exc:
            errors["body"] = field_error_of(exc)
        values["format"] = data.get("format") or "markdown"
        if values["format"] not in FORMATS:
            errors["format"] = FieldError("field.choice", "one of markdown, text", choices="markdown, text")
        values["category"] = None
        if data.get("category") not in (None, "", 0, "0"):
            category = m.KbCategory.get_or_none(m.KbCategory.id == _id(data["category"]))
            if category is None:
                errors["category"] = FieldError("field.no_such", "no such category", key=str(data["category"]))
            values["category"] = category
        try:
            tags = _list(data.get("tags"))
            for tag in tags:
                coerce(TAG, tag)
            if len(tags) > MAX_TAGS:
                raise ValueError(FieldError("field.max", f"at most {MAX_TAGS}", n=MAX_TAGS))
            values["tags"] = ",".join(tags)
        except ValueError as exc:
            errors["tags"] = field_error_of(exc)
        try:
            queues = _list(data.get("queues"))
            if len(queues) > MAX_QUEUES:
                raise ValueError(FieldError("field.max", f"at most {MAX_QUEUES}", n=MAX_QUEUES))
            known = {q for (q,) in m.Queue.select(m.Queue.name).where(m.Queue.name.in_(queues)).tuples()}
            unknown = [q for q in queues if q not in known]
            if unknown:
                raise ValueError(FieldError("field.no_such", f"no queue {unknown[0]}", key=unknown[0]))
            values["queues"] = queues
        except ValueError as exc:
            errors["queues"] = field_error_of(exc)
        try:
            values["published"] = coerce(Field("published", "bool"), data.get("published", True))
        except ValueError as exc:
            errors["published"] = field_error_of(exc)
        if errors:
            raise _invalid(errors)
        values["plain"] = engine.plain_text(values["body"], values["format"])
        return values

    def create(self, data, actor: str) -> dict:
        values = self.clean(data)
        queues = values.pop("queues")
        now = self.clock()
        with self.db.atomic():
            row = m.KbArticle.create(**values, created_by=actor, updated_by=actor, created_at=now, updated_at=now)
            self._suggest(row.id, queues)
            _audit(actor, "create", "kb_articles", row.id, self._audited(values, queues))
        logger.info("%s wrote knowledge base article %s", actor, row.id)
        return self.get(Viewer(actor, "admin"), row.id)

    def update(self, article_id, data, actor: str) -> dict:
        """The whole article again; with ``version`` (what the editor loaded) a change made
        meanwhile by someone else is 409 ``kb.changed`` rather than overwritten."""
        row = self._row(article_id)
        values = self.clean(data)
        queues = values.pop("queues")
        with self.db.atomic():
            change = m.KbArticle.update(**values, version=m.KbArticle.version + 1, updated_by=actor,
                                        updated_at=self.clock()).where(m.KbArticle.id == row.id)
            if data.get("version") not in (None, ""):
                change = change.where(m.KbArticle.version == _id(data["version"]))
            if not change.execute():
                raise Conflict("the article was changed meanwhile; reload it", code="kb.changed")
            m.KbArticleQueue.delete().where(m.KbArticleQueue.article == row.id).execute()
            self._suggest(row.id, queues)
            _audit(actor, "update", "kb_articles", row.id, self._audited(values, queues))
        return self.get(Viewer(actor, "admin"), row.id)

    @staticmethod
    def _suggest(article_id: int, queues: list[str]) -> None:
        if queues:
            m.KbArticleQueue.insert_many([{"article": article_id, "queue": q} for q in queues]).execute()

    @staticmethod
    def _audited(values: dict, queues: list) -> dict:
        category = values.get("category")
        return {"title": values["title"], "category": category.name if category else "", "tags": values["tags"],
                "queues": queues, "format": values["format"], "published": values["published"],
                "body_characters": len(values["body"])}

    def delete(self, article_id, actor: str) -> None:
        row = self._row(article_id)
        with self.db.atomic():
            files = [a.filename for a in row.attachments]
            row.delete_instance()  # its queues and attachment rows go with it (ON DELETE CASCADE)
            _audit(actor, "delete", "kb_articles", row.id, {"title": row.title, "attachments": files})
        shutil.rmtree(self.files / str(row.id), ignore_errors=True)

    @staticmethod
    def _row(article_id, viewer: Viewer | None = None) -> m.KbArticle:
        row = _one(m.KbArticle, article_id, "kb.no_article", "article")
        if viewer is not None and not viewer.staff and not row.published:
            raise NotFound(f"no article {article_id}", code="kb.no_article")  # a draft: as if there were none
        return row

    def get(self, viewer: Viewer, article_id) -> dict:
        """One article with its body (and as HTML), queues and attachments; a draft is "not
        found" to an agent."""
        row = self._row(article_id, viewer)
        out = self._summary(row, self._category_names())
        out.update(body=row.body, format=row.format, body_html=engine.render(row.body, row.format),
                   version=row.version, created_by=row.created_by, created_at=_t(row.created_at),
                   attachments=[self._attachment_view(a) for a in row.attachments.order_by(m.KbAttachment.id)])
        return out

    @staticmethod
    def _category_names() -> dict[int, dict]:
        rows = {c.id: c for c in m.KbCategory.select()}
        return {c.id: {"id": c.id, "name": c.name,
                       "path": f"{rows[c.parent_id].name} / {c.name}" if c.parent_id in rows else c.name}
                for c in rows.values()}

    @staticmethod
    def _summary(row: m.KbArticle, categories: dict, queues: list[str] | None = None) -> dict:
        if queues is None:
            queues = [q.queue for q in row.queue_rows.order_by(m.KbArticleQueue.queue)]
        return {"id": row.id, "title": row.title, "category": categories.get(row.category_id),
                "tags": [t for t in row.tags.split(",") if t], "queues": queues, "published": row.published,
                "updated_at": _t(row.updated_at), "updated_by": row.updated_by}

    # -- search ------------------------------------------------------------------------------
    def search(self, viewer: Viewer, *, q: str = "", category=None, queue: str = "", tag: str = "", page: int = 1,
               per_page: int = PER_PAGE) -> dict:
        """Articles matching every term of ``q`` (best first), in ``category`` (and its
        subcategories), suggested for ``queue``, tagged ``tag``; newest first without ``q``.
        Plain data, safe for the query pool's threads."""
        q = q or ""
        if len(q) > engine.MAX_QUERY:
            raise ValidationError(f"a search is at most {engine.MAX_QUERY} characters", code="kb.query_too_long",
                                  fields={"q": FieldError("field.max_length", f"at most {engine.MAX_QUERY} characters",
                                                          n=engine.MAX_QUERY)})
        where, params = ["1"], []
        if not viewer.staff:
            where.append("a.published = 1")
        if category not in (None, ""):
            ids = self._category_ids(category)
            where.append(f"a.category_id IN ({','.join('?' * len(ids))})")
            params += ids
        if queue:
            where.append("a.id IN (SELECT article_id FROM kb_article_queue WHERE queue = ?)")
            params.append(queue)
        if tag:
            where.append("(',' || a.tags || ',') LIKE ? ESCAPE '\\'")
            params.append(engine.like_pattern("," + tag.strip() + ","))
        match, short = engine.split_query(q)
        for term in short:
            where.append("(a.title LIKE ? ESCAPE '\\' OR a.plain LIKE ? ESCAPE '\\' OR a.tags LIKE ? ESCAPE '\\')")
            params += [engine.like_pattern(term)] * 3
        offset = (page - 1) * per_page
        marks = f"'{engine.OPEN}', '{engine.CLOSE}'"
        try:
            if match:
                base = f"FROM kb_fts JOIN kb_article a ON a.id = kb_fts.rowid WHERE kb_fts MATCH ? AND {' AND '.join(where)}"
                total = self.db.execute_sql(f"SELECT COUNT(*) {base}", [match] + params).fetchone()[0]
                found = self.db.execute_sql(
                    f"SELECT a.id, highlight(kb_fts, 0, {marks}), snippet(kb_fts, 1, {marks}, '…', 40) {base} "
                    "ORDER BY bm25(kb_fts, 10.0, 1.0, 5.0), a.updated_at DESC LIMIT ? OFFSET ?",
                    [match] + params + [per_page, offset]).fetchall()
            else:
                base = f"FROM kb_article a WHERE {' AND '.join(where)}"
                total = self.db.execute_sql(f"SELECT COUNT(*) {base}", params).fetchone()[0]
                order = "a.updated_at DESC, a.id DESC"
                if short:
                    order = "(a.title LIKE ? ESCAPE '\\') DESC, " + order
                found = self.db.execute_sql(f"SELECT a.id, NULL, NULL {base} ORDER BY {order} LIMIT ? OFFSET ?",
                                            params + ([engine.like_pattern(short[0])] if short else [])
                                            + [per_page, offset]).fetchall()
        except sqlite3.OperationalError as exc:  # a safety net: quoted terms should never get here
            logger.warning("knowledge base search %r failed: %s", q, exc)
            raise ValidationError("the search could not be run; try other words", code="kb.bad_query",
                                  fields={"q": FieldError("kb.bad_query", "try other words")}) from None
        rows = {r.id: r for r in m.KbArticle.select().where(m.KbArticle.id.in_([f[0] for f in found]))}
        queues: dict[int, list] = {}
        for aq in (m.KbArticleQueue.select().where(m.KbArticleQueue.article.in_(list(rows)))
                   .order_by(m.KbArticleQueue.queue)):
            queues.setdefault(aq.article_id, []).append(aq.queue)
        categories = self._category_names()
        items = []
        words = engine.terms(q)
        for article_id, title, snippet in found:
            row = rows[article_id]
            item = self._summary(row, categories, queues.get(article_id, []))
            if q.strip():
                item["title_parts"] = engine.marked_parts(title) if title else engine.excerpt_parts(row.title, words, 200)
                item["snippet"] = engine.marked_parts(snippet) if snippet else engine.excerpt_parts(row.plain, short)
            items.append(item)
        return {"items": items, "total": total, "page": page, "per_page": per_page}

    # -- attachments -------------------------------------------------------------------------
    @staticmethod
    def _attachment_view(a: m.KbAttachment) -> dict:
        return {"id": a.id, "article": a.article_id, "filename": a.filename, "size": a.size,
                "created_at": _t(a.created_at), "created_by": a.created_by, "url": f"/api/v1/kb/attachments/{a.id}"}

    def attach(self, article_id, filename: str, source, actor: str) -> dict:
        """Keep an uploaded file (``source``: a file object) with the article; refused past
        the per-file cap (413 ``kb.too_large``), the article's count or the store's total."""
        row = self._row(article_id)
        name = engine.safe_filename(filename)
        if m.KbAttachment.select().where(m.KbAttachment.article == row.id).count() >= MAX_ATTACHMENTS:
            raise ValidationError(f"an article has at most {MAX_ATTACHMENTS} files", code="kb.too_many_files",
                                  params={"n": str(MAX_ATTACHMENTS)},
                                  fields={"file": FieldError("field.max", f"at most {MAX_ATTACHMENTS}",
                                                             n=MAX_ATTACHMENTS)})
        used = m.KbAttachment.select(fn.COALESCE(fn.SUM(m.KbAttachment.size), 0)).scalar()
        room = min(self.max_attachment_bytes, self.max_store_bytes - used)
        if room <= 0:
            raise TooLarge("the knowledge base's files fill their space", code="kb.store_full")
        folder = self.files / str(row.id)
        folder.mkdir(parents=True, exist_ok=True)
        stored = secrets.token_hex(16)
        try:
            size, digest = self.off_loop(copy_capped, source, folder / stored, room)
        except ValueError:
            if room < self.max_attachment_bytes:
                raise TooLarge("the knowledge base's files fill their space", code="kb.store_full") from None
            mb = str(self.max_attachment_bytes // (1024 * 1024))
            raise TooLarge(f"{name} is larger than {mb} MB", code="kb.too_large", params={"mb": mb, "file": name},
                           fields={"file": FieldError("kb.file_too_large", f"larger than {mb} MB", mb=mb)}) from None
        if size == 0:
            (folder / stored).unlink(missing_ok=True)
            raise ValidationError(f"{name} is empty", code="kb.empty_file", params={"file": name},
                                  fields={"file": FieldError("kb.file_empty", "the file is empty")})
        try:
            with self.db.atomic():
                a = m.KbAttachment.create(article=row.id, filename=name, stored=stored, size=size, sha256=digest,
                                          created_by=actor, created_at=self.clock())
                _audit(actor, "attach", "kb_articles", row.id, {"file": name, "size": size})
        except BaseException:
            (folder / stored).unlink(missing_ok=True)
            raise
        return self._attachment_view(a)

    @staticmethod
    def _attachment_row(attachment_id) -> m.KbAttachment:
        return _one(m.KbAttachment, attachment_id, "kb.no_attachment", "attachment")

    def attachment(self, viewer: Viewer, attachment_id) -> tuple[dict, Path]:
        """An attachment and where its file is; "not found" for a draft's to an agent."""
        a = self._attachment_row(attachment_id)
        self._row(a.article_id, viewer)
        path = self.files / str(a.article_id) / a.stored
        if not path.is_file():
            logger.error("knowledge base attachment %s (%s) has no file at %s", a.id, a.filename, path)
            raise NotFound(f"no attachment {attachment_id}", code="kb.no_attachment")
        return self._attachment_view(a), path

    def detach(self, attachment_id, actor: str) -> dict:
        a = self._attachment_row(attachment_id)
        with self.db.atomic():
            a.delete_instance()
            _audit(actor, "detach", "kb_articles", a.article_id, {"file": a.filename, "size": a.size})
        (self.files / str(a.article_id) / a.stored).unlink(missing_ok=True)
        return self._attachment_view(a)
