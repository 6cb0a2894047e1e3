"""The model catalogue: which MusicVAE models this program can use and where they come from.

- embedded models ship with the program (resources/models/<name>/: model.json, weights.npz,
  model-card.json);
- installed models live in the user's data folder (<data>/models/<name>/, Latent Studio's own
  format), never in the program's folder;
- official Magenta checkpoints can be installed from a local .tar / folder or downloaded from
  Magenta's storage (core.models.install, core.models.download).

Nothing here imports TensorFlow at import time; reading a TF1 checkpoint (install) and naming
the device (catalogue.device_description) import it when called.
"""
