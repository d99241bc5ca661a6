"""A real headless Chromium, driven over the DevTools protocol on a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol commands from file descriptor 3 and
write replies and events to descriptor 4, each message a JSON text ended by a NUL byte: no
port, no websocket library, no driver binary. Every read has a deadline, so a browser that
stops answering fails the test with its stderr instead of hanging it.

Used by tests/test_report_browser.py to click and filter the HTML report the way a user does.
Chromium comes from the distribution (``apt-get install chromium``; ``.ci/run`` installs it);
tests skip without it unless ``ANYLLM_REQUIRE_CHROMIUM=1`` (set by ``.ci/run``) makes a
missing browser a failure.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell")
REQUIRE_ENV = "ANYLLM_REQUIRE_CHROMIUM"
# Flags known to work in a container as root with no display and no network use.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-pipe",
)


class BrowserError(RuntimeError):
    """Chromium failed, exited or did not answer in time."""


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser's path; skip (or fail, under ANYLLM_REQUIRE_CHROMIUM=1) when there is none."""
    binary = find_chromium()
    if binary is None:
        message = f"no Chromium on PATH (tried {', '.join(CANDIDATES)}; apt-get install -y chromium)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{message}, and {REQUIRE_ENV}=1 requires it")
        pytest.skip(message)
    return binary


def _high(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or above, so moving the pipes onto 3 and 4 in the child
    cannot overwrite one with the other."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


class Chromium:
    """One headless browser process with a fresh, empty profile."""

    def __init__(self, binary: str, *, timeout: float = 30.0, width: int = 1280, height: int = 900) -> None:
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="anyllm-chromium-")
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while the browser runs
        commands_r, commands_w = (_high(fd) for fd in os.pipe())
        replies_r, replies_w = (_high(fd) for fd in os.pipe())

        def onto_3_and_4() -> None:
            os.dup2(commands_r, 3)
            os.dup2(replies_w, 4)

        self._proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            pass_fds=(3, 4),
            preexec_fn=onto_3_and_4,
        )
        os.close(commands_r)
        os.close(replies_w)
        self._out = commands_w
        self._in = replies_r
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # -- protocol ---------------------------------------------------------------------------

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")[-2000:]

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"Chromium did not answer in {self.timeout} s:\n{self._stderr_tail()}")
            ready, _, _ = select.select([self._in], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise BrowserError(
                    f"Chromium closed its pipe (exit {self._proc.poll()}):\n{self._stderr_tail()}"
                )
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, session: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self.events):
                if event["method"] == method and (session is None or event.get("sessionId") == session):
                    return self.events.pop(index)
            reply = self._read_message(deadline)
            if "method" in reply:
                self.events.append(reply)

    def open(self, url: str) -> Page:
        """A new tab showing ``url``, loaded (its load event fired)."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, target, session)
        self.send("Page.enable", session=session)
        self.send("Runtime.enable", session=session)
        page.goto(url)
        return page

    def close(self) -> None:
        try:
            if self._proc.poll() is None:
                with contextlib.suppress(BrowserError):
                    self.send("Browser.close")
            try:
                self._proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        finally:
            os.close(self._out)
            os.close(self._in)
            self._stderr.close()
            shutil.rmtree(self._profile, ignore_errors=True)


class Page:
    """One tab: evaluate script, click where an element is drawn, read what is visible."""

    def __init__(self, browser: Chromium, target: str, session: str) -> None:
        self.browser = browser
        self.target = target
        self.session = session

    def goto(self, url: str) -> None:
        self.browser.send("Page.navigate", {"url": url}, session=self.session)
        self.browser.wait_event("Page.loadEventFired", self.session)

    def js(self, expression: str) -> Any:
        """The value of a script expression in the page (JSON-serialisable values only)."""
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) at the centre of the first element that
        matches ``selector``, after scrolling it into view, as a user's click."""
        box = self.js(
            f"(function(){{var el=document.querySelector({json.dumps(selector)});"
            "if(!el){return null;}el.scrollIntoView({block:'center'});"
            "var r=el.getBoundingClientRect();"
            "return [r.left+r.width/2,r.top+r.height/2,r.width,r.height];})()"
        )
        if not box or box[2] == 0 or box[3] == 0:
            raise BrowserError(f"nothing visible to click at {selector!r}")
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
                session=self.session,
            )

    def choose(self, select_name: str, value: str) -> None:
        """Pick an option of a ``<select name=...>`` in the filter form, as the browser does
        when a user picks one (the value changes, then a bubbling change event)."""
        wanted = json.dumps(value)
        ok = self.js(
            f"(function(){{var s=document.querySelector('#filters select[name={select_name}]');"
            f"if(!s||![].some.call(s.options,function(o){{return o.value==={wanted};}})){{return false;}}"
            f"s.value={wanted};s.dispatchEvent(new Event('change',{{bubbles:true}}));return true;}})()"
        )
        if not ok:
            raise BrowserError(f"no option {value!r} in the {select_name!r} filter")

    def visible(self, selector: str) -> list[bool]:
        """For each element matching ``selector``: is it rendered (not hidden, not inside a
        closed details element, not display:none)?"""
        value: list[bool] = self.js(
            f"[].map.call(document.querySelectorAll({json.dumps(selector)}),"
            "function(el){return el.checkVisibility();})"
        )
        return value

    def count(self, selector: str, predicate: str = "true") -> int:
        """How many elements match ``selector`` and the script ``predicate`` (over ``e``)."""
        value: int = self.js(
            f"[].filter.call(document.querySelectorAll({json.dumps(selector)}),"
            f"function(e){{return {predicate};}}).length"
        )
        return value

    def texts(self, selector: str, prop: str = "textContent") -> list[str]:
        """One property (text, href, ...) of every element that matches ``selector``."""
        value: list[str] = self.js(
            f"[].map.call(document.querySelectorAll({json.dumps(selector)}),function(e){{return e.{prop};}})"
        )
        return value

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


def file_url(path: Path) -> str:
    return path.resolve().as_uri()
