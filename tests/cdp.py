"""A tiny Chrome DevTools Protocol client over ``--remote-debugging-pipe``.

Chromium reads commands from fd 3 and writes replies and events to fd 4,
each a JSON message ended by a NUL byte: no websocket, so no dependency
beyond the standard library.  Used by the browser tests and by
``bench/screenshot.py``.

    with Chromium.start() as browser:
        page = browser.new_page(width=1200, height=900)
        page.goto(Path("site/index.html").as_uri())
        page.evaluate("document.title")
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

# Without the background-networking flags Chromium keeps trying to reach
# Google's services, which here floods the log with refused connections.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--remote-debugging-pipe",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    configured = os.environ.get("VAULTGEN_CHROMIUM")
    if configured:
        return configured
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _high(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more, so moving it to 3 or 4 clobbers nothing."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


class Page:
    """One tab, attached in flat mode: commands carry its session id."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser, self.session = browser, session
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def goto(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the load event (images and scripts done)."""
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.browser.wait_event(self, "Page.loadEventFired", timeout)

    def evaluate(self, expression: str, timeout: float = 30.0):
        """The value of a JavaScript expression; a promise is awaited."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details.get("text"))
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0):
        """Poll until ``expression`` is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def screenshot(self, path: Path, full_page: bool = False) -> None:
        params: dict = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
        data = self.send("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed loads since the last ``goto``."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"{entry.get('text')} {entry.get('url', '')}".strip())
        return found

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


class Chromium:
    """A headless Chromium with a fresh profile, driven over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path, process: subprocess.Popen, writer: int, reader: int) -> None:
        self.binary, self.profile, self.process = binary, profile, process
        self._writer, self._reader = writer, reader
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._inbox: queue.Queue = queue.Queue()
        self._pages: dict[str, Page] = {}
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, binary: str | None = None) -> Chromium:
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError("no Chromium found (install the chromium package or set VAULTGEN_CHROMIUM)")
        profile = Path(tempfile.mkdtemp(prefix="vaultgen-chromium-"))
        to_child_r, to_child_w = (_high(fd) for fd in os.pipe())
        from_child_r, from_child_w = (_high(fd) for fd in os.pipe())

        def wire() -> None:  # in the child, before exec: the pipe ends Chromium expects
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire,  # fds are close-on-exec by default; 3 and 4 are not
        )
        os.close(to_child_r)
        os.close(from_child_w)
        browser = cls(binary, profile, process, to_child_w, from_child_r)
        browser.send("Target.setDiscoverTargets", {"discover": False}, timeout=60)
        return browser

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._reader, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))

    def _pump(self, timeout: float) -> None:
        """Take one message off the pipe (reply or event) and file it."""
        try:
            message = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return
        if message is None:
            raise BrowserError(f"Chromium exited (status {self.process.poll()})")
        if "id" in message:
            self._replies[message["id"]] = message
        elif message.get("sessionId") in self._pages:
            self._pages[message["sessionId"]].events.append(message)

    def send(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float = 30.0) -> dict:
        self._next_id += 1
        ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._writer, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while ident not in self._replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"{method}: no reply in {timeout:.0f} s")
            self._pump(min(left, 0.5))
        reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, page: Page, method: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in page.events[seen:]:
                if event["method"] == method:
                    return event
            seen = len(page.events)
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no {method} in {timeout:.0f} s")
            self._pump(min(left, 0.5))

    def new_page(self, width: int = 1200, height: int = 900, dark: bool = False) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.target = target
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.send("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._writer, self._reader):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
