"""The report opened in headless Chromium (tests/browser/conftest.py says how and why)."""
