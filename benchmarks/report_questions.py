"""The five questions of issue 16, asked of a rendered report in Chromium, the way a new user asks them.

    .venv/bin/python benchmarks/report_questions.py [reports/index.html] [--shots reports/screenshots]

Each question is a short list of the steps a person takes on the page (open it, click a summary entry,
pick a model, type a search, set a filter) and the element that holds the answer. The script carries the
steps out, prints for each question the steps, how many there were, the answer's text as the page shows
it, and the time the page took to carry them out (the page's own work, not a person's reading time), and
saves a screenshot of the answer. What a person needs is the count of steps and that the answer is on
the screen after them: reports/README.md shows the screenshots.

Debian's Chromium (/usr/bin/chromium, installed by scripts/bootstrap) and Playwright's sync API: this
is a script, not a test, so the event loop it keeps is its own.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VIEWPORT = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class Step:
    says: str  # what the person does, in words
    act: Callable[[Page], Any]


@dataclass(frozen=True)
class Question:
    id: str
    asks: str
    steps: tuple[Step, ...]
    answer: str  # the selector whose text holds the answer
    shot: str  # the selector the screenshot frames


def _click(selector: str) -> Callable[[Page], Any]:
    return lambda page: page.locator(selector).first.click()


def _pick(selector: str, value: str) -> Callable[[Page], Any]:
    return lambda page: page.select_option(selector, value)


def _type(selector: str, text: str) -> Callable[[Page], Any]:
    return lambda page: page.fill(selector, text)


QUESTIONS = (
    Question(
        "thinking-proxy",
        "Does thinking work with glm-4.6 through the LiteLLM proxy on the coding endpoint?",
        (
            Step(
                "click the summary's coding / proxy-litellm / reasoning control entry",
                _click('#summary a[data-endpoint="coding"][data-path="proxy-litellm"][data-feature="reasoning"]'),
            ),
            Step("pick the model glm-4.6", _pick("#pick-model", "glm-4.6")),
        ),
        "#shown-count",
        "#detail",
    ),
    Question(
        "error-code",
        "Which paths lose Z.AI's error code?",
        (
            Step("type “code” and “not readable” into the search", _type("#search", "code not readable")),
            Step("pick the feature “errors”", _pick("#pick-feature", "errors")),
        ),
        "#results",
        "#shown-count",
    ),
    Question(
        "real-bytes",
        "Which cells rest on real bytes?",
        (Step("set the evidence filter to “public” (real Z.AI bytes)", _pick("#f-evidence", "public")),),
        "#results",
        "#shown-count",
    ),
    Question(
        "changed",
        "What changed since the last run?",
        (Step("click “Changed since the previous run” in the contents", _click('#toc a[href="#changes"]')),),
        "#changes",
        "#changes",
    ),
    Question(
        "streamed-tools",
        "Which path for streamed tool calls on glm-5.3?",
        (
            Step("pick the model glm-5.3", _pick("#pick-model", "glm-5.3")),
            Step("pick the feature “tools”", _pick("#pick-feature", "tools")),
            Step("type “tool-stream” into the search", _type("#search", "tool-stream")),
        ),
        "#matrix",
        "#shown-count",
    ),
)


def ask(page: Page, url: str, question: Question, shots: Path | None) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]")
    started = time.perf_counter()
    for step in question.steps:
        step.act(page)
    page.wait_for_timeout(300)  # the page redraws on the next frame; the screenshot waits for it
    took = time.perf_counter() - started
    answer = page.locator(question.answer).first.inner_text()
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
        # the framing element at the top of the screen, the answer under it
        page.locator(question.shot).first.evaluate("node => node.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(shots / f"{question.id}.png"))
    return {"took_s": took, "answer": answer}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("page", nargs="?", default="reports/index.html")
    parser.add_argument("--shots", metavar="DIR", help="save a screenshot of each answer there")
    args = parser.parse_args()
    url = Path(args.page).resolve().as_uri()
    shots = Path(args.shots) if args.shots else None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        for question in QUESTIONS:
            found = ask(page, url, question, shots)
            print(f"## {question.asks}")
            for number, step in enumerate(question.steps, 1):
                print(f"  {number}. {step.says}")
            print(f"  {len(question.steps)} step(s); the page carried them out in {found['took_s']:.2f} s")
            first = " ".join(found["answer"].split())[:300]
            print(f"  answer ({question.answer}): {first}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
