"""Client path adapters, one module per client, each named in the catalogue by `module:Class`; a
configuration of a client is a catalogue entry of its adapter (`options`)."""
