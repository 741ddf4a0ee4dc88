"""Reading recorded cassettes of every format users have (recording/formats.py), and what the importer and
the fidelity corpus make of them. The cassettes here are small format fixtures written in tmp_path, not
evidence: each shows one trait of a recorder's output."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import main
from conformance.fidelity.corpus import cassette as corpus_cassette
from conformance.fidelity.corpus import load_exchanges
from conformance.recording import cassette
from conformance.recording.formats import BodyFidelity, CassetteFormat, CassetteFormatError, read
from tests.conftest import FANTASY

URL = "https://api.z.ai/api/paas/v4/chat/completions"
REQUEST = '{"model":"glm-4.5","messages":[{"role":"user","content":"hi"}]}'
ANSWER = '{"choices":[{"index":0,"message":{"role":"assistant","content":"¡Hola!"}}]}'
CHAT_SOURCE = "TestOpenAICompatibleCommon__zai-glm-4.5__simple.1539c15e.yaml"  # coding/glm-4.5/chat


def _write(path: Path, document: Any) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _vcrpy(body: Any = ANSWER, headers: dict[str, list[str]] | None = None, **response: Any) -> dict[str, Any]:
    return {
        "interactions": [
            {
                "request": {
                    "body": REQUEST,
                    "headers": {"Content-Type": ["application/json"], "User-Agent": ["OpenAI/Python 1.0"]},
                    "method": "POST",
                    "uri": URL,
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": headers or {"Content-Type": ["application/json"]},
                    "body": {"string": body},
                    **response,
                },
            }
        ],
        "version": 1,
    }


def _go_vcr(version: int, **response: Any) -> dict[str, Any]:
    return {
        "version": version,
        "interactions": [
            {
                "id": 0,
                "request": {
                    "body": REQUEST,
                    "headers": {"User-Agent": ["OpenAI/Go 2.7.1"]},
                    "url": URL,
                    "method": "POST",
                },
                "response": {"body": ANSWER, "headers": {"Content-Type": ["application/json"]}, **response},
            }
        ],
    }


# --- go-vcr ----------------------------------------------------------------------------------------


def test_go_vcr_v2_is_read_byte_exact(tmp_path: Path):
    recorded = read(_write(tmp_path / "a.yaml", _go_vcr(2, status="200 OK", code=200)))
    assert recorded.format is CassetteFormat.GO_VCR_V2
    [interaction] = recorded.interactions
    assert (interaction.method, interaction.url, interaction.status, interaction.reason) == ("POST", URL, 200, "OK")
    assert interaction.request_body == REQUEST.encode()
    assert interaction.response_body == ANSWER.encode("utf-8")
    assert interaction.request_headers == {"User-Agent": ("OpenAI/Go 2.7.1",)}
    assert interaction.recorded_id == "0"
    assert recorded.fidelity is BodyFidelity.BYTE_EXACT
    assert recorded.label == "go-vcr v2 cassette, bodies byte-exact as recorded"


def test_go_vcr_v1_status_line_without_code(tmp_path: Path):
    recorded = read(_write(tmp_path / "a.yaml", _go_vcr(1, status="429 Too Many Requests")))
    assert recorded.format is CassetteFormat.GO_VCR_V1
    [interaction] = recorded.interactions
    assert (interaction.status, interaction.reason) == (429, "Too Many Requests")


def test_go_vcr_body_go_decompressed_is_labelled_decoded(tmp_path: Path):
    recorded = read(_write(tmp_path / "a.yaml", _go_vcr(2, status="200 OK", code=200, uncompressed=True)))
    assert recorded.fidelity is BodyFidelity.DECODED
    assert recorded.interactions[0].request_fidelity is BodyFidelity.BYTE_EXACT
    assert "uncompressed: true" in recorded.label and "not byte-exact" in recorded.label


def test_go_vcr_of_an_unknown_version_is_refused(tmp_path: Path):
    source = _write(tmp_path / "a.yaml", _go_vcr(3, code=200))
    with pytest.raises(CassetteFormatError, match=r"a\.yaml: a go-vcr-shaped cassette of version 3"):
        read(source)


def test_real_fantasy_cassette_reads_as_its_file_holds_it():
    source = FANTASY / CHAT_SOURCE
    original = yaml.safe_load(source.read_text(encoding="utf-8"))["interactions"][0]
    [interaction] = read(source).interactions
    assert interaction.request_body == original["request"]["body"].encode("utf-8")
    assert interaction.response_body == original["response"]["body"].encode("utf-8")
    assert interaction.status == original["response"]["code"] == 200


# --- vcrpy -----------------------------------------------------------------------------------------


def test_vcrpy_yaml_is_read(tmp_path: Path):
    recorded = read(_write(tmp_path / "a.yaml", _vcrpy()))
    assert recorded.format is CassetteFormat.VCRPY_YAML
    [interaction] = recorded.interactions
    assert (interaction.method, interaction.url, interaction.status, interaction.reason) == ("POST", URL, 200, "OK")
    assert interaction.request_body == REQUEST.encode()
    assert interaction.response_body == ANSWER.encode("utf-8")
    assert interaction.request_headers["User-Agent"] == ("OpenAI/Python 1.0",)
    assert recorded.label == "vcrpy YAML cassette, bodies byte-exact as recorded"


def test_vcrpy_json_is_read(tmp_path: Path):
    source = tmp_path / "a.json"
    source.write_text(json.dumps(_vcrpy(), indent=4), encoding="utf-8")
    recorded = read(source)
    assert recorded.format is CassetteFormat.VCRPY_JSON
    assert recorded.interactions[0].response_body == ANSWER.encode("utf-8")


def test_format_is_told_by_content_not_name(tmp_path: Path):
    vcrpy_in_txt = _write(tmp_path / "recording.txt", _vcrpy())
    go_vcr_in_json = _write(tmp_path / "cassette.json", _go_vcr(2, code=200))
    assert read(vcrpy_in_txt).format is CassetteFormat.VCRPY_YAML
    assert read(go_vcr_in_json).format is CassetteFormat.GO_VCR_V2


def test_binary_body_is_read_as_bytes(tmp_path: Path):
    raw = b"\x00\xff\xfe binary"
    source = _write(tmp_path / "a.yaml", _vcrpy(body=raw, headers={"Content-Type": ["application/octet-stream"]}))
    assert "!!binary" in source.read_text(encoding="utf-8")
    recorded = read(source)
    assert recorded.interactions[0].response_body == raw
    assert recorded.fidelity is BodyFidelity.BYTE_EXACT


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
    ],
)
def test_compressed_body_is_decoded_and_said_to_be(tmp_path: Path, coding, compress):
    wire = compress(ANSWER.encode("utf-8"))
    headers = {"Content-Type": ["application/json"], "Content-Encoding": [coding], "Content-Length": [str(len(wire))]}
    recorded = read(_write(tmp_path / "a.yaml", _vcrpy(body=wire, headers=headers)))
    [interaction] = recorded.interactions
    assert interaction.response_body == ANSWER.encode("utf-8")
    assert interaction.response_headers == {
        "Content-Type": ("application/json",),
        "Content-Length": (str(len(ANSWER.encode("utf-8"))),),
    }
    assert interaction.response_fidelity is BodyFidelity.DECODED
    assert recorded.fidelity is BodyFidelity.DECODED
    assert recorded.label == (
        f"vcrpy YAML cassette, bodies not byte-exact: response body decoded here from Content-Encoding: {coding}"
    )


def test_body_a_client_already_decoded_under_a_gzip_header_is_said_so(tmp_path: Path):
    headers = {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]}
    recorded = read(_write(tmp_path / "a.yaml", _vcrpy(headers=headers)))
    [interaction] = recorded.interactions
    assert interaction.response_body == ANSWER.encode("utf-8")
    assert "Content-Encoding" not in interaction.response_headers
    assert recorded.fidelity is BodyFidelity.DECODED
    assert "already decoded by the recording client" in recorded.label


def test_undecodable_encodings_are_refused(tmp_path: Path):
    brotli = _write(tmp_path / "br.yaml", _vcrpy(body=b"\x8b\x00\x80", headers={"Content-Encoding": ["br"]}))
    with pytest.raises(CassetteFormatError, match=r"br\.yaml: interactions\[0\]\.response\.body: Content-Encoding br"):
        read(brotli)
    broken = _write(tmp_path / "gz.yaml", _vcrpy(body=b"\x1f\x8b\xff\xfe", headers={"Content-Encoding": ["gzip"]}))
    with pytest.raises(CassetteFormatError, match=r"gz\.yaml: .*declared Content-Encoding gzip but does not decode"):
        read(broken)


def test_parsed_body_is_rewritten_as_json_and_said_to_be(tmp_path: Path):
    document = _vcrpy()
    interaction = document["interactions"][0]
    interaction["request"].pop("body")
    interaction["request"]["parsed_body"] = json.loads(REQUEST)
    interaction["response"].pop("body")
    interaction["response"]["parsed_body"] = json.loads(ANSWER)
    recorded = read(_write(tmp_path / "a.yaml", document))
    [read_back] = recorded.interactions
    assert json.loads(read_back.request_body) == json.loads(REQUEST)
    assert json.loads(read_back.response_body) == json.loads(ANSWER)
    assert read_back.request_fidelity is read_back.response_fidelity is BodyFidelity.RESERIALISED
    assert recorded.fidelity is BodyFidelity.RESERIALISED
    assert "parsed_body" in recorded.label and "not byte-exact" in recorded.label


def test_python_data_tags_of_old_vcrpy_cassettes_are_read(tmp_path: Path):
    source = tmp_path / "old.yaml"
    encoded = base64.b64encode(REQUEST.encode()).decode()
    source.write_text(
        "interactions:\n"
        "- request:\n"
        f"    body: !!python/object/new:_io.BytesIO\n      state: !!python/tuple [!!binary '{encoded}', 0, null]\n"
        "    headers: {Accept: [!!python/unicode '*/*']}\n"
        "    method: !!python/str POST\n"
        f"    uri: {URL}\n"
        "  response:\n"
        "    status: {code: 200, message: OK}\n"
        "    headers: {}\n"
        f"    body: {{string: !!python/unicode '{ANSWER}'}}\n"
        "version: 1\n",
        encoding="utf-8",
    )
    [interaction] = read(source).interactions
    assert interaction.request_body == REQUEST.encode()
    assert interaction.request_headers == {"Accept": ("*/*",)}
    assert interaction.method == "POST"
    assert interaction.response_body == ANSWER.encode("utf-8")


def test_python_object_tags_are_refused_and_never_built(tmp_path: Path):
    marker = tmp_path / "built"
    source = tmp_path / "evil.yaml"
    source.write_text(
        f"interactions:\n- request: !!python/object/apply:builtins.open ['{marker}', 'w']\n  response: {{}}\n",
        encoding="utf-8",
    )
    with pytest.raises(CassetteFormatError, match=r"evil\.yaml: could not determine a constructor.*builtins\.open"):
        read(source)
    assert not marker.exists()


# --- the project's own format -----------------------------------------------------------------------


def test_project_cassette_is_read(tmp_path: Path):
    target = tmp_path / "chat.yaml"
    interaction = {
        "request": {"method": "POST", "uri": URL, "headers": {"X": ["1"]}, "body": REQUEST},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/octet-stream"]},
            "body": cassette.encode_body(b"\xff\x00"),
        },
    }
    cassette.write(target, {"kind": "live"}, [interaction])
    recorded = read(target)
    assert recorded.format is CassetteFormat.ZAI_CONFORMANCE
    assert recorded.recorded_kind == "live"
    [read_back] = recorded.interactions
    assert (read_back.url, read_back.request_body, read_back.response_body) == (URL, REQUEST.encode(), b"\xff\x00")
    assert recorded.label == "zai-conformance/cassette/1 cassette, bodies byte-exact as recorded"


def test_project_cassette_keeps_what_its_provenance_says_of_its_bodies(tmp_path: Path):
    target = tmp_path / "chat.yaml"
    interaction = {
        "request": {"method": "POST", "uri": URL, "headers": {}, "body": REQUEST},
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": ANSWER},
    }
    cassette.write(target, {"kind": "public", "bodies": "decoded"}, [interaction])
    assert read(target).fidelity is BodyFidelity.DECODED


def test_corrupt_project_cassette_is_refused_naming_the_file(tmp_path: Path):
    source = _write(tmp_path / "bad.yaml", {"format": cassette.FORMAT, "interactions": [{"request": {}}]})
    with pytest.raises(CassetteFormatError, match=r"bad\.yaml: interactions\[0\]\.request: needs method and uri"):
        read(source)


# --- refused -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"", r"empty file; expected a go-vcr \(v1 or v2\), vcrpy \(YAML or JSON\) or zai-conformance cassette"),
        (b"interactions: [unclosed\n", r"not valid YAML or JSON"),
        (b"\xff\xfe\x00garbage", r"not UTF-8 text"),
        (b"\x1f\x8b\x08\x00broken", r"a gzip-compressed file that does not decompress"),
        (b"http_interactions: []\nrecorded_with: VCR 6.0\n", r"no `interactions` list \(Ruby VCR's"),
        (b"settings: {a: 1}\n", r"not a known cassette format: no `interactions` list"),
        (b"- request: {}\n", r"not a known cassette format \(the file holds a list\)"),
        (b"interactions: []\n", r"no interactions"),
        (b"interactions: [{request: {path: /x}, response: {}}]\n", r"neither `url` \(go-vcr\) nor `uri` \(vcrpy\)"),
    ],
)
def test_unknown_or_corrupt_files_are_refused_naming_the_file(tmp_path: Path, content: bytes, why: str):
    source = tmp_path / "odd.yaml"
    source.write_bytes(content)
    with pytest.raises(CassetteFormatError, match=why) as raised:
        read(source)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(f"{source}: ")


def test_a_gzip_compressed_file_is_unpacked(tmp_path: Path):
    source = tmp_path / "a.yaml.gz"
    source.write_bytes(gzip.compress(yaml.safe_dump(_vcrpy()).encode("utf-8")))
    recorded = read(source)
    assert (recorded.format, recorded.compressed_file) == (CassetteFormat.VCRPY_YAML, True)
    assert recorded.interactions[0].response_body == ANSWER.encode("utf-8")


# --- importing and measuring them --------------------------------------------------------------------


def _fantasy_as_vcrpy(folder: Path) -> tuple[Path, bytes]:
    """The fantasy chat recording re-written the way vcrpy would have saved it, its answer still gzipped."""
    original = yaml.safe_load((FANTASY / CHAT_SOURCE).read_text(encoding="utf-8"))["interactions"][0]
    answer = original["response"]["body"].encode("utf-8")
    document = {
        "interactions": [
            {
                "request": {
                    "body": original["request"]["body"],
                    "headers": original["request"]["headers"],
                    "method": original["request"]["method"],
                    "uri": original["request"]["url"],
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {**original["response"]["headers"], "Content-Encoding": ["gzip"]},
                    "body": {"string": gzip.compress(answer)},
                },
            }
        ],
        "version": 1,
    }
    folder.mkdir(parents=True, exist_ok=True)
    return _write(folder / "test_chat.yaml", document), answer


def test_import_of_a_vcrpy_cassette_names_its_real_format(tmp_path: Path, capsys):
    sources = tmp_path / "sources"
    _, answer = _fantasy_as_vcrpy(sources)
    (sources / "notes.yaml").write_text("todo: [record more]\n", encoding="utf-8")
    out = tmp_path / "cassettes"
    assert main(["import", str(sources), "--project", "someone/project", "--cassettes", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    target = out / "public" / "coding" / "glm-4.5" / "chat.yaml"
    assert f"imported test_chat.yaml -> {target}" in printed
    assert any(line.startswith(f"skipped notes.yaml: {sources / 'notes.yaml'}: not a known") for line in printed)
    assert printed[-1] == "1 cassette(s) written, 0 superseded, 1 skipped"
    document = cassette.read(target)
    provenance = document["provenance"]
    assert provenance["source_format"] == "vcrpy YAML"
    assert provenance["bodies"] == "decoded"
    assert provenance["bodies_meaning"] == (
        "vcrpy YAML cassette, bodies not byte-exact: response body decoded here from Content-Encoding: gzip"
    )
    response = document["interactions"][0]["response"]
    assert response["body"] == answer.decode("utf-8")
    assert "Content-Encoding" not in response["headers"]


def test_import_refuses_a_double_cassette(tmp_path: Path, capsys):
    vcrpy_source, _ = _fantasy_as_vcrpy(tmp_path / "vcrpy")
    imported = tmp_path / "first"
    assert main(["import", str(vcrpy_source), "--project", "p", "--cassettes", str(imported)]) == 0
    written = imported / "public" / "coding" / "glm-4.5" / "chat.yaml"
    document = cassette.read(written)
    double = tmp_path / "double.yaml"
    cassette.write(double, {**document["provenance"], "kind": "double"}, document["interactions"])
    capsys.readouterr()
    assert main(["import", str(written), str(double), "--project", "p", "--cassettes", str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert f"skipped double.yaml: {double}: a {cassette.FORMAT} cassette of kind 'double'" in printed[-2]
    again = cassette.read(tmp_path / "again" / "public" / "coding" / "glm-4.5" / "chat.yaml")
    assert again["provenance"]["source_format"] == cassette.FORMAT
    assert again["provenance"]["bodies"] == "decoded"  # what the first import said stays said
    assert again["interactions"] == document["interactions"]


def test_fidelity_corpus_trusts_each_format_as_far_as_it_goes(tmp_path: Path):
    corpus = tmp_path / "corpus"
    _fantasy_as_vcrpy(corpus / "someone")
    json_source = corpus / "someone" / "parsed.json"
    document = _vcrpy()
    document["interactions"][0]["response"]["parsed_body"] = json.loads(
        document["interactions"][0]["response"].pop("body")["string"]
    )
    json_source.write_text(json.dumps(document), encoding="utf-8")
    exchanges = {e.file.name: e for e in load_exchanges(corpus)}
    assert set(exchanges) == {"test_chat.yaml", "parsed.json"}
    vcrpy = exchanges["test_chat.yaml"]
    assert vcrpy.trust == (
        "real: vcrpy YAML cassette, bodies not byte-exact: response body decoded here from "
        "Content-Encoding: gzip, credentials scrubbed"
    )
    assert vcrpy.response.format == "json" and vcrpy.response.status == 200
    parsed = exchanges["parsed.json"]
    assert parsed.trust.startswith("real: vcrpy JSON cassette, bodies not byte-exact: response body written back")
    assert "separators" in parsed.ignore
    [fantasy] = corpus_cassette.load(FANTASY.parent, FANTASY / CHAT_SOURCE)
    assert fantasy.trust == (
        "real: go-vcr v2 cassette, bodies not byte-exact: response body decompressed by the recording Go client "
        "(go-vcr `uncompressed: true`), credentials scrubbed"
    )
