"""Things users run that use the harness as a whole: comparing runs (diff), and — as they arrive —
synthetic evidence, client-set matrices, bisecting a release, merging shards."""
