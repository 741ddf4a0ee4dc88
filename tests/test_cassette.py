"""The project's cassette format: byte-exact bodies, loud failures on corrupt files, atomic writes,
and the vcrpy persister that carries provenance as cassette metadata."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
import vcr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from conformance.recording import cassette
from conformance.recording.cassette import FORMAT, CorruptCassette, Persister

PROVENANCE = {"kind": "double", "endpoint": "coding", "model": "glm-4.6", "scenario": "chat"}
URL = "http://zai.invalid/api/coding/paas/v4/chat/completions"
SSE = (
    'data: {"id":"1","choices":[{"index":0,"delta":{"content":"Olá"}}]}\n'
    "\n"
    'data: {"id":"1","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],'
    '"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n'
    "\n"
    "data: [DONE]\n"
    "\n"
)


def _interaction(request_body: bytes | str | None, response_body: bytes | str | None) -> dict[str, Any]:
    return {
        "request": {
            "method": "POST",
            "uri": URL,
            "headers": {"Content-Type": ["application/json"]},
            "body": cassette.encode_body(request_body),
        },
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["text/event-stream"]},
            "body": cassette.encode_body(response_body),
        },
    }


def _round_trip(path: Path, request_body: bytes | str | None, response_body: bytes | str | None):
    cassette.write(path, PROVENANCE, [_interaction(request_body, response_body)])
    document = cassette.read(path)
    [request], [response] = cassette.to_vcr(document, path)
    return request.body, response["body"]["string"], document


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cassettes") / "roundtrip.yaml"


# --- round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(SSE, id="sse-blank-lines-trailing-newlines"),
        pytest.param(SSE + "\n\n", id="sse-extra-trailing-newlines"),
        pytest.param("Olá! 你好 🙂 — \u2028 \ufeff", id="unicode"),
        pytest.param("line one\r\nline two\r\n", id="crlf"),
        pytest.param("  leading and trailing spaces  \n  \n", id="spaces"),
        pytest.param("no newline at the end", id="single-line"),
        pytest.param("", id="empty"),
        pytest.param('{"a": 1}', id="json"),
        pytest.param("123", id="number-like"),
        pytest.param("null", id="null-like"),
        pytest.param(b"\xff\xfe\x00binary\x80", id="non-utf8"),
        pytest.param("tab\tand\x00nul\x1b[0m", id="control-characters"),
    ],
)
def test_bodies_survive_byte_for_byte(tmp_path, body):
    request_body, response_body, _ = _round_trip(tmp_path / "c.yaml", body, body)
    assert request_body == _as_bytes(body)
    assert response_body == _as_bytes(body)


def test_null_request_body_stays_null(tmp_path):
    request_body, response_body, _ = _round_trip(tmp_path / "c.yaml", None, SSE)
    assert request_body is None
    assert response_body == SSE.encode()


def test_sse_is_stored_readable_and_binary_as_base64(tmp_path):
    path = tmp_path / "c.yaml"
    cassette.write(path, PROVENANCE, [_interaction('{"model":"glm-4.6"}', SSE)])
    text = path.read_text(encoding="utf-8")
    assert text.startswith(f"format: {FORMAT}\nprovenance:\n")
    assert "body: |" in text  # a literal block, not an escaped one-liner
    assert "\n      data: [DONE]\n" in text
    assert "Olá" in text  # unicode kept as is, not \u-escaped

    cassette.write(path, PROVENANCE, [_interaction(None, b"\xff\x00\x01")])
    assert cassette.read(path)["interactions"][0]["response"]["body"] == {"base64": "/wAB"}


def test_encode_body_keeps_text_and_utf8_bytes_as_text():
    assert cassette.encode_body("é") == "é"
    assert cassette.encode_body("é".encode()) == "é"
    assert cassette.encode_body(b"\xe9") == {"base64": "6Q=="}
    assert cassette.encode_body(None) is None


# U+0085 (NEL) is a YAML line break: it is excluded from the properties below and pinned by its own
# (failing) test, so that the properties keep guarding everything else.
NEL = "\x85"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=300).filter(lambda b: NEL.encode() not in b))
def test_any_bytes_round_trip(scratch, body):
    request_body, response_body, _ = _round_trip(scratch, body, body)
    assert request_body == body
    assert response_body == body


_TEXT = st.text(alphabet=st.characters(exclude_characters=NEL, exclude_categories=("Cs",)), max_size=200)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(_TEXT, st.lists(_TEXT, max_size=8).map("\n".join)))
def test_any_text_round_trips(scratch, body):
    request_body, response_body, _ = _round_trip(scratch, body, body)
    assert request_body == body.encode("utf-8")
    assert response_body == body.encode("utf-8")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(NEL, id="alone"),
        pytest.param(f"a{NEL}b", id="quoted-scalar"),
        pytest.param(f"data: x\n{NEL}y\n", id="literal-block"),
        pytest.param(f"é{NEL}".encode(), id="utf8-bytes"),
    ],
)
def test_next_line_character_round_trips(tmp_path, body):
    _, response_body, _ = _round_trip(tmp_path / "c.yaml", body, body)
    assert response_body == _as_bytes(body)


# --- corrupt files -----------------------------------------------------------------------------

GOOD = f"""format: {FORMAT}
provenance: {{kind: double}}
interactions:
- request: {{method: POST, uri: '{URL}', headers: {{}}, body: 'x'}}
  response: {{status: {{code: 200, message: OK}}, headers: {{}}, body: 'y'}}
"""


def test_the_good_template_reads(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert cassette.read(path)["interactions"][0]["response"]["body"] == "y"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("format: [unclosed\n", "not valid YAML", id="not-yaml"),
        pytest.param(GOOD.replace(FORMAT, "zai-conformance/cassette/0"), f"not a {FORMAT} file", id="wrong-format"),
        pytest.param(GOOD.replace(f"format: {FORMAT}\n", ""), f"not a {FORMAT} file", id="no-format"),
        pytest.param("- a\n- list\n", f"not a {FORMAT} file", id="not-a-mapping"),
        pytest.param(
            f"format: {FORMAT}\nprovenance: {{kind: double}}\ninteractions: {{a: 1}}\n",
            "'interactions' must be a list",
            id="interactions-not-a-list",
        ),
        pytest.param(
            f"format: {FORMAT}\nprovenance: {{kind: double}}\ninteractions: [just text]\n",
            "interactions[0]: must be a mapping",
            id="interaction-not-a-mapping",
        ),
        pytest.param(
            GOOD.replace("method: POST, ", ""),
            "interactions[0].request: needs method and uri",
            id="no-method",
        ),
        pytest.param(
            GOOD.replace("status: {code: 200, message: OK}", "code: 200"),
            "interactions[0].response: needs status {code, message}",
            id="no-status",
        ),
        pytest.param(
            GOOD.replace("code: 200, ", ""),
            "interactions[0].response.status.code: must be an integer",
            id="missing-status-code",
        ),
        pytest.param(
            GOOD.replace("code: 200", "code: '200'"),
            "interactions[0].response.status.code: must be an integer",
            id="status-code-text",
        ),
        pytest.param(
            GOOD.replace("provenance: {kind: double}\n", ""),
            "'provenance' must be a mapping (where did these bytes come from?)",
            id="missing-provenance",
        ),
    ],
)
def test_corrupt_cassettes_name_the_file_and_the_problem(tmp_path, text, problem):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorruptCassette) as caught:
        cassette.read(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


@pytest.mark.parametrize("body", ["[1, 2]", "{text: 'x'}", "42"])
def test_bad_body_shape_is_corrupt(tmp_path, body):
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("body: 'y'", f"body: {body}"), encoding="utf-8")
    with pytest.raises(CorruptCassette) as caught:
        Persister.load_cassette(path)
    assert str(caught.value) == f"{path}: interactions[0].response: body must be text, {{base64: ...}} or null"


def test_bad_base64_is_corrupt(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD.replace("body: 'y'", "body: {base64: 'abc'}"), encoding="utf-8")
    with pytest.raises(CorruptCassette, match=r"interactions\[0\]\.response"):
        Persister.load_cassette(path)


def test_scalar_header_value_is_not_split_into_characters(tmp_path):
    path = tmp_path / "hand-edited.yaml"
    path.write_text(GOOD.replace("headers: {}, body: 'y'", "headers: {Content-Type: text/plain}, body: 'y'"), "utf-8")
    try:
        _, [response], _ = Persister.load_cassette(path)
    except CorruptCassette:
        return  # refusing the file is as good as reading it right
    assert response["headers"]["Content-Type"] == ["text/plain"]


def test_undecodable_file_is_corrupt(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("'y'", "'\xe9'").encode("latin-1"))
    with pytest.raises(CorruptCassette, match=r"latin1.yaml: unreadable"):
        cassette.read(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        cassette.read(tmp_path / "absent.yaml")
    with pytest.raises(CassetteNotFoundError):
        Persister.load_cassette(tmp_path / "absent.yaml")


# --- the vcrpy persister ------------------------------------------------------------------------


def test_persister_loads_provenance_as_metadata(tmp_path):
    path = tmp_path / "c.yaml"
    cassette.write(path, PROVENANCE, [_interaction('{"model":"glm-4.6"}', SSE)])
    requests, responses, metadata = Persister.load_cassette(path)
    assert metadata == {"provenance": PROVENANCE}
    assert [r.uri for r in requests] == [URL]
    assert responses[0]["status"] == {"code": 200, "message": "OK"}
    assert responses[0]["headers"] == {"Content-Type": ["text/event-stream"]}


def test_persister_save_then_load_round_trips(tmp_path):
    path = tmp_path / "saved.yaml"
    request = Request("POST", URL, b'{"model":"glm-4.6"}', {"Authorization": "Bearer <redacted>"})
    response = {
        "status": {"code": 429, "message": "Too Many Requests"},
        "headers": {"X": "1"},
        "body": {"string": b"\xff"},
    }
    Persister.save_cassette(
        path, {"requests": [request], "responses": [response], "metadata": {"provenance": PROVENANCE}}
    )
    requests, responses, metadata = Persister.load_cassette(path)
    assert metadata == {"provenance": PROVENANCE}
    assert requests[0].body == b'{"model":"glm-4.6"}'
    assert requests[0].headers["Authorization"] == "Bearer <redacted>"
    assert cassette.read(path)["interactions"][0]["request"]["headers"] == {"Authorization": ["Bearer <redacted>"]}
    assert responses[0]["status"] == {"code": 429, "message": "Too Many Requests"}
    assert responses[0]["headers"] == {"X": ["1"]}
    assert responses[0]["body"]["string"] == b"\xff"


def test_persister_without_metadata_marks_provenance_unknown(tmp_path):
    path = tmp_path / "saved.yaml"
    request = Request("GET", URL, None, {})
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": b""}}
    Persister.save_cassette(path, {"requests": [request], "responses": [response]})
    assert cassette.read(path)["provenance"] == {"kind": "unknown"}


def test_vcrpy_replays_the_exact_bytes_with_provenance(tmp_path):
    path = tmp_path / "c.yaml"
    body = SSE.encode() + b"\xff tail"  # not UTF-8: stored as base64, replayed as the same bytes
    cassette.write(path, PROVENANCE, [_interaction('{"model":"glm-4.6"}', body)])
    recorder = vcr.VCR(match_on=("method", "uri"))
    recorder.register_persister(Persister)
    with recorder.use_cassette(str(path), record_mode="none") as replayed:
        assert replayed.get_metadata("provenance", None) == PROVENANCE
        answer = httpx.post(URL, content=b'{"model":"glm-4.6"}')
    assert answer.status_code == 200
    assert answer.content == body
    assert answer.headers["content-type"] == "text/event-stream"


# --- atomic writes -----------------------------------------------------------------------------


def test_write_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "deep" / "dir" / "c.yaml"
    cassette.write(path, PROVENANCE, [_interaction("a", "b")])
    cassette.write(path, PROVENANCE, [_interaction("a", "c")])
    assert os.listdir(path.parent) == ["c.yaml"]
    assert cassette.read(path)["interactions"][0]["response"]["body"] == "c"


def test_failed_replace_keeps_the_old_cassette_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "c.yaml"
    cassette.write(path, PROVENANCE, [_interaction("a", "old")])
    before = path.read_bytes()

    def crash(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(cassette.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        cassette.write(path, PROVENANCE, [_interaction("a", "new")])
    assert os.listdir(tmp_path) == ["c.yaml"]
    assert path.read_bytes() == before


def test_unserialisable_provenance_keeps_the_old_cassette(tmp_path):
    path = tmp_path / "c.yaml"
    cassette.write(path, PROVENANCE, [_interaction("a", "old")])
    before = path.read_bytes()
    with pytest.raises(Exception, match="cannot represent"):
        cassette.write(path, {"kind": object()}, [_interaction("a", "new")])
    assert os.listdir(tmp_path) == ["c.yaml"]
    assert path.read_bytes() == before


# --- evidence: bodies are what their headers say ----------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body", "problem"),
    [
        pytest.param("application/json", "<html>502 Bad Gateway</html>", "declared application/json but is not JSON"),
        pytest.param("application/json; charset=UTF-8", '{"choices": [', "is not JSON"),
        pytest.param("text/event-stream", 'data: {"id":"1"}\n\ndata: {"id":\n\ndata: [DONE]\n\n', "SSE line 3"),
    ],
)
def test_a_body_that_is_not_what_its_headers_declare_is_bad_evidence(tmp_path, content_type, body, problem):
    path = tmp_path / "c.yaml"
    interaction = _interaction('{"model":"glm-4.6"}', body)
    interaction["response"]["headers"] = {"Content-Type": [content_type]}
    cassette.write(path, PROVENANCE, [interaction])
    cassette.read(path)  # a well-formed file: the format stores any bytes...
    with pytest.raises(CorruptCassette) as caught:  # ...but replay refuses it as evidence, naming file and place
        Persister.load_cassette(path)
    message = str(caught.value)
    assert str(path) in message and "interactions[0].response.body" in message and problem in message


def test_a_non_json_error_page_is_evidence_when_its_headers_say_html(tmp_path):
    path = tmp_path / "c.yaml"
    interaction = _interaction('{"model":"glm-4.6"}', "<html>502 Bad Gateway</html>")
    interaction["response"]["headers"] = {"Content-Type": ["text/html"]}
    cassette.write(path, PROVENANCE, [interaction])
    assert Persister.load_cassette(path)[1][0]["body"]["string"].startswith(b"<html>")


def test_every_committed_cassette_is_good_evidence():
    root = Path(__file__).resolve().parent.parent / "cassettes"
    for path in sorted(root.glob("public/**/*.yaml")):
        Persister.load_cassette(path)
