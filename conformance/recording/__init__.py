"""Recording and replay: cassette format, request matching, evidence, network guard. What counts as a
secret, scrubbed before a cassette is written, is conformance.secrets."""
