"""Why a model's sampled melodies are sparse or dense: its choices at each sixteenth of the beat.

    .venv/bin/python scripts/decoder_choices.py resources/models/trio_16bar [--n 128] [--temperature 0.5]

Draws n samples from z ~ N(0, I) (with --codes, from the encoder's codes, mu, of n held-out
windows of --data instead) at the temperature with the training graph and prints, for each
melodic part and each sixteenth of the beat, the decoder's mean probabilities (at temperature
1) of "hold" (no event), note-off, any new note and the likeliest single pitch, with the share
of steps where the sample started a note, beside the data's share when --data is given; then
notes per bar, samples and data.

Lowering the temperature sharpens each choice on its own: when the probability of a new note is
spread over several pitches, each of them loses to a single "hold", so a model unsure of its
pitches plays fewer notes at 0.5 than at 1.0 even where it is sure that a note comes.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a model folder (model.json + weights.npz) or a training checkpoint")
    p.add_argument("--n", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default=None, help="also print the data's onsets (corpus, corpus:trio, a folder)")
    p.add_argument("--codes", action="store_true", help="decode the codes of held-out windows of --data, "
                   "not codes drawn from the prior: how well the decoder knows a tune it is told about")
    args = p.parse_args(argv)
    if args.codes and not args.data:
        p.error("--codes needs --data")

    from core.musicvae import converters as cv
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.evaluate import window_statistics
    from core.musicvae.lazy_tf import tf
    from core.musicvae.training import Trainer, TrainSettings

    cfg, weights, _ = load_weights(None, args.model)
    all_parts = cv.PARTS[cfg.data]
    parts = [p for p in all_parts if p != "drums"]
    if not parts:
        print(f"{args.model}: a drum model; nothing melodic to show")
        return 1
    trainer = Trainer(cfg, TrainSettings(steps=1), weights)
    rng = np.random.default_rng(args.seed)
    data_stats = None
    if args.data:
        from cli.train import data_source
        from core.data.dataset import build_dataset

        ds = build_dataset(data_source(args.data, cfg.data), cfg.data, bars=cfg.bars)
        data_stats = window_statistics(ds.tokens("train"), cfg.data)
    if args.codes:
        z = trainer.encode_mu(ds.held_out[ds.held_out_pick(args.n, args.seed)].astype(np.int32))
        what = f"the codes of {len(z)} held-out windows"
    else:
        z = rng.standard_normal((args.n, cfg.z_size)).astype(np.float32)
        what = f"{args.n} codes from N(0, I)"
    logits, chosen = trainer.graph.stepwise(tf.constant(z), greedy=False, temperature=args.temperature,
                                            seed=tf.constant(rng.integers(0, 2 ** 31 - 1, 2), tf.int32))
    chosen = chosen.numpy()
    stats = window_statistics(chosen if cfg.data == "trio" else chosen[..., 0], cfg.data)
    q = cv.STEPS_PER_QUARTER
    print(f"{args.model}: {what}, decoded at temperature {args.temperature}")
    for part in parts:
        probs = tf.nn.softmax(logits[all_parts.index(part)]).numpy()
        sample_onsets = stats["onsets_by_sixteenth"][part]
        data_onsets = data_stats["onsets_by_sixteenth"][part] if data_stats else None
        print(f"\n{part}: sixteenth  P(hold)  P(note-off)  P(new note)  P(likeliest pitch)  "
              f"sampled new notes" + ("  data's new notes" if data_onsets else ""))
        for k in range(q):
            pk = probs[:, k::q]
            row = (f"{part}: {k + 1:>9}  {pk[..., cv.NO_EVENT].mean():7.2f}  {pk[..., cv.NOTE_OFF].mean():11.2f}  "
                   f"{pk[..., cv.FIRST_NOTE_CLASS:].sum(-1).mean():11.2f}  "
                   f"{pk[..., cv.FIRST_NOTE_CLASS:].max(-1).mean():17.2f}  {sample_onsets[k]:17.2f}")
            if data_onsets:
                row += f"  {data_onsets[k]:17.2f}"
            print(row)
    data_per_bar = data_stats["notes_per_bar"] if data_stats else {}
    print("\nnotes per bar: " + ", ".join(f"{p} {v:.2f}" + (f" (data {data_per_bar[p]:.2f})" if p in data_per_bar else "")
                                         for p, v in stats["notes_per_bar"].items()))
    return 0


if __name__ == "__main__":
    from core.errors import UserError

    try:
        sys.exit(main())
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
