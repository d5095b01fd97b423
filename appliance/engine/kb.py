"""The knowledge base's pure parts: what a search box's text becomes for SQLite FTS5, a
snippet's marks as parts, an article's small Markdown as safe HTML, an uploaded file's name
made safe.  No I/O; ``appliance/services/kb.py`` uses them.

**Search.** The index uses the ``trigram`` tokenizer: a term matches wherever its three or
more characters occur, in Chinese as in English (``refund`` finds "refunds", ``退货流程``
finds "客户退货流程说明").  Each term of the query becomes one FTS5 string (``"..."``, inner
quotes doubled), so nothing a person types is FTS syntax: ``"``, ``*``, ``AND``, ``OR``,
``NOT``, ``NEAR``, ``(``, ``-``, ``:`` and ``^`` are searched for as characters.  Terms
shorter than three characters cannot match a trigram index; they are matched with ``LIKE``
(``%`` and ``_`` escaped) beside the others, so ``退货`` alone still finds the article.

**Markdown.** Everything is escaped first; then a small subset is recognised on the escaped
text: headings (``#``..``###``), paragraphs, line breaks, lists (``-``, ``*``, ``1.``),
quotes (``>``), fenced code, ``**bold**``, ``*italic*``, ```code```` and links
``[text](url)`` to ``http(s)://``, ``mailto:`` or a path on this site only.  No HTML a
writer types ever reaches a page.
"""

from __future__ import annotations

import html
import re
import unicodedata

MIN_TRIGRAM = 3
MAX_TERMS = 8
MAX_QUERY = 100  # characters
# snippet() marks: characters an article cannot hold (control characters are refused)
OPEN, CLOSE = "\x02", "\x03"


def terms(text: str) -> list[str]:
    """The query's terms: split on spaces (ASCII and ideographic), control characters
    dropped, at most ``MAX_TERMS``, each once."""
    cleaned = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text or "")
    return list(dict.fromkeys(t for t in cleaned.split() if t))[:MAX_TERMS]


def fts_string(term: str) -> str:
    """One term as an FTS5 string: FTS syntax inside it is only characters."""
    return '"' + term.replace('"', '""') + '"'


def split_query(text: str) -> tuple[str, list[str]]:
    """(the FTS5 MATCH expression of the terms of three characters or more, joined by AND;
    the shorter terms, for LIKE).  Either may be empty."""
    found = terms(text)
    long_ = [t for t in found if len(t) >= MIN_TRIGRAM]
    return " AND ".join(fts_string(t) for t in long_), [t for t in found if len(t) < MIN_TRIGRAM]


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's own characters escaped (``ESCAPE '\\'``)."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def marked_parts(text: str) -> list[dict]:
    """A snippet with ``OPEN``/``CLOSE`` marks as parts ``{"text", "mark"}``: a page or a
    script shows each part as text (escaped), the marked ones highlighted."""
    parts, mark = [], False
    for piece in re.split(f"([{OPEN}{CLOSE}])", text or ""):
        if piece == OPEN:
            mark = True
        elif piece == CLOSE:
            mark = False
        elif piece:
            parts.append({"text": piece, "mark": mark})
    return parts


def excerpt_parts(text: str, words: list[str], width: int = 120) -> list[dict]:
    """A window of ``text`` around the first of ``words`` found (case-insensitive), each
    occurrence marked: the snippet of a search that went through LIKE alone."""
    text = " ".join((text or "").split())
    lower = text.lower()
    hits = [lower.find(w.lower()) for w in words if w]
    first = min((h for h in hits if h >= 0), default=0)
    start = max(0, first - width // 3)
    window = text[start:start + width]
    pattern = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True) if w)
    marked = re.sub(f"({pattern})", OPEN + r"\1" + CLOSE, window, flags=re.I) if pattern else window
    prefix, suffix = ("…" if start else ""), ("…" if start + width < len(text) else "")
    return marked_parts(prefix + marked + suffix)


# -- Markdown ---------------------------------------------------------------------------------
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")
_CODE = re.compile(r"`([^`\n]+)`")
_SAFE_URL = re.compile(r"(https?://[^\s<>\"'`]+|mailto:[^\s<>\"'`]+|/(?![/\\])[^\s<>\"'`]*)", re.I)


def _url(escaped: str) -> str | None:
    """A link's target (as escaped in the text) if it is safe to follow, escaped for an attribute."""
    raw = html.unescape(escaped)
    if not _SAFE_URL.fullmatch(raw) or any(ord(c) < 32 for c in raw):
        return None
    return html.escape(raw, quote=True)


def _inline(escaped: str) -> str:
    """Inline marks on text already escaped; code spans first, their content left alone."""
    codes: list[str] = []

    def keep_code(m):
        codes.append(m.group(1))
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep_code, escaped)

    def link(m):
        target = _url(m.group(2))
        if target is None:
            return m.group(0)
        outside = not target.startswith("/")
        rel = ' target="_blank" rel="noopener noreferrer"' if outside else ""
        return f'<a href="{target}"{rel}>{m.group(1)}</a>'

    text = _LINK.sub(link, text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: f"<code>{codes[int(m.group(1))]}</code>", text)


def render_markdown(source: str) -> str:
    """The article's Markdown subset as HTML; everything the writer typed is escaped."""
    lines = (source or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []
    list_tag = ""
    quote: list[str] = []

    def flush():
        nonlocal list_tag
        if para:
            out.append("<p>" + "<br>".join(_inline(html.escape(x)) for x in para) + "</p>")
            para.clear()
        if items:
            out.append(f"<{list_tag}>" + "".join(f"<li>{_inline(html.escape(x))}</li>" for x in items)
                       + f"</{list_tag}>")
            items.clear()
            list_tag = ""
        if quote:
            out.append("<blockquote><p>" + "<br>".join(_inline(html.escape(x)) for x in quote) + "</p></blockquote>")
            quote.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(code)) + "</code></pre>")
            i += 1
            continue
        heading = re.match(r"(#{1,3})\s+(.+)", stripped)
        bullet = re.match(r"[-*]\s+(.+)", stripped)
        number = re.match(r"\d{1,3}[.)]\s+(.+)", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 2  # the page's own headings come first
            out.append(f"<h{level}>{_inline(html.escape(heading.group(2)))}</h{level}>")
        elif bullet or number:
            tag = "ul" if bullet else "ol"
            if para or quote or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or number).group(1))
        elif stripped.startswith(">"):
            if para or items:
                flush()
            quote.append(stripped[1:].strip())
        else:
            if items or quote:
                flush()
            para.append(stripped)
        i += 1
    flush()
    return "\n".join(out)


def plain_text(source: str, fmt: str) -> str:
    """The body as a reader sees it, without Markdown's marks (headings', lists', quotes',
    fences', bold, italic, code, a link's target): what is indexed and quoted in snippets."""
    if fmt != "markdown":
        return source or ""
    lines = []
    for line in (source or "").split("\n"):
        stripped = line.strip()
        if stripped.startswith("```"):
            continue
        stripped = re.sub(r"^(#{1,3}\s+|[-*]\s+|\d{1,3}[.)]\s+|>\s?)", "", stripped)
        stripped = _LINK.sub(r"\1", _CODE.sub(r"\1", stripped))
        lines.append(_ITALIC.sub(r"\1", _BOLD.sub(r"\1", stripped)))
    return "\n".join(lines)


def render_text(source: str) -> str:
    """Plain text as HTML: escaped, paragraphs at blank lines, line breaks kept."""
    blocks = re.split(r"\n\s*\n", (source or "").replace("\r\n", "\n").strip())
    return "\n".join("<p>" + "<br>".join(html.escape(x) for x in b.split("\n")) + "</p>" for b in blocks if b.strip())


def render(source: str, fmt: str) -> str:
    return render_markdown(source) if fmt == "markdown" else render_text(source)


# -- uploaded files ---------------------------------------------------------------------------
def safe_filename(name: str, limit: int = 200) -> str:
    """The name a browser sent, as shown and offered for download: its last path part, no
    control characters, at most ``limit`` characters (the extension kept); "file" if nothing is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(base) > limit:
        stem, dot, ext = base.rpartition(".")
        ext = ext[:16] if dot else ""
        base = (stem if dot else base)[:limit - len(ext) - 1] + ("." + ext if ext else "")
    return base or "file"
