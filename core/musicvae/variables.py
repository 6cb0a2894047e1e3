"""Magenta's checkpoint variable names and shapes for a config (no TensorFlow here).

Names are written as Magenta's graph names them. Inside this package they are compared in a
canonical form without the `multi_rnn_cell/` scope (`canonical`), so a checkpoint whose cells sit
directly under their layer scope loads as well.
"""
from __future__ import annotations

from core.musicvae.configs import MusicVAEConfig

IGNORED_SUFFIXES = ("/Adam", "/Adam_1", "/ExponentialMovingAverage")
IGNORED_NAMES = ("global_step", "beta1_power", "beta2_power")


def canonical(name: str) -> str:
    return name.replace("multi_rnn_cell/", "")


def is_ignored(name: str) -> bool:
    base = name.split("/")[-1]
    return (name in IGNORED_NAMES or base in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)
            or "/Adam" in name)


def encoder_cell(k: int, direction: str) -> str:
    return f"encoder/cell_{k}/bidirectional_rnn/{direction}/multi_rnn_cell/cell_0/lstm_cell"


def decoder_prefixes(cfg: MusicVAEConfig) -> list[str]:
    """Scope of each core decoder (one, or three for the trio)."""
    if cfg.decoder == "flat":
        return ["decoder"]
    if cfg.decoder == "hierarchical":
        return ["core_decoder/decoder"]
    return [f"core_decoder/core_decoder_{i}/decoder" for i in range(len(cfg.output_depths))]


CONDUCTOR = "decoder/hierarchical_level_0"


def _lstm(spec: dict, scope: str, inputs: int, units: int) -> None:
    spec[f"{scope}/kernel"] = (inputs + units, 4 * units)
    spec[f"{scope}/bias"] = (4 * units,)


def _dense(spec: dict, scope: str, inputs: int, outputs: int) -> None:
    spec[f"{scope}/kernel"] = (inputs, outputs)
    spec[f"{scope}/bias"] = (outputs,)


def expected_variables(cfg: MusicVAEConfig) -> dict[str, tuple[int, ...]]:
    """Every variable the config needs, by Magenta name, with its shape."""
    spec: dict[str, tuple[int, ...]] = {}
    width = cfg.input_depth
    for k, units in enumerate(cfg.enc_rnn_size):
        for d in ("fw", "bw"):
            _lstm(spec, encoder_cell(k, d), width, units)
        width = 2 * units
    _dense(spec, "encoder/mu", width, cfg.z_size)
    _dense(spec, "encoder/sigma", width, cfg.z_size)

    dec = cfg.dec_rnn_size
    state_width = 2 * sum(dec)
    if cfg.hierarchical:
        _dense(spec, f"{CONDUCTOR}/initial_state", cfg.z_size, state_width)
        width = 1  # the conductor reads a zero input of width 1
        for l, units in enumerate(dec):
            _lstm(spec, f"{CONDUCTOR}/cell_{l}/lstm_cell", width, units)
            width = units
        cond_width = dec[-1]
    else:
        cond_width = cfg.z_size
    for prefix, depth in zip(decoder_prefixes(cfg), cfg.output_depths):
        _dense(spec, f"{prefix}/z_to_initial_state", cond_width, state_width)
        width = depth + cond_width
        for l, units in enumerate(dec):
            _lstm(spec, f"{prefix}/multi_rnn_cell/cell_{l}/lstm_cell", width, units)
            width = units
        _dense(spec, f"{prefix}/output_projection", dec[-1], depth)
    return spec


def infer_sizes(cfg: MusicVAEConfig, shapes: dict[str, tuple[int, ...]]) -> MusicVAEConfig:
    """The config with encoder, decoder and z sizes read from checkpoint shapes.

    `shapes` is keyed by canonical names. Whatever cannot be read keeps the config's value, so
    that validation afterwards names what is missing.
    """
    enc = []
    while (s := shapes.get(canonical(encoder_cell(len(enc), "fw")) + "/kernel")) is not None and len(s) == 2:
        enc.append(int(s[1]) // 4)
    z = shapes.get("encoder/mu/kernel")
    z_size = int(z[1]) if z is not None and len(z) == 2 else None
    scope = CONDUCTOR if cfg.hierarchical else decoder_prefixes(cfg)[0]
    dec = []
    while (s := shapes.get(f"{canonical(scope)}/cell_{len(dec)}/lstm_cell/kernel")) is not None and len(s) == 2:
        dec.append(int(s[1]) // 4)
    return cfg.with_sizes(enc_rnn_size=enc or None, dec_rnn_size=dec or None, z_size=z_size)
