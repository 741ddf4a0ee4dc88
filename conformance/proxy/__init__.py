"""The real LiteLLM proxy as client paths: its config (`config`), its in-process lifecycle (`server`),
and the clients that reach Z.AI through it (`paths`). Importing this package imports no LiteLLM: the
proxy's module costs seconds and is loaded only when the first proxy cell runs."""
