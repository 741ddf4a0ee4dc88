"""Test-only helpers: a loopback server that answers like Z.AI, and test client paths."""
