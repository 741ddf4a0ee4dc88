"""Client path adapters, one module per client. Each is named in the catalogue by `module:Class`."""
