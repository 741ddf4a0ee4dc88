"""The Z.AI double: a local HTTP server that answers like Z.AI's three surfaces, grounded in the
real recordings, for evidence where no real recording exists. Its answers are synthetic and every
cassette recorded from it is labelled `double`."""
