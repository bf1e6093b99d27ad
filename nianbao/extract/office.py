"""Legacy Word (.doc) and Kingsoft WPS (.wps) files, converted to .docx by LibreOffice headless.

Each conversion gets its own LibreOffice profile directory: concurrent conversions sharing one
profile silently drop files. Kingsoft's .wps is DOC-compatible binary, so both go in as .doc.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from nianbao.document import Block, Unreadable
from nianbao.extract import docx

TIME_LIMIT = 90  # seconds per conversion


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def parse(data: bytes) -> list[Block]:
    return docx.parse(to_docx(data))


def to_docx(data: bytes) -> bytes:
    exe = soffice()
    if exe is None:
        raise Unreadable("LibreOffice (soffice) is not installed, so .doc and .wps files cannot be read "
                         "(make demo installs it where the machine allows)")
    with tempfile.TemporaryDirectory(prefix="nianbao-office-") as tmp:
        src = Path(tmp) / "report.doc"
        src.write_bytes(data)
        cmd = [exe, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", f"{tmp}/out", str(src)]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=TIME_LIMIT, check=False)
        except subprocess.TimeoutExpired:
            raise Unreadable(f"LibreOffice did not convert the document within {TIME_LIMIT} s") from None
        out = Path(tmp) / "out" / "report.docx"
        if not out.exists():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[:200]
            raise Unreadable(f"LibreOffice could not convert the document (exit {done.returncode}){': ' + detail if detail else ''}")
        return out.read_bytes()
