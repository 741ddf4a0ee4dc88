"""Checks: pure functions from an Observation (and the wire) to Findings."""
