"""The releases a package registry serves, for bisecting a verdict across them.

Asks the registry's simple API in its JSON form (PEP 691: `Accept: application/vnd.pypi.simple.v1+json`)
at the index the user's uv or pip configuration names (UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL;
PyPI otherwise). A release is a candidate only if the registry still serves it and it is not a
pre-release; releases known to be compromised or pulled are never installed, whatever the registry
says (`NEVER` — data, with the reason).
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org/simple"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
# Releases never to install, whatever the registry serves: package → (version glob, why).
NEVER: Mapping[str, tuple[tuple[str, str], ...]] = {
    "litellm": (
        ("1.107.*", "a compromised release line (pulled from PyPI)"),
        ("1.82.7", "a compromised release"),
        ("1.82.8", "a compromised release"),
    ),
}


@dataclass(frozen=True)
class Release:
    version: Version
    yanked: str | None = None  # the registry's reason, or "" when yanked without one

    @property
    def text(self) -> str:
        return str(self.version)


@dataclass(frozen=True)
class Skipped:
    version: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"version": self.version, "why": self.why}


class RegistryError(RuntimeError):
    """The registry could not be asked, or does not know the package; the message says which."""


def index_url(environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if environ.get(name):
            return environ[name].rstrip("/")
    return DEFAULT_INDEX


def releases(package: str, index: str | None = None, timeout: float = 30.0) -> list[Release]:
    """Every release of `package` the registry lists with at least one file, oldest first; a release
    whose every file is yanked is yanked."""
    url = f"{(index or index_url())}/{canonicalize_name(package)}/"
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            document = json.load(answer)
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot list the releases of {package} at {url}: {exc}") from exc
    return releases_from(document)


def releases_from(document: Mapping[str, object]) -> list[Release]:
    """Releases out of a PEP 691 project page (pure; the network part is `releases`)."""
    files: dict[Version, list[object]] = {}
    for entry in document.get("files") or []:  # type: ignore[union-attr]
        version = _version_of(str(entry.get("filename", "")))  # type: ignore[union-attr]
        if version is not None:
            files.setdefault(version, []).append(entry.get("yanked", False))  # type: ignore[union-attr]
    found = []
    for version, yanks in sorted(files.items()):
        yanked = None
        if all(yank not in (False, None) for yank in yanks):
            yanked = next((str(y) for y in yanks if isinstance(y, str)), "")
        found.append(Release(version, yanked))
    return found


def _version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidVersion, ValueError):
        return None
    return None


def never(package: str, version: str) -> str | None:
    """Why this release must never be installed, or None."""
    for pattern, why in NEVER.get(canonicalize_name(package), ()):
        if fnmatchcase(version, pattern):
            return why
    return None


def candidates(package: str, found: Iterable[Release], good: str, bad: str) -> tuple[list[str], list[Skipped]]:
    """The releases strictly between `good` and `bad` (either order) that may be tried, in order from
    good towards bad, and the ones skipped there with the reason."""
    low, high = sorted((Version(good), Version(bad)))
    tried, skipped = [], []
    for release in found:
        if not low < release.version < high:
            continue
        why = never(package, release.text)
        if why is None and release.yanked is not None:
            why = f"yanked{': ' + release.yanked if release.yanked else ''}"
        if why is None and (release.version.is_prerelease or release.version.is_devrelease):
            why = "a pre-release"
        if why is None:
            tried.append(release.text)
        else:
            skipped.append(Skipped(release.text, why))
    if Version(good) > Version(bad):
        tried.reverse()
    return tried, skipped
