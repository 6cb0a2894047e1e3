"""MusicVAE in TensorFlow 2 (model modules import TensorFlow; this package does not)."""
