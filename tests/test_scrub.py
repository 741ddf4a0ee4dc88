"""The scrubber: secrets never reach a cassette, a report or a log — and nothing else is touched."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.secrets import REDACTED, Scrubber
from tests.conftest import fantasy_sources
from tests.support.fake_secrets import SK_KEY, ZAI_KEY

KNOWN = "my-registered-secret-42"


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber([KNOWN])


# --- headers ------------------------------------------------------------------------------------


def test_sensitive_headers_keep_the_auth_scheme(scrubber):
    clean = scrubber.headers(
        {
            "Authorization": f"Bearer {KNOWN}",
            "x-api-key": "abc123def456ghi789",
            "Proxy-Authorization": "Basic dXNlcjpwYXNzd29yZA==",
            "Cookie": "session=abc; other=def",
            "X-Goog-Api-Key": "AIzaSomething",
            "Content-Type": "application/json",
        }
    )
    assert clean == {
        "Authorization": "Bearer <redacted>",
        "x-api-key": "<redacted>",
        "Proxy-Authorization": "Basic <redacted>",
        "Cookie": "<redacted>",
        "X-Goog-Api-Key": "<redacted>",
        "Content-Type": "application/json",
    }


def test_header_names_match_whatever_their_case(scrubber):
    assert scrubber.headers({"AUTHORIZATION": "Bearer xyz"}) == {"AUTHORIZATION": "Bearer <redacted>"}
    assert scrubber.headers({"X-Api-Key": "xyz"}) == {"X-Api-Key": "<redacted>"}


def test_lists_of_header_values(scrubber):
    clean = scrubber.headers(
        {
            "Authorization": ["Bearer one-token-value", "Token two-token-value"],
            "Set-Cookie": ["a=1", "b=2"],
            "X-Echo": [f"seen {KNOWN}", "plain"],
        }
    )
    assert clean == {
        "Authorization": ["Bearer <redacted>", "Token <redacted>"],
        "Set-Cookie": ["<redacted>", "<redacted>"],
        "X-Echo": ["seen <redacted>", "plain"],
    }


def test_a_bare_credential_without_scheme_is_fully_redacted(scrubber):
    assert scrubber.headers({"Authorization": ZAI_KEY}) == {"Authorization": "<redacted>"}
    assert scrubber.headers({"Authorization": "Bearer"}) == {"Authorization": "<redacted>"}


def test_key_shapes_in_ordinary_headers(scrubber):
    assert scrubber.headers({"X-Debug": f"key={ZAI_KEY}"}) == {"X-Debug": "key=<redacted>"}


def test_headers_do_not_modify_their_input(scrubber):
    headers = {"Authorization": ["Bearer abc"]}
    scrubber.headers(headers)
    assert headers == {"Authorization": ["Bearer abc"]}


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["key", "api_key", "apikey", "api-key", "token", "access_token", "API_KEY", "Token"])
def test_credential_query_params_are_redacted(scrubber, param):
    url = f"https://api.z.ai/api/paas/v4/chat/completions?{param}=s3cr3tvalue&model=glm-4.6"
    assert scrubber.url(url) == f"https://api.z.ai/api/paas/v4/chat/completions?{param}=<redacted>&model=glm-4.6"


def test_userinfo_is_removed_from_urls(scrubber):
    assert scrubber.url("https://user:hunter2hunter2@api.z.ai/api/paas/v4") == "https://api.z.ai/api/paas/v4"
    assert scrubber.url("https://tokenonly@api.z.ai/x?key=k") == "https://api.z.ai/x?key=<redacted>"


def test_key_shapes_and_known_secrets_in_url_paths(scrubber):
    assert scrubber.url(f"https://h/v1/{ZAI_KEY}/x") == "https://h/v1/<redacted>/x"
    assert scrubber.url(f"https://h/v1/{KNOWN}") == "https://h/v1/<redacted>"


def test_url_without_query_or_secret_is_unchanged(scrubber):
    url = "https://api.z.ai/api/coding/paas/v4/chat/completions"
    assert scrubber.url(url) == url


def test_url_with_an_ordinary_query_is_unchanged(scrubber):
    url = "https://h/v1/models?q=a%20b&flag&page=2"
    assert scrubber.url(url) == url


# --- URLs inside text: reasons, findings, exception messages, log lines -------------------------


@pytest.mark.parametrize("param", ["key", "api_key", "token", "access_token", "Token", "api%5Fkey"])
def test_credential_query_params_inside_text_are_redacted(param):
    text = f"Error: GET http://h/x?model=glm-4.6&{param}=plain-value-1 failed (retry 2)"
    assert Scrubber().text(text) == f"Error: GET http://h/x?model=glm-4.6&{param}=<redacted> failed (retry 2)"


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        pytest.param(
            "Error: GET http://u:pw-value-1@host/x?token=abc failed",
            "Error: GET http://<redacted>@host/x?token=<redacted> failed",
            id="exception-message",
        ),
        pytest.param(
            "Client error '401 Unauthorized' for url 'https://user:hunter2@h:8080/v4?key=k1&page=2'",
            "Client error '401 Unauthorized' for url 'https://<redacted>@h:8080/v4?key=<redacted>&page=2'",
            id="quoted-url-keeps-its-other-params",
        ),
        pytest.param(
            '{"error": {"message": "bad url https://h/v4?access_token=a.b-c_d#frag"}}',
            '{"error": {"message": "bad url https://h/v4?access_token=<redacted>#frag"}}',
            id="url-in-a-json-body",
        ),
        pytest.param(
            "sent to http://h/v4?key=a1/chat/completions, expected http://h/v4?key=a1/chat/completions",
            "sent to http://h/v4?key=<redacted> expected http://h/v4?key=<redacted>",
            id="two-urls-in-a-reason",
        ),
        pytest.param(
            "POST /api/paas/v4/chat/completions?api_key=abc HTTP/1.1",
            "POST /api/paas/v4/chat/completions?api_key=<redacted> HTTP/1.1",
            id="relative-url-in-a-log-line",
        ),
        pytest.param(
            '<a href="http://h/x?a=1&amp;token=abc">', '<a href="http://h/x?a=1&amp;token=<redacted>">', id="html"
        ),
        pytest.param("clone https://ghp-abc@github.com/o/r", "clone https://<redacted>@github.com/o/r", id="user-only"),
        pytest.param(
            "Authorization: Basic dXNlcjpodW50ZXIyaHVudGVyMg==",
            "Authorization: Basic <redacted>",
            id="basic-credential",
        ),
    ],
)
def test_url_credentials_inside_text_are_redacted(text, clean):
    assert Scrubber().text(text) == clean


@pytest.mark.parametrize(
    "text",
    [
        "http://h/v4/chat/completions?model=glm-4.6&page=2&stream=true",
        "mail user@example.com or see https://h/a@b",  # an @ in a path is not userinfo
        "the key=value pairs; Q&A: token=none",  # not a query string
        "https://h/x?keys=1&monkey=2&tokens=3",  # names that only contain a credential word
        "https://h/x?token=&key=",  # nothing to hide
        "https://h/x?token=<redacted>",  # already redacted
        "Basic understanding, basic dXNlcm5hbWU=",  # no user:password behind the word
    ],
)
def test_urls_inside_text_without_credentials_are_unchanged(text):
    assert Scrubber().text(text) == text


def test_text_inside_a_record_gets_the_url_net():
    """`data` sends whole URLs to `url()`; URLs inside longer strings are caught by `text()`."""
    record = {"reasons": ["HTTP 401: GET http://u:p4ssw0rd-x@h/v4?token=tok3n-value failed"], "n": 1}
    assert Scrubber().data(record) == {
        "reasons": ["HTTP 401: GET http://<redacted>@h/v4?token=<redacted> failed"],
        "n": 1,
    }


def test_url_credentials_in_non_utf8_bytes():
    body = b"\xff\xfe GET http://u:p4ssw0rd-x@h/v4?token=tok3n-value \x80"
    assert Scrubber().body(body) == b"\xff\xfe GET http://<redacted>@h/v4?token=<redacted> \x80"


# --- text and bodies ----------------------------------------------------------------------------


def test_known_secret_values_anywhere_in_text(scrubber):
    text = f'{{"error":{{"message":"invalid key {KNOWN}; retry with {KNOWN}"}}}}'
    assert scrubber.text(text) == '{"error":{"message":"invalid key <redacted>; retry with <redacted>"}}'


def test_known_secrets_in_bodies_keep_the_body_type(scrubber):
    assert scrubber.body(f"a {KNOWN} b") == "a <redacted> b"
    assert scrubber.body(f"a {KNOWN} b".encode()) == b"a <redacted> b"
    assert scrubber.body(None) is None


def test_known_secrets_in_non_utf8_bytes(scrubber):
    body = b"\xff\xfe prefix " + KNOWN.encode() + b" \x80 suffix"
    assert scrubber.body(body) == b"\xff\xfe prefix <redacted> \x80 suffix"


def test_key_shapes_in_non_utf8_bytes(scrubber):
    body = b"\xff\xfe " + ZAI_KEY.encode()
    assert ZAI_KEY.encode() not in scrubber.body(body)


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        pytest.param(f"key is {ZAI_KEY}.", "key is <redacted>.", id="zai-key"),
        pytest.param(f'{{"api_key":"{ZAI_KEY}"}}', '{"api_key":"<redacted>"}', id="zai-key-in-json"),
        pytest.param(f"export OPENAI_API_KEY={SK_KEY}", "export OPENAI_API_KEY=<redacted>", id="sk-key"),
        pytest.param(
            "curl -H 'Authorization: Bearer abcdefghijklmnop1234' https://h",
            "curl -H 'Authorization: Bearer <redacted>' https://h",
            id="bearer-in-free-text",
        ),
        pytest.param("BEARER   abcdefghijklmnop.1234/xyz=", "BEARER   <redacted>", id="bearer-any-case"),
        pytest.param('"x-api-key": "abcdefghijklmnopqrs"', '"x-api-key": "<redacted>"', id="x-api-key-in-text"),
    ],
)
def test_key_shaped_strings_are_redacted_unannounced(text, clean):
    assert Scrubber().text(text) == clean


@pytest.mark.parametrize(
    "text",
    [
        "Bearer short",  # too short to be a token
        "sk-short",  # too short to be a key
        "0123456789abcdef0123456789abcdef",  # a hex id alone (request ids look like this)
        "0123456789abcdef0123456789abcdef.short",
        "task-list and desk-lamp",
        "20251111175650c48a4928f3614935",  # a real Z.AI response id
    ],
)
def test_near_misses_are_not_redacted(text):
    assert Scrubber().text(text) == text


def test_environment_secrets(scrubber):
    environ = {
        "ZAI_API_KEY": "zai-environment-key-1",
        "GITHUB_TOKEN": "ghp_environment_token",
        "DB_PASSWORD": "correct-horse-battery",
        "MY_CLIENT_SECRET": "client-secret-value",
        "SHORT_KEY": "abc",  # too short to be a secret
        "HOME": "/home/someone/long/path",  # not named like a credential
        "EDITOR": "environment-editor",
    }
    scrubber.add_environment_secrets(environ)
    text = " ".join(environ.values())
    assert scrubber.text(text) == " ".join(
        [
            "<redacted>",
            "<redacted>",
            "<redacted>",
            "<redacted>",
            "abc",
            "/home/someone/long/path",
            "environment-editor",
        ]
    )


def test_environment_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("ZAI_CONFORMANCE_TEST_TOKEN", "from-the-real-environment")
    scrubber = Scrubber()
    scrubber.add_environment_secrets()
    assert scrubber.text("x from-the-real-environment y") == "x <redacted> y"


@pytest.mark.parametrize("value", ["", None, "a", "1234567"])
def test_values_shorter_than_eight_characters_are_not_secrets(value):
    scrubber = Scrubber()
    scrubber.add_secret(value)
    scrubber.add_secret("12345678")
    assert scrubber.text("a 1234567 b") == "a 1234567 b"
    assert scrubber.text("a 12345678 b") == "a <redacted> b"


def test_longer_secret_wins_over_its_prefix():
    scrubber = Scrubber(["secret-one", "secret-one-and-more"])
    assert scrubber.text("x secret-one-and-more y secret-one") == "x <redacted> y <redacted>"


def test_secrets_added_late_are_used():
    scrubber = Scrubber()
    assert scrubber.text("late-secret-value") == "late-secret-value"
    scrubber.add_secret("late-secret-value")
    assert scrubber.text("late-secret-value") == REDACTED


# --- ordinary content is left exactly as it was -------------------------------------------------


ORDINARY = [
    "Olá! Como posso ajudar? 你好 🙂",
    'data: {"choices":[{"delta":{"content":"x"}}]}\n\ndata: [DONE]\n\n',
    "line\r\nline\r\n",
    "The tool returned 40 C; the Bearer of bad news.",
    "",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_unchanged(scrubber, text):
    assert scrubber.text(text) == text
    assert scrubber.body(text) == text
    raw = text.encode("utf-8")
    clean = scrubber.body(raw)
    assert isinstance(clean, bytes) and clean == raw


def test_ordinary_non_utf8_bytes_are_unchanged(scrubber):
    raw = b"\x00\xff\xfe\x80 binary \xc3"
    assert scrubber.body(raw) == raw


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_categories=("Cs", "Lu", "Ll", "Nd")), max_size=200))
def test_text_without_letters_or_digits_is_unchanged(text):
    """Nothing without letters or digits can be a key; the scrubber must leave it byte-identical."""
    assert Scrubber(["known-secret-value"]).text(text) == text
    assert Scrubber().body(text.encode("utf-8")) == text.encode("utf-8")


def test_real_zai_bodies_and_headers_are_unchanged(corpus):
    scrubber = Scrubber()
    seen = 0
    for source in fantasy_sources():
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for interaction in document["interactions"]:
            for side in ("request", "response"):
                body = interaction[side]["body"]
                assert scrubber.body(body.encode("utf-8")) == body.encode("utf-8"), source.name
                assert scrubber.headers(interaction[side]["headers"]) == interaction[side]["headers"]
                seen += 1
            assert scrubber.url(interaction["request"]["url"]) == interaction["request"]["url"]
    assert seen > 2 * 68


def test_a_secret_added_after_a_text_was_scrubbed_is_redacted_from_it_next_time():
    """Scrubbed short texts are remembered (records repeat them thousands of times a run); a secret
    added later must not be let through by an answer remembered from before it was known."""
    scrubber = Scrubber()
    text = "upstream said: late-secret-value-123 is not valid"
    assert scrubber.text(text) == text
    scrubber.add_secret("late-secret-value-123")
    assert scrubber.text(text) == "upstream said: <redacted> is not valid"
    long_text = "x" * 600 + " late-secret-value-123"  # beyond the memo's length: scrubbed afresh each time
    assert scrubber.text(long_text).endswith("<redacted>")
