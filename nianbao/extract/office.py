"""Legacy Word (.doc), Kingsoft WPS (.wps) and RTF files, converted to .docx by LibreOffice headless.

Each conversion gets its own LibreOffice profile directory: concurrent conversions sharing one
profile silently drop files. Kingsoft's .wps is DOC-compatible binary, so both go in as .doc.
Their OLE2 container is looked into first: LibreOffice headless answers a password-protected or
broken file with a message about Java or an empty document, not with what the file is.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import olefile

from nianbao.extract import docx
from nianbao.model.document import Block
from nianbao.model.errors import Unreadable


@dataclass(frozen=True)
class Limits:
    seconds: int = 90  # per conversion (within the document's own time limit: nianbao.run.isolate)


LIMITS = Limits()


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


_F_ENCRYPTED = 0x0100  # FIB flags (offset 10 of the WordDocument stream), [MS-DOC] 2.5.2
_OTHER_OFFICE = {
    "Workbook": "an Excel workbook",
    "Book": "an Excel workbook",
    "PowerPoint Document": "a PowerPoint presentation",
}


def parse(data: bytes, fmt: str = "doc") -> list[Block]:
    return docx.parse(to_docx(data, fmt))


def check_ole(data: bytes) -> None:
    """Unreadable, saying what the file is, when an OLE2 file is no Word document we can open."""
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as e:  # olefile raises OSError and others on a broken container
        raise Unreadable(f"a corrupt Word file: its OLE2 container cannot be read ({e})") from None
    with ole:
        streams = {"/".join(s) for s in ole.listdir()}
        if "EncryptedPackage" in streams:
            raise Unreadable("encrypted: a password-protected Word document (it cannot be read without the password)")
        if "WordDocument" not in streams:
            other = next((what for name, what in _OTHER_OFFICE.items() if name in streams), None)
            raise Unreadable(f"not a Word document: {other or 'an OLE2 file without a WordDocument stream'}")
        try:
            fib = ole.openstream("WordDocument").read(12)
        except Exception as e:
            raise Unreadable(f"a corrupt Word file: its WordDocument stream cannot be read ({e})") from None
    if len(fib) < 12:
        raise Unreadable("a corrupt Word file: its WordDocument stream is truncated")
    if struct.unpack_from("<H", fib, 10)[0] & _F_ENCRYPTED:
        raise Unreadable("encrypted: a password-protected Word document (it cannot be read without the password)")


def to_docx(data: bytes, fmt: str = "doc") -> bytes:
    exe = soffice()
    if exe is None:
        raise Unreadable(
            "LibreOffice (soffice) is not installed, so .doc, .wps and .rtf files cannot be read "
            "(make demo installs it where the machine allows)"
        )
    if fmt != "rtf":
        check_ole(data)
    with tempfile.TemporaryDirectory(prefix="nianbao-office-") as tmp:
        src = Path(tmp) / f"report.{'rtf' if fmt == 'rtf' else 'doc'}"
        src.write_bytes(data)
        cmd = [
            exe,
            f"-env:UserInstallation=file://{tmp}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            f"{tmp}/out",
            str(src),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=LIMITS.seconds, check=False)
        except subprocess.TimeoutExpired:
            raise Unreadable(f"LibreOffice did not convert the document within {LIMITS.seconds} s") from None
        out = Path(tmp) / "out" / "report.docx"
        if not out.exists():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[:200]
            raise Unreadable(
                f"LibreOffice could not convert the document (exit {done.returncode}){': ' + detail if detail else ''}"
            )
        return out.read_bytes()
