"""Latent Studio widgets (PySide6). gui/ calls core/; core/ never imports gui/."""
