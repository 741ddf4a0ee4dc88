"""Recording and replay: cassette format, scrubbing, request matching, evidence, network guard."""
