"""Playwright, driven from the test's thread, with its event loop in a thread of its own.

Why not `sync_playwright()`: it keeps an asyncio loop marked as running in the calling thread for as long
as the browser lives, and the browser lives for the whole worker (one Chromium per xdist worker). Every
test that runs on that worker afterwards and calls `asyncio.run()` — the double, the proxy, LiteLLM —
would then fail with "asyncio.run() cannot be called from a running event loop". So the async API runs
on a loop in a daemon thread, and `Blocking` wraps its objects so that a test calls them as plain
functions: each call is carried out on the loop's thread and waited for.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Chromium from Debian (Playwright's own browser download reaches a host no registry serves). The flags
# keep it from calling home or starting services a headless test has no use for.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
GUARD_SECONDS = 120.0  # a stuck call ends the test instead of the worker: Playwright's own timeouts are shorter


class Driver:
    """An event loop in a daemon thread; `run` carries a coroutine out on it and returns its result."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="playwright-loop", daemon=True)
        self._thread.start()

    def run(self, awaitable: Awaitable[T]) -> T:
        async def inside() -> T:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(inside(), self._loop).result(GUARD_SECONDS)

    def call(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call `function` on the loop's thread (awaiting it if it returns an awaitable); Playwright objects
        in the result come back wrapped."""

        async def inside() -> Any:
            result = function(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return self.wrap(asyncio.run_coroutine_threadsafe(inside(), self._loop).result(GUARD_SECONDS))

    def wrap(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.wrap(item) for item in value]
        if type(value).__module__.startswith("playwright.") and not isinstance(value, BaseException):
            return Blocking(value, self)
        return value

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class Blocking:
    """A Playwright async-API object (Browser, BrowserContext, Page, Locator, Keyboard…) whose methods
    block until done: `page.goto(url)` instead of `await page.goto(url)`."""

    def __init__(self, target: Any, driver: Driver) -> None:
        self._target = target
        self._driver = driver

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value) and not isinstance(value, type):
            return lambda *args, **kwargs: self._driver.call(value, *args, **kwargs)
        return self._driver.wrap(value)

    def __repr__(self) -> str:
        return f"Blocking({self._target!r})"


def launch(chromium: Path) -> tuple[Driver, Blocking, Callable[[], None]]:
    """Start Playwright and one headless Chromium: the driver, the browser, and how to stop both."""
    from playwright.async_api import async_playwright

    driver = Driver()

    async def start() -> tuple[Any, Any]:
        playwright = await async_playwright().start()
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        return playwright, browser

    try:
        playwright, browser = driver.run(start())
    except BaseException:
        driver.stop()
        raise

    def stop() -> None:
        async def close() -> None:
            await browser.close()
            await playwright.stop()

        try:
            driver.run(close())
        finally:
            driver.stop()

    return driver, Blocking(browser, driver), stop
