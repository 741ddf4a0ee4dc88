"""Real recordings by other projects, kept as archives and read in place: archive.py opens them, members.py
names and reads a cassette's interactions inside one. Below recording/, scenario.py and fidelity/, which
all read them."""
