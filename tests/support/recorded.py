"""The scenarios that mirror the real recordings (charmbracelet/fantasy's provider tests): the set the
path and proxy tests drive end to end. The documented-surface scenarios run in the matrix suite."""

RECORDED_SCENARIOS = (
    "chat",
    "chat-stream",
    "tool",
    "tool-stream",
    "parallel-tools",
    "parallel-tools-stream",
    "thinking",
    "thinking-stream",
    "object-person",
    "object-person-stream",
    "object-book",
    "object-book-stream",
)
