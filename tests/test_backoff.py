"""Replay never waits between a client's retries: every installed client's back-off hook is covered.

A hook that no longer exists in an installed release is skipped silently by design (one table serves
every client set), so these tests pin what that silence could hide: LiteLLM 1.110 moved its Router's
wait from `_time_to_sleep_before_retry` to `PythonHost.sleep`, and the proxy's error cells waited
five seconds each until the table learned the new hook.
"""

from __future__ import annotations

import asyncio
import importlib
import sys

import pytest

from conformance.recording.backoff import HOOKS, without_backoff

ROUTER_HOOKS = [hook for hook in HOOKS if hook[0].startswith("litellm.")]


def _present(module_name: str, class_name: str, method: str) -> bool:
    owner = getattr(sys.modules.get(module_name), class_name, None)
    return isinstance(owner, type) and method in owner.__dict__


def test_the_installed_litellm_router_waits_through_a_covered_hook():
    for module_name in {hook[0] for hook in ROUTER_HOOKS}:
        try:
            importlib.import_module(module_name)
        except ImportError:
            continue
    covered = [hook[:3] for hook in ROUTER_HOOKS if _present(*hook[:3])]
    assert covered, "no back-off hook of the installed LiteLLM Router is in conformance/recording/backoff.py"


@pytest.mark.parametrize("module_name", ["openai._base_client", "anthropic._base_client"])
def test_the_sdks_retry_timeout_is_covered(module_name):
    importlib.import_module(module_name)
    assert _present(module_name, "BaseClient", "_calculate_retry_timeout")


def test_every_present_hook_waits_nothing_inside_and_is_restored_after():
    importlib.import_module("litellm.router")
    present = [hook for hook in HOOKS if _present(*hook[:3])]
    originals = {hook[:3]: sys.modules[hook[0]].__dict__[hook[1]].__dict__[hook[2]] for hook in present}
    with without_backoff():
        for module_name, class_name, method, replacement in present:
            owner = getattr(sys.modules[module_name], class_name)
            assert owner.__dict__[method] is replacement
    for module_name, class_name, method, _ in present:
        owner = getattr(sys.modules[module_name], class_name)
        assert owner.__dict__[method] is originals[(module_name, class_name, method)]


def test_the_router_core_sleep_step_returns_at_once_with_no_timer():
    """The 1.110 router core awaits `PythonHost.sleep(seconds)`: inside, it must be a bare yield (no
    timer scheduled on the loop), whatever the seconds asked for."""
    try:
        host_module = importlib.import_module("litellm.router_python_host")
    except ImportError:
        pytest.skip("this LiteLLM has no router core host (before 1.110): its Router hook is covered instead")
    host = host_module.PythonHost()

    async def sleep_long() -> int:
        loop = asyncio.get_running_loop()
        awaitable = host.sleep(3600)
        timers = len(loop._scheduled)  # a real asyncio.sleep(3600) schedules a timer when awaited
        await awaitable
        return len(loop._scheduled) - timers

    with without_backoff():
        assert asyncio.run(sleep_long()) == 0
