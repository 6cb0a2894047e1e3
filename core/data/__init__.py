"""Training data: the drum-pattern generator, the built-in music21 corpus and the dataset builder."""
