"""A page opened in headless Chromium over the DevTools protocol: what a reader's browser did with it.

`visit(url)` loads the page and reports every request it made, every console message and uncaught
exception, the platform fonts that drew chosen elements (so "Chinese rendered" means a CJK font
drew the glyphs, not a box), values computed by JavaScript in the page, and a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Visit:
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    fonts: dict[str, list[str]] = field(default_factory=dict)  # selector -> platform fonts that drew its text
    values: dict[str, object] = field(default_factory=dict)  # expression -> its value in the page


class _Session:
    def __init__(self, ws):
        self.ws, self.ids, self.events = ws, itertools.count(1), []

    def send(self, method: str, **params):
        n = next(self.ids)
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait(self, method: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic()))))


def visit(
    url: str,
    *,
    shot: Path | None = None,
    fonts: tuple[str, ...] = (),
    evaluate: tuple[str, ...] = (),
    width: int = 1280,
    height: int = 900,
    full_page: bool = False,
) -> Visit:
    from websockets.sync.client import connect

    profile = Path(tempfile.mkdtemp(prefix="nianbao-chromium-"))
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > end or proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        ws_url = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
        with connect(ws_url, max_size=None, open_timeout=30) as ws:
            s = _Session(ws)
            for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
                s.send(f"{domain}.enable")
            s.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
            s.send("Page.navigate", url=url)
            s.wait("Page.loadEventFired")
            out = Visit()
            for expr in evaluate:
                out.values[expr] = s.send("Runtime.evaluate", expression=expr, returnByValue=True)["result"].get(
                    "value"
                )
            root = s.send("DOM.getDocument", depth=-1)["root"]["nodeId"]
            for selector in fonts:
                node = s.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
                used = s.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"] if node else []
                out.fonts[selector] = [f["familyName"] for f in used]
            if shot is not None:
                params = {"format": "png"}
                if full_page:
                    size = s.send("Page.getLayoutMetrics")["cssContentSize"]
                    params |= {
                        "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 4000), "scale": 1},
                    }
                shot.write_bytes(base64.b64decode(s.send("Page.captureScreenshot", **params)["data"]))
            s.send("Runtime.evaluate", expression="1")  # drain events sent meanwhile
            for e in s.events:
                m, p = e.get("method"), e.get("params", {})
                if m == "Network.requestWillBeSent":
                    out.requests.append(p["request"]["url"])
                elif m == "Runtime.consoleAPICalled":
                    out.console.append(
                        f"console.{p['type']}: "
                        + " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
                    )
                elif m == "Runtime.exceptionThrown":
                    out.console.append(
                        f"exception: {p['exceptionDetails'].get('text')} {p['exceptionDetails'].get('exception', {}).get('description', '')}"
                    )
                elif m == "Log.entryAdded":
                    out.console.append(f"log.{p['entry']['level']}: {p['entry']['text']} {p['entry'].get('url', '')}")
            return out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
