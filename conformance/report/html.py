"""Placeholder HTML renderer (replaced by the full report)."""

import html
import json


def render_html(document):
    return "<!doctype html><meta charset=utf-8><title>zai-conformance</title><pre>" + html.escape(
        json.dumps(document["summary"], indent=2)
    ) + "</pre>"
