"""Remove secrets from anything before it is written: headers, URLs, bodies, error text, log lines.

Three nets, because each alone leaks: known secret values (the key in use and every environment
variable that looks like a credential) are replaced wherever they appear; credential-bearing headers,
query parameters and URL userinfo are replaced whatever their value — in a URL and in any text that
quotes one (an exception message, a reason, a log line); and key-shaped strings (Z.AI `<id>.<secret>`,
`sk-…`, bearer tokens, HTTP Basic credentials) are replaced even when nobody told us they were secrets.

What counts as a secret and how it is redacted lives here, outside `recording/`, because every layer
that writes to disk or prints needs it: cassettes (the recorder), results, logs, usage errors, the
doctor. The components that write take a `Scrubber` when they are built (`Recorder`, `ResultsWriter`,
the session's log handlers) and default to `SCRUBBER`, the process-wide one: the run adds the key in
use to it once (`CellRunner`), and every door to disk must then know that key, so they share it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

REDACTED = "<redacted>"

SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "x-litellm-api-key",
    }
)
SENSITIVE_PARAMS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "api-key",
        "token",
        "access_token",
        "auth",
        "password",
        "secret",
        "signature",
    }
)
# Whole words of an environment variable name: ZAI_API_KEY, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY —
# not MONKEY_BUSINESS or KEYBOARD_LAYOUT.
_ENV_NAME = re.compile(r"(^|_)(KEY|KEYS|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)($|_)", re.IGNORECASE)
_KEY_SHAPES = (
    re.compile(r"\b[0-9a-f]{32}\.[A-Za-z0-9]{16}\b"),  # Z.AI API key: <id>.<secret>
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),  # OpenAI / LiteLLM-style keys
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(r"(?i)(\"?x-api-key\"?\s*[:=]\s*\"?)[A-Za-z0-9._-]{16,}"),
)
# A URL's userinfo inside text: `scheme://user:password@host` (a user name alone can be a token too).
_TEXT_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)([^\s/?#@\"'<>\\]+)@")
# A query parameter inside text: `?token=…`, `&key=…`, HTML's `&amp;key=…`. The value ends where a URL
# quoted in prose, JSON, a repr or markup ends — not at `,` `.` or `)`: a secret may hold them, and
# redacting a trailing comma is the cheaper mistake.
_TEXT_PARAM = re.compile(r"([?&](?:amp;)?)([^\s=&#?\"'<>\\]+)=([^\s&#\"'<>\\]+)")
# `Basic <base64 of user:password>`: the userinfo of a URL as httpx sends it.
_BASIC = re.compile(r"\b((?i:basic)\s+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_MIN_SECRET = 8
# Scrubbed short strings are remembered: every record repeats the same ids, model names, roles, reasons
# and chunk texts thousands of times a run, and each pass costs a dozen regular expressions. Bounded in
# entries and in length (bodies are scrubbed afresh), and forgotten whenever a secret is added.
# Scrubbed text is remembered, by a budget of characters rather than a count of entries: a recorded
# agent conversation repeats a 30 KB system prompt in every turn of every path, and scanning it with
# each key shape again was a third of such a cell's time. The memo holds at most this many characters
# of originals (their scrubbed copies are mostly the same objects); when full it starts again.
_MEMO_CHARS = 64_000_000


class Scrubber:
    """Replaces secrets in text, headers, URLs and bodies. Thread-safe; secrets can be added late."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._ordered: tuple[str, ...] = ()  # longest first: a secret inside another is replaced after it
        self._memo: dict[str, str] = {}
        self._memo_chars = 0
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, value: str | None) -> None:
        if value and len(value) >= _MIN_SECRET:
            with self._lock:
                if value not in self._secrets:
                    self._secrets.add(value)
                    self._ordered = tuple(sorted(self._secrets, key=len, reverse=True))
                    self._memo = {}  # an earlier answer may hold the new secret
                    self._memo_chars = 0

    def add_environment_secrets(self, environ: Mapping[str, str] | None = None) -> None:
        """Treat every environment variable named like a credential as a secret value."""
        for name, value in (environ if environ is not None else os.environ).items():
            if _ENV_NAME.search(name):
                self.add_secret(value)

    def text(self, value: str) -> str:
        memo = self._memo  # the dict of this generation of secrets (add_secret replaces it)
        known = memo.get(value)
        if known is not None:
            return known
        scrubbed = value
        for secret in self._ordered:
            if secret in scrubbed:
                scrubbed = scrubbed.replace(secret, REDACTED)
        scrubbed = self._shapes(_url_credentials(scrubbed))
        if self._memo_chars + len(value) > _MEMO_CHARS:
            memo.clear()
            self._memo_chars = 0
        memo[value] = scrubbed
        self._memo_chars += len(value)
        return scrubbed

    @staticmethod
    def _shapes(value: str) -> str:
        for shape in _KEY_SHAPES:
            value = shape.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, value)
        return _BASIC.sub(_redact_basic, value) if "asic" in value or "ASIC" in value else value

    def body(self, value: bytes | str | None) -> bytes | str | None:
        """Scrub a body; text stays text and bytes stay bytes. Non-UTF-8 bytes get the secret-value net only."""
        if value is None or isinstance(value, str):
            return None if value is None else self.text(value)
        try:
            decoded = value.decode("utf-8")
        except UnicodeDecodeError:
            # Not text: replace known secrets byte-wise, then run the key-shape net over a latin-1
            # view (one character per byte, so every other byte survives unchanged).
            for secret in self._ordered:
                value = value.replace(secret.encode(), REDACTED.encode())
            view = value.decode("latin-1")
            scrubbed_view = self._shapes(_url_credentials(view))
            return value if scrubbed_view == view else scrubbed_view.encode("latin-1")
        scrubbed = self.text(decoded)
        return value if scrubbed == decoded else scrubbed.encode("utf-8")

    def url(self, url: str) -> str:
        """Redact credential query parameters and userinfo; leave every other byte of the URL as sent."""
        parts = urlsplit(url)
        if parts.query:
            query = "&".join(_redact_param(pair) for pair in parts.query.split("&"))
            if query != parts.query:
                url = urlunsplit(parts._replace(query=query))
        if parts.username or parts.password:
            netloc = parts.netloc.rsplit("@", 1)[-1]
            url = urlunsplit(urlsplit(url)._replace(netloc=netloc))
        return self.text(url)

    def data(self, value: Any) -> Any:
        """Scrub a JSON-like structure: strings everywhere, URLs as URLs, values under credential-bearing
        header names redacted. The one call every record goes through before it is written."""
        if isinstance(value, str):
            return self.url(value) if value.startswith(("http://", "https://")) else self.text(value)
        if isinstance(value, dict):
            return {
                key: (_redact_header_value(item) if str(key).lower() in SENSITIVE_HEADERS else self.data(item))
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        """Scrub a header mapping; values may be strings or lists of strings (vcrpy stores lists)."""
        clean: dict[str, Any] = {}
        for name, value in headers.items():
            if name.lower() in SENSITIVE_HEADERS:
                clean[name] = _redact_header_value(value)
            elif isinstance(value, list):
                clean[name] = [self.text(str(item)) for item in value]
            else:
                clean[name] = self.text(str(value))
        return clean


def _url_credentials(value: str) -> str:
    """Redact the userinfo and the credential-named query parameters of every URL quoted in a text
    (`Error: GET http://u:pw@host/x?token=abc failed`), leaving every other byte as it was. The
    prechecks keep it cheap: every string of every record passes here, and few hold a URL."""
    if "://" in value and "@" in value:
        value = _TEXT_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", value)
    if "=" in value and ("?" in value or "&" in value):
        value = _TEXT_PARAM.sub(_redact_text_param, value)
    return value


def _redact_text_param(match: re.Match[str]) -> str:
    separator, name, _ = match.groups()
    return f"{separator}{name}={REDACTED}" if unquote_plus(name).lower() in SENSITIVE_PARAMS else match.group(0)


def _redact_basic(match: re.Match[str]) -> str:
    """Only a real `user:password` pair: `Basic understanding` and other prose stay as they are."""
    try:
        decoded = base64.b64decode(match.group(2), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return match.group(0)
    return match.group(1) + REDACTED if ":" in decoded and decoded.isprintable() else match.group(0)


def _redact_param(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    if sep and unquote_plus(name).lower() in SENSITIVE_PARAMS:
        return f"{name}={REDACTED}"
    return pair


def _redact_header_value(value: Any) -> Any:
    return [_keep_scheme(v) for v in value] if isinstance(value, list | tuple) else _keep_scheme(value)


def _keep_scheme(value: Any) -> str:
    """`Bearer abc…` → `Bearer <redacted>`: the auth scheme is evidence, the credential is not."""
    scheme, _, rest = str(value).partition(" ")
    if rest and scheme.isalpha() and len(scheme) <= 10:
        return f"{scheme} {REDACTED}"
    return REDACTED


# The process-wide scrubber: every credential-named environment variable, plus whatever the run adds
# (the key in use). The default of every component that writes; one instance, so a secret added late
# is known at every door.
SCRUBBER = Scrubber()
SCRUBBER.add_environment_secrets()
