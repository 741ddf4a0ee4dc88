"""The real LiteLLM proxy: its config (`config`) and its in-process lifecycle (`server`). The clients
that reach Z.AI through it are client paths like any other (conformance/paths/proxy.py). Importing this
package imports no LiteLLM: the proxy's module costs seconds and is loaded only when the first proxy
cell runs."""
