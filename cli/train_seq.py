"""`python main.py train-seq`: train a sequence model (continue and infill) on the built-in corpus.

    python main.py train-seq --arch transformer --out runs/seq_tf --steps 3000
    python main.py train-seq --arch lstm --out runs/seq_lstm --steps 3000 --size units=256
    python main.py train-seq ... --resume          # go on from the newest checkpoint in --out
    python main.py train-seq ... --minutes 35      # stop (and save) after 35 minutes

The corpus is the folk collections and the chorales with a bass and generated drums, plus the
generated drum corpus (core/seq/data.py); held-out pieces are chosen by source like the MusicVAE
data. Ctrl-C saves a checkpoint and stops. OUT ends up holding a loadable model folder.
"""
from __future__ import annotations

import signal

from cli.progress import TextProgress
from core.errors import JobCancelled, UserError


def _sizes(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise UserError(f"--size takes NAME=VALUE, e.g. d_model=128 (got {part!r})")
            k, v = part.split("=", 1)
            try:
                out[k.strip()] = float(v) if "." in v else int(v)
            except ValueError:
                raise UserError(f"--size {k}: {v!r} is not a number") from None
    return out


def register(subparsers) -> None:
    p = subparsers.add_parser("train-seq", help="train a sequence model (Transformer or LSTM) for continue and infill",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", required=True, choices=["transformer", "lstm"])
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (model, checkpoints, log)")
    p.add_argument("--steps", type=int, required=True, metavar="N", help="train until this step")
    p.add_argument("--name", default=None, help="the model's name (default: the folder's name)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--size", action="append", metavar="NAME=VALUE[,...]",
                   help="model sizes, e.g. d_model=128,layers=4,heads=4,d_ff=512,max_len=512 "
                        "(transformer) or units=256,layers=2,d_embed=128 (lstm)")
    p.add_argument("--collections", default="", metavar="A,B",
                   help="corpus collections (default: all folk and the chorales), e.g. oneills,ryans,chorales")
    p.add_argument("--limit-files", type=int, default=None, metavar="N", help="read at most N corpus files")
    p.add_argument("--drum-sequences", type=int, default=40, metavar="N")
    p.add_argument("--infill-share", type=float, default=0.4, help="share of infill examples (default 0.4)")
    p.add_argument("--checkpoint-every", type=int, default=200, metavar="N")
    p.add_argument("--eval-every", type=int, default=200, metavar="N")
    p.add_argument("--minutes", type=float, default=None, help="stop after this much wall time (saves first)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    from core.jobs import JobToken
    from core.seq.training import SeqTrainSettings, train

    if args.steps < 1:
        raise UserError("--steps must be at least 1")
    collections = tuple(x.strip() for x in args.collections.split(",") if x.strip())
    settings = SeqTrainSettings(
        arch=args.arch, out=args.out, steps=args.steps,
        name=args.name or os.path.basename(os.path.normpath(args.out)), batch=args.batch, lr=args.lr,
        seed=args.seed, checkpoint_every=args.checkpoint_every, eval_every=args.eval_every,
        resume=args.resume, collections=collections, drum_sequences=args.drum_sequences,
        limit_files=args.limit_files, infill_share=args.infill_share, sizes=_sizes(args.size),
        time_budget_s=args.minutes * 60 if args.minutes else None)
    bar = TextProgress(width=24, every=0.5, by_tenths=False)
    token = JobToken(bar)

    def handler(signum, frame):
        token.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    old = signal.signal(signal.SIGINT, handler)
    try:
        result = train(token, settings)
    except JobCancelled:
        bar.finish()
        print(f"stopped; a checkpoint is in {args.out}/checkpoints (add --resume to go on)")
        return 130
    finally:
        signal.signal(signal.SIGINT, old)
    bar.finish()
    nll = result["held_out_nll"]
    print(f"trained {result['steps']} steps in {result['seconds'] / 60:.1f} min; "
          f"held-out NLL per event {nll:.3f}" if nll is not None else "no held-out pieces")
    print(f"model: {args.out}")
    return 0
