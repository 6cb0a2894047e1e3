"""Latent Studio core: everything that is not Qt. Never import PySide6 from here."""
