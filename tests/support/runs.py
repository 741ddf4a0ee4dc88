"""Pieces of a hand-made results document that the report tests and the browser tests both render: the
`run` header, and the source of a public recording."""

from __future__ import annotations

from typing import Any

RUN: dict[str, Any] = {
    "id": "20260101T000000Z-replay-1",
    "mode": "replay",
    "started_at": "2026-01-01T00:00:00Z",
    "finished_at": "2026-01-01T00:00:15Z",
    "harness": "zai-conformance 0.1.0",
    "clients": {"python": "3.11.7", "openai": "2.54.0", "litellm": "1.106.2"},
    "catalogue": "conformance/data/catalogue.yaml",
    "expectations": "conformance/data/expectations.yaml",
    "base_urls": {
        "general": "https://api.z.ai/api/paas/v4",
        "coding": "https://api.z.ai/api/coding/paas/v4",
        "anthropic": "https://api.z.ai/api/anthropic",
    },
    "key_present": False,
    "selection": [],
    "network": {"guard": True, "refused": []},
}


# where a public recording came from (a real fantasy cassette), as its evidence's provenance names it
PUBLIC_SOURCE: dict[str, Any] = {
    "project": "charmbracelet/fantasy",
    "license": "MIT",
    "path": "providertests/testdata/TestZAICommon/zai-glm-4.5/simple.yaml",
    "commit": "71f727f0c6f1021be71a2284bfccaa8465fa2213",
    "date": "2025-10-23",
    "corpus_file": "TestZAICommon__zai-glm-4.5__simple.dc1a9ef3.yaml",
}
