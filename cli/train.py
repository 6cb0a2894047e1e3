"""`python main.py train` and `python main.py model-card`: train a MusicVAE, write its card.

    python main.py train --config cat-mel_2bar_small --data corpus:folk --out runs/mel --steps 20000 --sizes small
    python main.py train ... --resume            # continue from the newest checkpoint in --out
    python main.py train ... --init-from runs/mel --data my_midi --out runs/mine   # fine-tune
    python main.py train --init-from mel_2bar --data my_midi --out runs/mine --steps +300
                                                 # fine-tune an embedded or installed model by name
    python main.py model-card runs/mel --data corpus:folk

DATA is a folder of MIDI files or a built-in corpus: corpus (all folk collections and the
chorales), corpus:folk, corpus:chorales, corpus:ryans,oneills, ... (see core/data/corpus.py),
corpus:drums (the drum-pattern generator) and corpus:trio (folk and chorale tunes with a bass and
generated drums). Ctrl-C saves a checkpoint and stops; a second Ctrl-C stops at once.
"""
from __future__ import annotations

import signal
import sys
import time

from cli.progress import TextProgress
from core.errors import UserError


def _sizes_list(text: str) -> list[int]:
    try:
        out = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise UserError(f"layer sizes are comma-separated whole numbers, e.g. 256,256 (got {text!r})") from None
    if not out or min(out) < 1:
        raise UserError(f"layer sizes must be positive, got {text!r}")
    return out


def add_data_arguments(p) -> None:
    p.add_argument("--data", required=True, metavar="DIR_OR_CORPUS",
                   help="a folder of MIDI files, or corpus, corpus:folk, corpus:chorales, corpus:drums, corpus:trio")
    p.add_argument("--limit-files", type=int, default=None, metavar="N",
                   help="read at most N files (quick trials)")
    p.add_argument("--drum-sequences", type=int, default=40, metavar="N",
                   help="generated drum corpus: sequences per genre (default 40)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="read the files in N processes and stream the windows to disk (large collections: "
                        "memory stays flat); default: one process, windows in memory")


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a MusicVAE on MIDI files or the built-in corpus",
                              description="Train a MusicVAE (any config) and save it in Latent Studio's model format.")
    p.add_argument("--config", default=None, metavar="CONFIG",
                   help="a named config, e.g. cat-mel_2bar_small (default with --init-from or --resume: "
                        "the config and sizes of the model trained on)")
    add_data_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (model, checkpoints, log)")
    p.add_argument("--steps", type=_steps_arg, required=True, metavar="N|+N",
                   help="train until this global step; +N: N steps more than the run starts at "
                        "(with --init-from MODEL, the step that model reached)")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--init-from", default=None, metavar="MODEL",
                   help="start a new run from another run's newest checkpoint (weights, optimizer, step), "
                        "or from a model: an embedded or installed model's name or any model folder "
                        "(weights and step; Adam starts afresh); then go on with --data: fine-tune on "
                        "your own files, or add material")
    p.add_argument("--batch", type=int, default=64, metavar="B", help="batch size (default 64)")
    p.add_argument("--lr", type=float, default=1e-3, metavar="LR", help="initial learning rate (default 0.001)")
    p.add_argument("--decay", type=float, default=0.9999, help="learning-rate decay per step (default 0.9999)")
    p.add_argument("--min-lr", type=float, default=1e-5, help="lowest learning rate (default 0.00001)")
    p.add_argument("--decay-from", type=int, default=0, metavar="STEP",
                   help="global step the decay counts from: --lr is the rate there (default 0)")
    p.add_argument("--sizes", default=None, choices=sorted(SIZE_PRESETS) + ["custom"],
                   help="layer sizes: small (the embedded models), tiny (tests), custom (--enc/--dec/--z); "
                        "default: the config's own")
    p.add_argument("--enc", default=None, metavar="U[,U]", help="encoder sizes per direction, e.g. 256")
    p.add_argument("--dec", default=None, metavar="U,U", help="decoder sizes, e.g. 256,256")
    p.add_argument("--z", type=int, default=None, metavar="Z", help="latent size")
    p.add_argument("--free-bits", type=float, default=None, help="KL free bits (default: the config's)")
    p.add_argument("--max-beta", type=float, default=None, help="largest KL weight (default: the config's)")
    p.add_argument("--beta-rate", type=float, default=None, help="KL annealing rate (default: the config's)")
    p.add_argument("--sampling", default="none", choices=["none", "constant", "inverse_sigmoid"],
                   help="scheduled sampling schedule (default none: teacher forcing)")
    p.add_argument("--sampling-rate", type=float, default=0.0,
                   help="constant: the probability; inverse_sigmoid: k (e.g. 1000)")
    p.add_argument("--transpose", default="-5,5", metavar="LO,HI",
                   help="random transposition of melody/bass windows per batch (default -5,5; 0,0 to turn off)")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="N")
    p.add_argument("--keep", type=int, default=2, metavar="N", help="checkpoints to keep (default 2)")
    p.add_argument("--eval-every", type=int, default=500, metavar="N", help="held-out evaluation interval")
    p.add_argument("--eval-examples", type=int, default=512, metavar="N")
    p.add_argument("--eval-samples", type=int, default=128, metavar="N",
                   help="samples drawn at temperature 0.5 at each evaluation, to follow their notes per bar "
                        "against the data's and their share of notes in key (0: none)")
    p.add_argument("--float16", action="store_true", help="store the final weights as float16 (half the size)")
    p.add_argument("--name", default=None, help="model name written into model.json")
    p.add_argument("--device", default=None, help="cpu, gpu or a TensorFlow device; default: the GPU when there is one")
    p.add_argument("--xla", action="store_true",
                   help="compile the training step with XLA (slower first step; on the shared 2-core CPU "
                        "no steady gain was measured, it may help on other machines)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", default=None, metavar="HOST:PORT,HOST:PORT",
                   help="train one model on several machines (tf.distribute.MultiWorkerMirroredStrategy): "
                        "every worker's address, the same list on each; worker 0 is the chief and writes "
                        "the model. TF_CONFIG set in the environment does the same")
    p.add_argument("--worker-index", type=int, default=None, metavar="I",
                   help="this machine's place in --workers (0 on the chief)")
    p.set_defaults(func=run)

    c = subparsers.add_parser("model-card", help="evaluate a trained model and write model-card.json beside it",
                              description="Held-out reconstruction, KL and sample statistics at temperature 0.5 "
                                          "compared with the training data; writes MODEL_DIR/model-card.json.")
    c.add_argument("model", metavar="MODEL_DIR")
    add_data_arguments(c)
    c.add_argument("--samples", type=int, default=256, metavar="N", help="samples for the statistics (default 256)")
    c.add_argument("--temperature", type=float, default=0.5)
    c.add_argument("--examples", type=int, default=1024, metavar="N", help="held-out windows to reconstruct")
    c.add_argument("--device", default=None)
    c.set_defaults(func=run_card)

    f = subparsers.add_parser("code-prior", help="fit the Gaussian a trained model's codes fill; its samples come from it",
                              description="Encodes training windows with the model in MODEL_DIR, fits one "
                                          "full-covariance Gaussian to their codes and writes MODEL_DIR/prior.npz "
                                          "(named in model.json). The model's random codes then come from it "
                                          "instead of N(0, I): for a model whose KL ended under its free bits, "
                                          "whose codes do not fill N(0, I). --remove goes back to N(0, I).")
    f.add_argument("model", metavar="MODEL_DIR")
    add_data_arguments(f)
    f.add_argument("--windows", type=int, default=4096, metavar="N",
                   help="training windows to encode, picked at random (default 4096)")
    f.add_argument("--device", default=None)
    f.add_argument("--seed", type=int, default=0)
    f.set_defaults(func=run_code_prior)


SIZE_PRESETS = {
    # flat decoders / hierarchical decoders: (enc, dec, z)
    "small": {"flat": ((256,), (256, 256), 128), "hier": ((256, 256), (256, 256), 256)},
    "tiny": {"flat": ((32,), (32,), 8), "hier": ((32, 32), (32, 32), 8)},
}


def _steps_arg(text: str):
    """--steps N (a global step) or +N (relative to where the run starts), as ("=", N) / ("+", N)."""
    rel = text.strip().startswith("+")
    try:
        n = int(text.strip().lstrip("+"))
    except ValueError:
        raise UserError(f"--steps takes a whole number, or +N for N more steps (got {text!r})") from None
    return ("+" if rel else "=", n)


def base_config(args):
    """The config named by --config, else the one of the model --init-from or --resume continues."""
    from core.musicvae.configs import get_config

    if args.config:
        return get_config(args.config)
    from core.musicvae.training import checkpoint_dirs, load_checkpoint, resolve_init_from

    folder = None
    if getattr(args, "resume", False) and checkpoint_dirs(args.out):
        folder = checkpoint_dirs(args.out)[-1][1]
    elif getattr(args, "init_from", None):
        folder = resolve_init_from(args.init_from)[1][-1][1]
    if folder is None:
        raise UserError("say which model to train with --config (e.g. cat-mel_2bar_small), or start from "
                        "a model with --init-from NAME")
    return load_checkpoint(folder)[0]


def resolve_config(args):
    """The config with the chosen sizes and KL settings."""
    import dataclasses

    cfg = base_config(args)
    if args.sizes in SIZE_PRESETS:
        enc, dec, z = SIZE_PRESETS[args.sizes]["hier" if cfg.hierarchical else "flat"]
        cfg = cfg.with_sizes(enc, dec, z)
    if args.enc or args.dec or args.z:
        cfg = cfg.with_sizes(_sizes_list(args.enc) if args.enc else None,
                             _sizes_list(args.dec) if args.dec else None, args.z)
    elif args.sizes == "custom":
        raise UserError("--sizes custom needs --enc, --dec and/or --z")
    changes = {k: v for k, v in (("free_bits", args.free_bits), ("max_beta", args.max_beta),
                                 ("beta_rate", args.beta_rate)) if v is not None}
    return dataclasses.replace(cfg, **changes) if changes else cfg


def data_source(data: str, kind: str) -> str:
    """The dataset builder's source string for a --data value and a model kind."""
    if data in ("corpus:drums", "corpus:trio"):
        want = data.split(":")[1]
        if want != kind:
            raise UserError(f"--data {data} holds {want} material, but the config models {kind}")
        return "corpus"
    return data


def load_data(token, args, kind: str, bars: int):
    from core.data.dataset import build_dataset

    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {args.jobs}")
    return build_dataset(data_source(args.data, kind), kind, token, bars=bars, limit_files=args.limit_files,
                         drum_sequences=args.drum_sequences, jobs=getattr(args, "jobs", None))


def _interruptible(token):
    """First Ctrl-C cancels the token (the job saves and stops), a second one interrupts."""
    def handler(signum, frame):
        if token.cancelled:
            raise KeyboardInterrupt
        print("\nstopping after this step (Ctrl-C again to quit at once)...", file=sys.stderr)
        token.cancel()

    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        return None


def run(args) -> int:
    from core.jobs import JobToken
    from core.musicvae.training import TrainSettings, train

    from core.musicvae.training import start_step

    if args.workers:  # before TensorFlow starts: the strategy reads TF_CONFIG when it is made
        from core.musicvae.distribute import set_cluster

        cluster = set_cluster(args.workers, args.worker_index)
        print(f"worker {cluster.index} of {cluster.count} ({'chief: writes the model' if cluster.is_chief else 'writes nothing'})",
              file=sys.stderr)
    elif args.worker_index is not None:
        raise UserError("--worker-index needs --workers (the list of every worker's host:port)")
    cfg = resolve_config(args)
    try:
        lo, hi = (int(x) for x in args.transpose.split(","))
    except ValueError:
        raise UserError(f"--transpose takes LO,HI semitones, e.g. -5,5 (got {args.transpose!r})") from None
    mode, steps = args.steps if isinstance(args.steps, tuple) else ("=", int(args.steps))
    if mode == "+":
        steps += start_step(args.init_from, args.out if args.resume else None)
    settings = TrainSettings(
        steps=steps, batch_size=args.batch, learning_rate=args.lr, decay_rate=args.decay,
        min_learning_rate=args.min_lr, decay_from=args.decay_from, sampling_schedule=args.sampling,
        sampling_rate=args.sampling_rate,
        transpose=None if (lo, hi) == (0, 0) else (lo, hi), checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep, eval_every=args.eval_every, eval_examples=args.eval_examples,
        eval_samples=args.eval_samples, seed=args.seed,
        storage="float16" if args.float16 else "float32", device=args.device, name=args.name, xla=args.xla)
    bar = TextProgress(width=24, every=0.5, by_tenths=False)
    token = JobToken(bar)
    print(f"{cfg.name}: enc {list(cfg.enc_rnn_size)}, dec {list(cfg.dec_rnn_size)}, z {cfg.z_size}, "
          f"{cfg.steps} steps; free bits {cfg.free_bits:g}, max beta {cfg.max_beta:g}, beta rate {cfg.beta_rate:g}",
          file=sys.stderr)
    old = _interruptible(token)
    try:
        dataset = load_data(token, args, cfg.data, cfg.bars)
        bar.finish()
        result = train(token, cfg, dataset, args.out, settings, resume=args.resume, data_description=args.data,
                       init_from=args.init_from)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
    bar.finish()
    from core.musicvae.distribute import writes_files

    state = "stopped" if result.cancelled else "finished"
    where = f"model in {result.out_dir}" if writes_files() else "the chief (worker 0) wrote the model"
    print(f"{state} at step {result.step} after {result.seconds / 60:.1f} min of training; {where}")
    if result.history:
        h = result.history[-1]
        print(f"held-out (step {h['step']}): teacher-forced accuracy {h['teacher_forced_accuracy']:.3f}, "
              f"free-running accuracy {h['free_running_accuracy']:.3f}, KL {h['kl_bits']:.1f} bits")
    return 0


def run_code_prior(args) -> int:
    import numpy as np

    from core.jobs import JobToken
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.code_prior import fit_to_codes

    cfg, _, _ = load_weights(None, args.model)
    if args.windows < 2:
        raise UserError(f"--windows must be at least 2, got {args.windows}")
    bar = TextProgress(width=24, every=0.5, by_tenths=False)
    token = JobToken(bar)
    dataset = load_data(token, args, cfg.data, cfg.bars)
    bar.finish()
    train = dataset.tokens("train")
    if len(train) < 2:
        raise UserError(f"{args.data} gave {len(train)} training windows; a code prior needs at least 2")
    pick = np.sort(np.random.default_rng(args.seed).choice(len(train), min(args.windows, len(train)), replace=False))
    prior = fit_to_codes(token, args.model, train[pick], device=args.device)
    bar.finish()
    path = prior.save(args.model, {"windows": int(len(pick)), "data": args.data, "seed": args.seed})
    spread = prior.spread()
    print(f"{path}: fitted to the codes of {len(pick)} training windows; spread per dimension "
          f"median {np.median(spread):.2f} (N(0, I): 1), |mean| {np.linalg.norm(prior.mean):.2f}")
    return 0


def run_card(args) -> int:
    import json

    from core.jobs import JobToken
    from core.musicvae.checkpoint import load_weights
    from core.musicvae.evaluate import write_model_card

    cfg, _, _ = load_weights(None, args.model)
    bar = TextProgress(width=24, every=0.5, by_tenths=False)
    token = JobToken(bar)
    dataset = load_data(token, args, cfg.data, cfg.bars)
    bar.finish()
    card = write_model_card(args.model, dataset, token=token, samples=args.samples,
                            temperature=args.temperature, max_examples=args.examples, device=args.device,
                            data_description=args.data)
    bar.finish()
    print(json.dumps(card["held_out"], indent=1))
    print(json.dumps(card["targets"], indent=1))
    return 0
