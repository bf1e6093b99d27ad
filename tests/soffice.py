"""LibreOffice conversions for the fixtures: one LibreOffice kept running per test process does
them, and each result is kept under the hash of its input, filter and LibreOffice's build
(tests/cache.py).

Started cold, soffice spends about 1.5 s of CPU starting for a conversion of 0.3 s. A second
`soffice` started with the profile of one already running hands its command line to it and waits
until it is done, so the first one, kept running (headless, a blank document open: with none it
quits after a conversion), does every conversion after the first warm. Where it cannot be
started, or a conversion through it leaves no file, the conversion is made cold, in a profile of
its own, as it always was. The product's own conversions (nianbao/extract/office.py) are not
these: each of those still runs in a profile of its own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import cache

from nianbao.extract import office

_lock = threading.Lock()
_warm: dict = {}  # "pid": the process that started it, "proc", "dir"; "failed": True once it could not start


def build() -> str:
    """LibreOffice's version and build (its versionrc, else `soffice --version`)."""
    if "build" not in _warm:
        rc = Path(os.path.realpath(office.soffice())).parent / "versionrc"
        if rc.exists():
            _warm["build"] = rc.read_text(errors="replace")
        else:
            _warm["build"] = subprocess.run(
                [office.soffice(), "--version"], capture_output=True, text=True, timeout=120
            ).stdout
    return _warm["build"]


@cache.kept("libreoffice", build)
def convert(data: bytes, convert_to: str, suffix: str, name: str = "r.docx") -> bytes:
    """`data` (a file called `name`) converted by `soffice --convert-to convert_to`: the bytes of
    the file it writes (`suffix`)."""
    with _lock, tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        src, out = Path(tmp) / "in" / name, Path(tmp) / "out"
        src.parent.mkdir()
        src.write_bytes(data)
        args = ["--headless", "--convert-to", convert_to, "--outdir", str(out), str(src)]
        target = out / f"{Path(name).stem}.{suffix}"
        profile = _instance()
        if profile is not None:
            try:
                _soffice(profile, *args)
            except subprocess.SubprocessError:  # failed or hung: made cold below
                pass
            if target.exists():
                return target.read_bytes()
        _soffice(f"{tmp}/p", *args)  # cold, as before
        return target.read_bytes()


def _soffice(profile: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [office.soffice(), f"-env:UserInstallation=file://{profile}", *args],
        check=True,
        capture_output=True,
        timeout=180,
    )


def _instance() -> str | None:
    """The profile of this process's running LibreOffice, started if need be (None: there is none)."""
    if _warm.get("pid") == os.getpid() and _warm["proc"].poll() is None:
        return _warm["dir"] + "/p"
    if _warm.get("failed") == os.getpid():
        return None
    where = tempfile.mkdtemp(prefix="nianbao-lo-warm-")
    keep = Path(where) / "keep.txt"
    keep.write_text("\n")
    # a shell starts it, and once this process is gone, however it went, ends its process group
    # (LibreOffice's launcher and soffice.bin) and removes its profile
    script = (
        f'trap "" TERM; "$1" "-env:UserInstallation=file://{where}/p" --headless --norestore --nologo "{keep}" '
        f"</dev/null >/dev/null 2>&1 & while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; "
        f'kill -TERM 0; sleep 5; rm -rf "{where}"; kill -KILL 0'
    )
    proc = subprocess.Popen(["sh", "-c", script, "sh", office.soffice()], start_new_session=True)
    _warm.update(pid=os.getpid(), proc=proc, dir=where)
    ready = Path(where) / ".~lock.keep.txt#"  # written once it has opened the document, its pipe open
    deadline = time.monotonic() + 180
    while not ready.exists():
        if time.monotonic() > deadline:
            stop()
            _warm["failed"] = os.getpid()
            return None
        time.sleep(0.1)
    return where + "/p"


@atexit.register
def stop() -> None:
    """Stop this process's LibreOffice (its whole process group) and remove its profile."""
    proc, where = _warm.pop("proc", None), _warm.pop("dir", None)
    pid = _warm.pop("pid", None)
    if proc is None or pid != os.getpid():
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # LibreOffice quits (the shell ignores it)
    except ProcessLookupError:
        pass
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)  # ProcessLookupError once every process of the group is gone
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    shutil.rmtree(where, ignore_errors=True)
