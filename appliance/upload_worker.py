"""Reading untrusted uploads in a process of their own: ``python -m appliance.upload_worker
pdf|xlsx [options]``, the file on standard input, one JSON document (``pdf``) or JSON lines
(``xlsx``) on standard output.

The parent (``services.fax_out``, ``services.customer_excel``) starts it through
``proc.filter_through`` with resource limits (processor time, address space, file size),
as nobody, with a wall-clock timeout: a file built to eat memory or time (a PDF page tree
that loops, a workbook of millions of shared strings) costs this process, which then ends
and gives all its memory back, never the one that serves calls.  It imports only the
standard library and the parser it needs (pypdf, openpyxl), not the appliance, so it starts
in a fraction of a second.

A file refused here ends with ``{"refused": {"code": ..., "message": ...}}`` (the stable
error ids the API shows) and exit status 0; any other ending (a limit hit, a crash) is a
failure of the worker, which the parent turns into its own error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import json
import logging
import re
import sys
import zipfile
from pathlib import Path

from appliance.errors import FieldError

# -- PDF (a fax to send) ----------------------------------------------------------------------
PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
MAX_PAGE_POINTS = 200 * 72  # a page side of 200 inches (PDF's own limit is 14,400 units)


class Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_pdf(data: bytes, max_pages: int) -> dict:
    """A PDF's structure, before anything draws it: the header at the very first byte (so
    Ghostscript takes it as PDF, never as PostScript that merely mentions ``%PDF-``), a
    readable cross-reference, catalog and page tree, between 1 and ``max_pages`` pages of
    sane sizes.  Returns ``{"pages": n, "encrypted": bool}``."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    if not PDF_HEADER.match(data[:8]):
        raise Refused("fax.bad_pdf", "the file does not begin with a PDF header")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            try:
                reader.decrypt("")  # opened with no password (only printing or copying restricted)
            except DependencyError:  # AES without a crypto library: the page tree is still readable
                pass
        pages = len(reader.pages)
        if pages > max_pages:
            raise Refused("fax.too_many_pages", f"{pages} pages, at most {max_pages}")
        for number, page in enumerate(reader.pages, 1):
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            if not (0 < abs(width) <= MAX_PAGE_POINTS and 0 < abs(height) <= MAX_PAGE_POINTS):
                raise Refused("fax.bad_pdf", f"page {number} is {width:g} x {height:g} points")
    except Refused:
        raise
    except RecursionError:
        raise Refused("fax.bad_pdf", "the page tree nests too deep (or loops)") from None
    except (PdfReadError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError,
            ArithmeticError, AssertionError) as exc:
        raise Refused("fax.bad_pdf", f"not a readable PDF: {exc.__class__.__name__}: {exc}") from None
    if pages == 0:
        raise Refused("fax.bad_pdf", "the PDF has no pages")
    return {"pages": pages, "encrypted": encrypted}


# -- Excel workbook (customers to import) -----------------------------------------------------
def check_zip(archive: zipfile.ZipFile, *, max_members: int, max_expanded: int, max_ratio: float,
              max_shared_strings: int) -> None:
    """The archive's own account of itself (its central directory), before anything inflates
    it: a zip bomb says what it would become.  Python's zipfile holds a member to the size
    its entry declares, so a member that lies about it fails its read instead of growing."""
    members = archive.infolist()
    if len(members) > max_members:
        raise Refused("import.too_large", f"{len(members)} parts in the workbook, at most {max_members}")
    total = sum(m.file_size for m in members)
    if total > max_expanded:
        raise Refused("import.too_large", f"the workbook unpacks to {total} bytes, at most {max_expanded}")
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > max_ratio * max(m.compress_size, 1):
            raise Refused("import.too_large", f"{m.filename} is packed {m.file_size / max(m.compress_size, 1):.0f}:1, "
                                              f"more than {max_ratio:g}:1")
        if m.filename.lower().endswith("sharedstrings.xml") and m.file_size > max_shared_strings:
            raise Refused("import.too_large", f"{m.filename} holds {m.file_size} bytes of text, "
                                              f"at most {max_shared_strings}")


def cell_text(value):
    """A cell as the customer service takes it: numbers typed into a phone column come
    back from Excel as 13912345678 or 1.3912345678E10, dates as datetimes."""
    if value is None or isinstance(value, (dt.date, dt.datetime)):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encode_cell(value):
    """JSON for a cell: text, null, or a tagged date (decoded by ``decode_cell``)."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    return value


def decode_cell(value):
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        return dt.date.fromisoformat(value["date"])
    return value


# Excel's built-in date formats of East Asian locales (31 is yyyy"年"m"月"d"日", what a date typed
# in a Chinese Excel usually carries): openpyxl knows none of them, so their cells came back
# as day numbers (45123).  The times among them (32-35, 55, 56) are left as they are.
EAST_ASIAN_DATE_FORMATS = frozenset({27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 57, 58})


def east_asian_dates(book) -> None:
    """Makes the cells of ``book`` styled with a built-in East Asian date format read as dates."""
    for index, style in enumerate(book._cell_styles):
        if style.numFmtId in EAST_ASIAN_DATE_FORMATS:
            book._date_formats.add(index)


def read_xlsx(data: bytes, out, *, max_rows: int, max_cells: int, max_output: int, **zip_caps) -> None:
    """The first sheet as JSON lines on ``out``: ``{"header": [...]}``, then ``[row, [cells]]``
    for every row that is not empty (``row`` as Excel numbers it), then ``{"end": {"rows": n}}``.

    The sheet's ``<dimension>`` is never believed (it may claim 200,000 rows of a 5 KB file,
    or 10 rows of a file of 100): rows are counted as they are read.  More than ``max_rows``
    data rows, more than ``max_cells`` cells read (empty ones included: a row whose one cell
    sits in column XFD is 16,384 of them), or more than ``max_output`` bytes written stop the
    read with ``import.too_many_rows``, ``import.too_many_cells`` or ``import.too_large``."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip(archive, **zip_caps)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        east_asian_dates(book)
    except Refused:
        raise
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError,
            SyntaxError) as exc:
        raise Refused("import.not_xlsx", f"not a readable .xlsx: {exc.__class__.__name__}: {exc}") from None
    written = 0

    def put(item) -> None:
        nonlocal written
        line = json.dumps(item, ensure_ascii=False, separators=(",", ":")) + "\n"
        written += len(line)
        if written > max_output:
            raise Refused("import.too_large", f"the sheet holds more than {max_output} bytes of text")
        out.write(line)

    try:
        if not book.worksheets:
            put({"end": {"rows": 0, "sheets": 0}})
            return
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # read what is there, not what <dimension> says
        sheet._min_row = sheet._min_column = 1  # a lying start would skip rows too
        cells_read = 0
        header_found = False
        rows = 0
        for number, cells in enumerate(sheet.iter_rows(min_row=1, min_col=1, values_only=True), start=1):
            cells_read += max(1, len(cells))
            if cells_read > max_cells:
                raise Refused("import.too_many_cells", f"more than {max_cells} cells: split the file")
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            while cells and cells[-1] is None:  # padding to the widest row, not data
                cells = cells[:-1]
            if not header_found:  # the first row with anything in it names the columns
                header_found = True
                put({"header": [None if c is None else str(c) for c in cells], "row": number})
                continue
            rows += 1
            if rows > max_rows:
                raise Refused("import.too_many_rows", FieldError("field.too_many_rows",
                                                                 f"more than {max_rows} rows: split the file",
                                                                 n=max_rows))
            put([number, [encode_cell(cell_text(c)) for c in cells]])
        put({"end": {"rows": rows}})
    except Refused:
        raise
    except (KeyError, ValueError, TypeError, EOFError, SyntaxError, zipfile.BadZipFile, OSError) as exc:
        raise Refused("import.not_xlsx", f"the sheet cannot be read: {exc.__class__.__name__}: {exc}") from None
    finally:
        book.close()


# -- the process ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.upload_worker", description=__doc__.split("\n")[0])
    kinds = parser.add_subparsers(dest="kind", required=True)
    pdf = kinds.add_parser("pdf", help="check a PDF's structure: one JSON document")
    pdf.add_argument("--max-pages", type=int, required=True)
    xlsx = kinds.add_parser("xlsx", help="the first sheet of a workbook as JSON lines")
    for name in ("max-rows", "max-cells", "max-output", "max-members", "max-expanded", "max-shared-strings"):
        xlsx.add_argument(f"--{name}", type=int, required=True)
    xlsx.add_argument("--max-ratio", type=float, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)  # pypdf's complaints about repairs: quiet
    data = sys.stdin.buffer.read()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    too_big = "fax.too_complex" if args.kind == "pdf" else "import.too_large"
    try:
        if args.kind == "pdf":
            out.write(json.dumps({"ok": check_pdf(data, args.max_pages)}) + "\n")
        else:
            # openpyxl takes numpy's number types when numpy is there (the appliance has it, for
            # prompts): no use here, and importing it maps hundreds of MB of address space
            sys.modules.setdefault("numpy", None)
            read_xlsx(data, out, max_rows=args.max_rows, max_cells=args.max_cells, max_output=args.max_output,
                      max_members=args.max_members, max_expanded=args.max_expanded, max_ratio=args.max_ratio,
                      max_shared_strings=args.max_shared_strings)
    except Refused as exc:
        refused = {"code": exc.code, "message": exc.message}
        if isinstance(exc.message, FieldError):  # its message id and params cross as JSON too
            refused["field"] = {"id": exc.message.msgid, "params": exc.message.params}
        out.write("\n" + json.dumps({"refused": refused}) + "\n")
    except MemoryError:
        del data
        out.write("\n" + json.dumps({"refused": {"code": too_big,
                                                 "message": "reading it needs more memory than an upload may use"}})
                  + "\n")
    except Exception as exc:  # a parser's surprise is still a file we cannot read, said as such
        logging.getLogger(__name__).exception("the %s parser failed", args.kind)
        code = "fax.bad_pdf" if args.kind == "pdf" else "import.not_xlsx"
        out.write("\n" + json.dumps({"refused": {"code": code, "message": f"the file cannot be read: "
                                                                          f"{exc.__class__.__name__}: {exc}"}}) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())


# -- the parent's side ------------------------------------------------------------------------
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def run(kind: str, data: bytes, options: dict, *, what: str, limits, timeout: float, max_output: int) -> bytes:
    """Start the worker over ``data`` (through ``proc.filter_through``: limits, as nobody, a
    private folder, the process group killed at ``timeout``) and return what it wrote (JSON
    lines: ``iter_lines``); a ``refused`` ending is raised as the ``ValidationError`` it
    names.  ``proc.CommandFailed`` when the worker itself failed (a limit stopped it).  Only
    the last line is decoded here: the rows are the caller's, in its worker thread."""
    from appliance import proc
    from appliance.errors import ValidationError

    argv = [sys.executable, "-m", "appliance.upload_worker", kind]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", str(value)]
    unprivileged = nobody_can_start()
    out = proc.filter_through(argv, data, what=what, limits=limits, unprivileged=unprivileged, timeout=timeout,
                              max_output=max_output,
                              env={"PYTHONPATH": str(PACKAGE_ROOT), "PYTHONDONTWRITEBYTECODE": "1",
                                   "PYTHONNOUSERSITE": "1"})
    try:
        last = json.loads(out.rstrip().rpartition(b"\n")[2] or b"null")
    except ValueError:
        last = None
    if isinstance(last, dict) and "refused" in last:
        code, message = last["refused"]["code"], last["refused"]["message"]
        if isinstance(last["refused"].get("field"), dict):
            message = FieldError(last["refused"]["field"]["id"], message, **last["refused"]["field"]["params"])
        raise ValidationError(message, code=code, fields={"file": message})
    if not (isinstance(last, dict) and ("ok" in last or "end" in last)):
        raise proc.CommandFailed(what, argv, 0, "the worker ended without a result")
    return out


@functools.lru_cache(maxsize=1)
def nobody_can_start() -> bool:
    """Whether nobody can start this worker: run our Python and read this module, pypdf and
    openpyxl (the appliance's can; a developer's Python under /root cannot, and then the
    worker runs as we do, the limits holding all the same)."""
    from importlib.util import find_spec

    from appliance import proc

    modules = [Path(__file__)] + [Path(find_spec(name).origin) for name in ("pypdf", "openpyxl")]
    return proc.others_can_run(sys.executable) and all(proc.others_can_run(m, 0o004) for m in modules)


def iter_lines(out: bytes):
    """The worker's JSON lines, decoded one at a time."""
    for line in io.BytesIO(out):
        if line.strip():
            yield json.loads(line)
