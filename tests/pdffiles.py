"""PDF files written by hand for the tests: objects in order, then a correct xref table."""

from __future__ import annotations


def pdf(objects: list[str], head: bytes = b"%PDF-1.4\n") -> bytes:
    """A PDF of ``objects`` (object 1 the catalog), numbered from 1, after ``head``."""
    out, offsets = bytearray(head), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj{body}endobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
