"""Named MusicVAE configurations as plain data (no TensorFlow here).

A config fixes the structure of a model: the encoder and decoder kinds, the layer sizes of the
published checkpoint, the sequence length and the tensor depths of its data kind. Layer sizes can
be replaced (`with_sizes`) for smaller test models; the structure, and so the variable names,
stay the same.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

MELODY_DEPTH = 90  # 0 no event, 1 note off, 2.. note on for pitches 21..108
DRUM_CLASSES = 9
DRUMS_INPUT_DEPTH = DRUM_CLASSES + 1  # 9-bit roll plus a "no hit" bit
DRUMS_OUTPUT_DEPTH = 2 ** DRUM_CLASSES  # one class per combination of hits
TRIO_DEPTHS = (MELODY_DEPTH, MELODY_DEPTH, DRUMS_OUTPUT_DEPTH)  # melody | bass | drums

DECODER_KINDS = ("flat", "hierarchical", "trio")
DATA_KINDS = ("melody", "drums", "trio")


@dataclass(frozen=True)
class MusicVAEConfig:
    name: str
    data: str  # melody / drums / trio
    decoder: str  # flat / hierarchical / trio
    enc_rnn_size: tuple[int, ...]
    dec_rnn_size: tuple[int, ...]
    z_size: int
    steps: int  # decoded length in 16th-note steps
    input_depth: int
    output_depths: tuple[int, ...]  # one entry per core decoder (three for the trio)
    level_lengths: tuple[int, ...] | None = None  # hierarchical: (bars, steps per bar)
    free_bits: float = 0.0
    max_beta: float = 1.0
    beta_rate: float = 0.0
    bars: int = 2
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.decoder not in DECODER_KINDS:
            raise ValueError(f"unknown decoder kind {self.decoder!r}")
        if self.data not in DATA_KINDS:
            raise ValueError(f"unknown data kind {self.data!r}")
        if self.level_lengths is not None:
            prod = 1
            for n in self.level_lengths:
                prod *= n
            if prod != self.steps:
                raise ValueError(f"level lengths {self.level_lengths} do not multiply to {self.steps} steps")

    @property
    def output_depth(self) -> int:
        return sum(self.output_depths)

    @property
    def hierarchical(self) -> bool:
        return self.decoder in ("hierarchical", "trio")

    @property
    def steps_per_bar(self) -> int:
        return self.steps // self.bars

    def with_sizes(self, enc_rnn_size=None, dec_rnn_size=None, z_size=None) -> "MusicVAEConfig":
        """The same structure with other layer sizes (used for small test models)."""
        changes = {}
        if enc_rnn_size is not None:
            changes["enc_rnn_size"] = tuple(int(s) for s in enc_rnn_size)
        if dec_rnn_size is not None:
            changes["dec_rnn_size"] = tuple(int(s) for s in dec_rnn_size)
        if z_size is not None:
            changes["z_size"] = int(z_size)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("extra", None)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "MusicVAEConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        for k in ("enc_rnn_size", "dec_rnn_size", "output_depths", "level_lengths"):
            if kw.get(k) is not None:
                kw[k] = tuple(int(v) for v in kw[k])
        return cls(**kw)


CONFIGS: dict[str, MusicVAEConfig] = {}


def _add(cfg: MusicVAEConfig) -> None:
    CONFIGS[cfg.name] = cfg


_add(MusicVAEConfig(
    name="cat-mel_2bar_small", data="melody", decoder="flat",
    enc_rnn_size=(512,), dec_rnn_size=(256, 256), z_size=256, steps=32,
    input_depth=MELODY_DEPTH, output_depths=(MELODY_DEPTH,),
    free_bits=0, max_beta=0.2, beta_rate=0.99999, bars=2,
    description="2-bar melodies, small model"))
_add(MusicVAEConfig(
    name="cat-mel_2bar_big", data="melody", decoder="flat",
    enc_rnn_size=(2048,), dec_rnn_size=(2048, 2048, 2048), z_size=512, steps=32,
    input_depth=MELODY_DEPTH, output_depths=(MELODY_DEPTH,),
    free_bits=0, max_beta=0.5, beta_rate=0.99999, bars=2,
    description="2-bar melodies, big model"))
_add(MusicVAEConfig(
    name="cat-drums_2bar_small", data="drums", decoder="flat",
    enc_rnn_size=(512,), dec_rnn_size=(256, 256), z_size=256, steps=32,
    input_depth=DRUMS_INPUT_DEPTH, output_depths=(DRUMS_OUTPUT_DEPTH,),
    free_bits=48, max_beta=0.2, bars=2,
    description="2-bar drum patterns, small model"))
_add(MusicVAEConfig(
    name="hierdec-mel_16bar", data="melody", decoder="hierarchical",
    enc_rnn_size=(2048, 2048), dec_rnn_size=(1024, 1024), z_size=512, steps=256,
    input_depth=MELODY_DEPTH, output_depths=(MELODY_DEPTH,), level_lengths=(16, 16),
    free_bits=256, max_beta=0.2, bars=16,
    description="16-bar melodies, hierarchical decoder"))
_add(MusicVAEConfig(
    name="hierdec-trio_16bar", data="trio", decoder="trio",
    enc_rnn_size=(2048, 2048), dec_rnn_size=(1024, 1024), z_size=512, steps=256,
    input_depth=sum(TRIO_DEPTHS), output_depths=TRIO_DEPTHS, level_lengths=(16, 16),
    free_bits=256, max_beta=0.2, bars=16,
    description="16-bar trios (melody, bass, drums), hierarchical decoder"))

# Published checkpoint variants that share a structure with a config above.
ALIASES = {
    "cat-drums_2bar_small.lokl": "cat-drums_2bar_small",
    "cat-drums_2bar_small.hikl": "cat-drums_2bar_small",
}


def get_config(name: str | MusicVAEConfig) -> MusicVAEConfig:
    """The named config; a UserError lists the known names when the name is unknown."""
    if isinstance(name, MusicVAEConfig):
        return name
    key = ALIASES.get(name, name)
    if key not in CONFIGS:
        from core.errors import UserError

        raise UserError(f"unknown model config {name!r}; known configs: {', '.join(sorted(CONFIGS))}")
    return CONFIGS[key]
