"""MusicVAE in TensorFlow 2, compatible with Magenta's published checkpoints.

Importing this package does not import TensorFlow; `load_model` does.

    from core.musicvae import load_model
    model = load_model("cat-mel_2bar_big", "/path/to/cat-mel_2bar_big.tar")
    z, mu, sigma = model.encode_tensors(inputs)
    onehots = model.decode_to_tensors(z, temperature=0.5, seed=1)
"""
from __future__ import annotations

from core.musicvae.configs import CONFIGS, MusicVAEConfig, get_config

__all__ = ["CONFIGS", "MusicVAEConfig", "get_config", "load_model", "convert_checkpoint"]


def load_model(config, checkpoint, device=None, precision: str = "float32", infer_sizes: bool = True,
               name: str | None = None):
    """A ready MusicVAE from a config name (or None for a Latent Studio model folder) and a checkpoint.

    checkpoint: a Magenta .tar, a folder, a TF1 checkpoint prefix or a Latent Studio model folder.
    Layer sizes are read from the checkpoint (`infer_sizes`); a checkpoint that does not fit the
    config raises core.errors.CheckpointError naming the variable and both shapes.
    device: None picks the GPU when TensorFlow sees one; "cpu" / "gpu" / "/GPU:1" override.
    precision: "float32" (exact) or "bfloat16" (weights read each step kept in bfloat16; faster on
    CPUs with bf16 support, tokens may differ slightly).
    """
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.code_prior import CodePrior

    cfg, weights, source = load_weights(config, checkpoint, infer=infer_sizes)
    prior = CodePrior.from_meta(source.path, source.meta, cfg.z_size) if source.kind == "own" else None
    from core.musicvae.model import build_model  # imports TensorFlow

    return build_model(cfg, weights, device=device, precision=precision,
                       name=name or cfg.name, source=source.path, prior=prior)


def convert_checkpoint(config, checkpoint, dest: str, storage: str = "float32") -> str:
    """Write a checkpoint in Latent Studio's own format (model.json + weights.npz) to `dest`."""
    from core.musicvae.checkpoint import load_weights, save_model

    cfg, weights, _ = load_weights(config, checkpoint)
    return save_model(dest, cfg, weights, storage=storage)
