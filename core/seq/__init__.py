"""Sequence models for continue and infill: events, a Transformer and an LSTM, training, sampling.

See docs/sequence-models.md. Importing this package does not import TensorFlow.
"""
