"""One-line messages for YAML syntax errors in the files a user edits (the catalogue, the expectations).

PyYAML's own message spans five lines and names `<unicode string>` rather than the file, because the
harness parses text it has already read; the line and column it knows are the useful part. So the
message is `file:line:column: problem`, the way compilers and editors print it (1-based, clickable).
"""

from __future__ import annotations

import yaml


def describe_yaml_error(source: str, exc: yaml.YAMLError) -> str:
    """`catalogue.yaml:12:5: could not find expected ':' (while scanning a simple key at 11:1)`."""
    if not isinstance(exc, yaml.MarkedYAMLError) or exc.problem_mark is None:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"{source} is not valid YAML: {first}"
    problem = exc.problem or "not valid YAML"
    context = ""
    if exc.context:
        at = f" at {_position(exc.context_mark)}" if exc.context_mark is not None else ""
        context = f" ({exc.context}{at})"
    return f"{source}:{_position(exc.problem_mark)}: {problem}{context}"


def _position(mark: yaml.Mark) -> str:
    """PyYAML's marks are 0-based; editors count from 1."""
    return f"{mark.line + 1}:{mark.column + 1}"
