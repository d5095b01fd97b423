"""Fax pages as TIFF, pure: read the pages of a TIFF-F file (what Asterisk's ReceiveFAX
writes through spandsp: one bilevel image per page, T.4 1-D/2-D or T.6 compressed), write
uncompressed bilevel pages (what SendFAX can send), and wrap received pages in a PDF.

Why our own few hundred lines rather than a converter: the PDF needs no decoding at all.
PDF's ``CCITTFaxDecode`` filter takes T.4/T.6 data as it is, so each page's strips are
copied into an image object with the parameters the TIFF tags give (the approach of
img2pdf). No Debian package (libtiff-tools' ``tiff2pdf``, ImageMagick, Ghostscript) has to
join the image and no image library joins the Python dependencies; a bad file is a clear
``FaxFileError``, not a crashed child process.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# TIFF tags we read or write
WIDTH, LENGTH, BITS, COMPRESSION, PHOTOMETRIC, FILL_ORDER = 256, 257, 258, 259, 262, 266
STRIP_OFFSETS, ROWS_PER_STRIP, STRIP_BYTES, X_RES, Y_RES = 273, 278, 279, 282, 283
T4_OPTIONS, T6_OPTIONS, RES_UNIT, PAGE_NUMBER, SUBFILE = 292, 293, 296, 297, 254
NONE, CCITT_RLE, T4, T6 = 1, 2, 3, 4
SHORT, LONG, RATIONAL = 3, 4, 5
TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
MAX_PAGES = 500


class FaxFileError(ValueError):
    code = "fax.bad_file"


@dataclass(frozen=True)
class Page:
    width: int
    length: int
    compression: int  # 1 none, 3 T.4, 4 T.6
    t4_options: int  # bit 0: 2-D coding; bit 2: fill bits before EOLs
    x_dpi: float
    y_dpi: float
    data: bytes  # the strips, in order
    black_is_1: bool  # photometric 1 (min-is-black) is 0 here: fax pages are white-is-0
    lsb_first: bool  # fill order 2: bits reversed in each byte


def read_pages(data: bytes) -> list[Page]:
    """Every page of a bilevel TIFF; ``FaxFileError`` for anything else."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        raise FaxFileError("not a TIFF file")
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    pages, seen = [], set()
    while offset:
        if offset in seen or len(pages) >= MAX_PAGES:
            raise FaxFileError("the TIFF's pages run in a loop or there are too many")
        seen.add(offset)
        tags, offset = _ifd(data, order, offset)
        pages.append(_page(data, tags))
    if not pages:
        raise FaxFileError("the TIFF has no page")
    return pages


def _ifd(data: bytes, order: str, offset: int) -> tuple[dict[int, list], int]:
    try:
        (count,) = struct.unpack_from(order + "H", data, offset)
        tags = {}
        for i in range(count):
            tag, kind, n, value = struct.unpack_from(order + "HHI4s", data, offset + 2 + 12 * i)
            size = TYPE_SIZE.get(kind, 1) * n
            raw = value[:size] if size <= 4 else data[struct.unpack(order + "I", value)[0]:][:size]
            if len(raw) < size:
                raise FaxFileError(f"tag {tag} points outside the file")
            tags[tag] = _values(order, kind, n, raw)
        (following,) = struct.unpack_from(order + "I", data, offset + 2 + 12 * count)
    except struct.error:
        raise FaxFileError("the TIFF is truncated") from None
    return tags, following


def _values(order: str, kind: int, n: int, raw: bytes) -> list:
    if kind == SHORT:
        return list(struct.unpack(order + f"{n}H", raw))
    if kind == LONG:
        return list(struct.unpack(order + f"{n}I", raw))
    if kind == RATIONAL:
        nums = struct.unpack(order + f"{2 * n}I", raw)
        return [nums[i] / nums[i + 1] if nums[i + 1] else 0.0 for i in range(0, 2 * n, 2)]
    return list(raw)


def _page(data: bytes, tags: dict[int, list]) -> Page:
    def one(tag, default=None):
        values = tags.get(tag)
        if values:
            return values[0]
        if default is None:
            raise FaxFileError(f"the TIFF page has no tag {tag}")
        return default

    if one(BITS, 1) != 1:
        raise FaxFileError("not a black-and-white page")
    compression = one(COMPRESSION, NONE)
    if compression not in (NONE, T4, T6):
        raise FaxFileError(f"compression {compression} is not a fax compression")
    offsets, sizes = tags.get(STRIP_OFFSETS) or [], tags.get(STRIP_BYTES) or []
    if not offsets or len(offsets) != len(sizes):
        raise FaxFileError("the TIFF page has no image data")
    strips = [data[o:o + s] for o, s in zip(offsets, sizes)]
    if any(len(strip) != s for strip, s in zip(strips, sizes)):
        raise FaxFileError("the TIFF page's image data is cut short")
    return Page(width=one(WIDTH), length=one(LENGTH), compression=compression, t4_options=one(T4_OPTIONS, 0),
                x_dpi=float(one(X_RES, 204.0)), y_dpi=float(one(Y_RES, 196.0)), data=b"".join(strips),
                black_is_1=one(PHOTOMETRIC, 0) == 1, lsb_first=one(FILL_ORDER, 1) == 2)


def write_bilevel(pages: list[list[bytes]], width: int = 1728, x_dpi: int = 204, y_dpi: int = 196) -> bytes:
    """An uncompressed multi-page TIFF-F (white is 0): ``pages`` of rows of ``width`` bits."""
    row_bytes = (width + 7) // 8
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    previous_next = 4  # where the offset of the next IFD goes
    for number, rows in enumerate(pages):
        if any(len(r) != row_bytes for r in rows):
            raise ValueError(f"every row must be {row_bytes} bytes")
        image = b"".join(rows)
        image_at = len(out)
        out += image
        res_at = len(out)
        out += struct.pack("<IIII", x_dpi, 1, y_dpi, 1)
        entries = [(SUBFILE, LONG, 1, 2), (WIDTH, LONG, 1, width), (LENGTH, LONG, 1, len(rows)),
                   (BITS, SHORT, 1, 1), (COMPRESSION, SHORT, 1, NONE), (PHOTOMETRIC, SHORT, 1, 0),
                   (FILL_ORDER, SHORT, 1, 1), (STRIP_OFFSETS, LONG, 1, image_at), (ROWS_PER_STRIP, LONG, 1, len(rows)),
                   (STRIP_BYTES, LONG, 1, len(image)), (X_RES, RATIONAL, 1, res_at), (Y_RES, RATIONAL, 1, res_at + 8),
                   (RES_UNIT, SHORT, 1, 2), (PAGE_NUMBER, SHORT, 2, number | (len(pages) << 16))]
        if len(out) % 2:
            out += b"\x00"
        ifd_at = len(out)
        struct.pack_into("<I", out, previous_next, ifd_at)
        out += struct.pack("<H", len(entries))
        for tag, kind, n, value in entries:
            packed = struct.pack("<I", value) if kind in (LONG, RATIONAL) or n == 2 else struct.pack("<HH", value, 0)
            out += struct.pack("<HHI", tag, kind, n) + packed
        previous_next = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


def to_pdf(pages: list[Page]) -> bytes:
    """A PDF with one page per fax page, its image the page's T.4/T.6 data as it is
    (``CCITTFaxDecode``), sized by the page's resolution (a fine A4 fax is 210 x 297 mm)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    kids = []
    catalog, tree = add(b""), add(b"")
    for page in pages:
        if page.lsb_first:
            page = _msb_first(page)
        if page.compression == NONE:
            image_dict = b"/BitsPerComponent 1 /ColorSpace /DeviceGray /Decode [1 0]"
        else:
            k = -1 if page.compression == T6 else (1 if page.t4_options & 1 else 0)
            parms = f"/K {k} /Columns {page.width} /Rows {page.length}"
            # TIFF's T.4 lines each start with an EOL code; told so, a decoder uses them to find
            # the lines (without it Ghostscript read spandsp's byte-aligned pages as blank)
            parms += " /EndOfLine true" if page.compression == T4 else ""
            parms += " /EncodedByteAlign true" if page.t4_options & 4 else ""
            parms += "" if page.black_is_1 else " /BlackIs1 false"
            image_dict = (b"/BitsPerComponent 1 /ColorSpace /DeviceGray /Filter /CCITTFaxDecode /DecodeParms << "
                          + parms.encode() + b" >>")
        image = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d " % (page.width, page.length)
                    + image_dict + b" /Length %d >>\nstream\n" % len(page.data) + page.data + b"\nendstream")
        w_pt, h_pt = page.width * 72 / (page.x_dpi or 204), page.length * 72 / (page.y_dpi or 196)
        content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (w_pt, h_pt)
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << "
                        b"/Im0 %d 0 R >> >> /Contents %d 0 R >>" % (tree, w_pt, h_pt, image, stream)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                         + b"] /Count %d >>" % len(kids))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref)
    return bytes(out)


_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _msb_first(page: Page) -> Page:
    from dataclasses import replace

    return replace(page, data=page.data.translate(_REVERSED), lsb_first=False)
