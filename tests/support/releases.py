"""The installed client releases, for tests that pin a behaviour which changed between releases: such a
test asserts each release's behaviour explicitly, keyed on the installed version, with the release where
it was measured to change (never a skip)."""

from importlib import metadata

from packaging.version import Version


def installed(distribution: str) -> Version:
    return Version(metadata.version(distribution))


def before(distribution: str, release: str) -> bool:
    """The installed `distribution` is older than `release`."""
    return installed(distribution) < Version(release)
