"""Sequence models measured: held-out NLL by position, continuations, infills, generation speed.

    python benchmarks/bench_seq.py                       # the embedded seq_transformer and seq_lstm
    python benchmarks/bench_seq.py --models runs/a runs/b --collections ryans,chorales
    python benchmarks/bench_seq.py --json out.json       # also write the numbers as JSON

Everything uses the held-out pieces (the same split by source as training, core/seq/data.py):

1. NLL per event (nats, teacher forcing) at positions 0-128, 128-256, 256-512 of held-out
   windows that start at a piece's first bar and hold all its parts (melody, bass, drums), only
   windows with at least 512 events, so every position range averages over the same windows.
2. Continuations: 16 held-out melodies (the melody part alone), prompt = their first 4 bars,
   8 bars continued at temperature 1.0, 4 per prompt. In-key share (key detected from the prompt),
   notes per bar and pitch range (highest - lowest) against the melody's own bars 5-12; drift =
   per bar k of the continuation, the cosine similarity of its pitch-class histogram to the
   prompt's (the true continuation's too, for reference).
3. Infill: bars 5-8 of the same melodies rewritten from bars 1-4 and 9-12, against bars 5-8 of a
   Continue from bars 1-4 alone: how far each lands from the surrounding bars (mean pitch gap
   in semitones, notes per bar gap, pitch-class cosine to the context).
4. Speed: seconds to generate 8 bars after a 4-bar melody prompt, batch 1 and 8, with the KV
   cache and with a full recompute per event (best of `--repeats`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.seq import data as sd  # noqa: E402
from core.seq import events as ev  # noqa: E402

BUCKETS = ((0, 128), (128, 256), (256, 512))


def nll_by_position(model, windows: np.ndarray) -> list[float]:
    from core.musicvae.lazy_tf import tf

    tot = np.zeros(windows.shape[1] - 1)
    cnt = np.zeros(windows.shape[1] - 1)
    for i in range(0, len(windows), 8):
        b = windows[i:i + 8]
        logits = model.logits(tf.constant(b[:, :-1])).numpy()
        logp = logits - logits.max(-1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(-1, keepdims=True))
        tgt = b[:, 1:]
        nll = -np.take_along_axis(logp, tgt[..., None], -1)[..., 0]
        mask = tgt != ev.PAD
        tot += (nll * mask).sum(0)
        cnt += mask.sum(0)
    return [float(tot[a:b].sum() / max(cnt[a:b].sum(), 1)) for a, b in BUCKETS]


def pc_hist(notes) -> np.ndarray:
    h = np.zeros(12)
    for n in notes:
        h[n.pitch % 12] += 1
    return h


def cosine(a, b) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na and nb else 0.0


def bar_notes(notes, bar):
    return [n for n in notes if bar * 4 <= n.start < (bar + 1) * 4]


def melody_stats(notes, bars: range, key) -> dict:
    from core.data.harmony import share_in_key

    ns = [n for b in bars for n in bar_notes(notes, b)]
    return {"in_key": share_in_key(ns, key) if ns else float("nan"), "notes_per_bar": len(ns) / len(bars),
            "range": (max(n.pitch for n in ns) - min(n.pitch for n in ns)) if ns else 0,
            "mean_pitch": float(np.mean([n.pitch for n in ns])) if ns else float("nan")}


def prompts(held, count: int):
    out = []
    for p in held:
        mel = p.parts.get("melody")
        if mel and p.bars >= 12 and len([n for n in mel if n.start < 16]) >= 8:
            out.append(p)
        if len(out) >= count:
            break
    return out


def continuation_numbers(model, pieces, seed=0) -> dict:
    from core import generation
    from core.data.harmony import detect_key
    from core.jobs import run_job
    from core.song import Clip

    rows, drift, drift_true, true_rows = [], np.zeros(8), np.zeros(8), []
    n_drift = 0
    for k, p in enumerate(pieces):
        mel = p.parts["melody"]
        prompt = [n for n in mel if n.start < 16]
        key = detect_key(prompt)
        ph = pc_hist(prompt)
        clip = Clip("prompt", 16.0, {"melody": prompt})
        outs = run_job(generation.continue_clip, model, clip, 8, 4, 1.0, seed=(seed, k))
        true_rows.append(melody_stats(mel, range(4, 12), key))
        for b in range(8):
            drift_true[b] += cosine(pc_hist(bar_notes(mel, 4 + b)), ph) / len(pieces)
        for c in outs:
            ns = c.notes["melody"]
            rows.append(melody_stats(ns, range(4, 12), key))
            for b in range(8):
                drift[b] += cosine(pc_hist(bar_notes(ns, 4 + b)), ph)
            n_drift += 1

    def mean(rs, key):
        v = [r[key] for r in rs if np.isfinite(r[key])]
        return float(np.mean(v)) if v else float("nan")

    return {"model": {k: mean(rows, k) for k in ("in_key", "notes_per_bar", "range")},
            "true": {k: mean(true_rows, k) for k in ("in_key", "notes_per_bar", "range")},
            "drift_model": [float(x / max(n_drift, 1)) for x in drift],
            "drift_true": [float(x) for x in drift_true]}


def infill_numbers(model, pieces, seed=0) -> dict:
    from core import generation
    from core.jobs import run_job
    from core.song import Clip

    def gaps(notes, context):
        ns = [n for b in range(4, 8) for n in bar_notes(notes, b)]
        ctx_bars = [n for b in (0, 1, 2, 3, 8, 9, 10, 11) for n in bar_notes(context, b)]
        if not ns:
            return None
        return {"pitch_gap": abs(np.mean([n.pitch for n in ns]) - np.mean([n.pitch for n in ctx_bars])),
                "density_gap": abs(len(ns) / 4 - len(ctx_bars) / 8),
                "pc_cosine": cosine(pc_hist(ns), pc_hist(ctx_bars))}

    fill_rows, cont_rows, true_rows = [], [], []
    for k, p in enumerate(pieces):
        mel = [n for n in p.parts["melody"] if n.start < 48]
        clip = Clip("piece", 48.0, {"melody": mel})
        fills = run_job(generation.infill_clip, model, clip, (5, 8), 4, 1.0, seed=(seed, k))
        prefix = Clip("prefix", 16.0, {"melody": [n for n in mel if n.start < 16]})
        conts = run_job(generation.continue_clip, model, prefix, 4, 4, 1.0, seed=(seed, k, 1))
        for c in fills:
            fill_rows.append(gaps(c.notes["melody"], mel))
        for c in conts:
            cont_rows.append(gaps(c.notes["melody"], mel))
        true_rows.append(gaps(mel, mel))

    def mean(rs):
        rs = [r for r in rs if r]
        return {k: float(np.mean([r[k] for r in rs])) for k in ("pitch_gap", "density_gap", "pc_cosine")} | \
            {"silent": sum(1 for r in rs if r is None)}

    return {"infill": mean(fill_rows), "continue": mean(cont_rows), "true": mean(true_rows)}


def speed_numbers(model, piece, repeats: int) -> dict:
    """Seconds for 8 bars. With the cache: measured whole (best of `repeats`). Without: the
    events of 8 bars (as many as the cached run wrote) times the measured seconds of one
    recompute of the run's mean history (prompt plus half the events; best of 5), since a whole
    run would take minutes on a loaded CPU."""
    from core.seq.sampling import sample_bars

    prompt = ev.encode({"melody": [n for n in piece.parts["melody"] if n.start < 16]}, bars=4)
    out = {}
    for batch in (1, 8):
        sample_bars(model, prompt, batch, 1, 1.0, seed=99)  # trace the step for this batch size first
        best = float("inf")
        events = 0
        for r in range(repeats):
            t0 = time.perf_counter()
            rows = sample_bars(model, prompt, batch, 8, 1.0, seed=r)
            best = min(best, time.perf_counter() - t0)
            events = max(len(x) for x in rows)
        out[f"batch {batch}, cache"] = best
        # a recompute reads the whole history: time it at the run's mean history length
        seqs = np.tile(np.asarray(prompt + [ev.BAR] * (events // 2), np.int32), (batch, 1))
        model.full_logits_last(seqs)  # trace
        per = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            model.full_logits_last(seqs)
            per = min(per, time.perf_counter() - t0)
        out[f"batch {batch}, no cache (extrapolated: {events} events x {per * 1000:.0f} ms)"] = per * events
        out[f"batch {batch}, events"] = events
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--models", nargs="+", default=[os.path.join(root, "resources", "models", "seq_transformer"),
                                                    os.path.join(root, "resources", "models", "seq_lstm")])
    ap.add_argument("--collections", default="ryans,chorales")
    ap.add_argument("--limit-files", type=int, default=None, help="read at most N corpus files (trials)")
    ap.add_argument("--windows", type=int, default=64, help="held-out windows for the NLL (default 64)")
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: nll,continue,infill,speed")
    ap.add_argument("--json", default=None)
    ap.add_argument("--merge", default=None, metavar="JSON",
                    help="numbers of other models from an earlier run's --json (the cards compare with them)")
    ap.add_argument("--cards", action="store_true",
                    help="write each model's MODEL_CARD.md and model-card.json from these numbers")
    args = ap.parse_args(argv)
    from core.seq import model as sm
    from core.tf_setup import configure

    configure()
    skip = set(filter(None, args.skip.split(",")))
    pieces = sd.corpus_pieces(tuple(args.collections.split(",")), limit_files=args.limit_files)
    _, held = sd.split(pieces)
    results = {"held_out_pieces": len(held)}
    print(f"held-out pieces: {len(held)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    models = [sm.load(p) for p in args.models]
    max_len = min(m.max_len for m in models)
    wins = sd.held_out_windows(held, max_len)
    wins = wins[(wins != ev.PAD).sum(1) >= max_len + 1][: args.windows]
    chosen = prompts([p for p in held if "melody" in p.parts], args.prompts)
    for m in models:
        r = results.setdefault(m.name, {"parameters": m.parameter_count(), "arch": m.config.arch})
        if "nll" not in skip:
            r["nll"] = dict(zip([f"{a}-{b}" for a, b in BUCKETS], nll_by_position(m, wins)))
            r["nll_windows"] = int(len(wins))
            print(f"{m.name}: held-out NLL per event over {len(wins)} windows: "
                  + ", ".join(f"{k}: {v:.3f}" for k, v in r["nll"].items()), flush=True)
        if "continue" not in skip:
            r["continue"] = c = continuation_numbers(m, chosen)
            print(f"{m.name}: continuations of {len(chosen)} prompts x 4 by 8 bars: "
                  f"in key {c['model']['in_key']:.3f} (true {c['true']['in_key']:.3f}), notes/bar "
                  f"{c['model']['notes_per_bar']:.2f} (true {c['true']['notes_per_bar']:.2f}), range "
                  f"{c['model']['range']:.1f} (true {c['true']['range']:.1f})", flush=True)
            print(f"{m.name}: similarity to the prompt per bar 1..8: "
                  + " ".join(f"{x:.2f}" for x in c["drift_model"])
                  + "  (true: " + " ".join(f"{x:.2f}" for x in c["drift_true"]) + ")", flush=True)
        if "infill" not in skip:
            r["infill"] = f = infill_numbers(m, chosen)
            for k in ("infill", "continue", "true"):
                print(f"{m.name}: bars 5-8 by {k:8s}: pitch gap to context {f[k]['pitch_gap']:.2f}, "
                      f"density gap {f[k]['density_gap']:.2f} notes/bar, pitch-class cosine {f[k]['pc_cosine']:.3f}",
                      flush=True)
        if "speed" not in skip:
            r["speed"] = s = speed_numbers(m, chosen[0], args.repeats)
            print(f"{m.name}: 8 bars after a 4-bar melody: "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in s.items() if not k.endswith("events")), flush=True)
    results["command"] = "python benchmarks/bench_seq.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results["load_average"] = os.getloadavg()[0]
    if args.merge:
        with open(args.merge, encoding="utf-8") as fh:
            earlier = json.load(fh)
        for k, v in earlier.items():
            if isinstance(v, dict) and "arch" in v and k not in results:
                results[k] = v
        results["command"] += f"  (with {', '.join(k for k, v in earlier.items() if isinstance(v, dict) and 'arch' in v)}"\
                              f" from: {earlier.get('command')})"
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
    if args.cards:
        for m in models:
            write_cards(m, results)
    return 0


def _fmt(d: dict, digits=3) -> str:
    return ", ".join(f"{k} {v:.{digits}f}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items())


def _train_command(name: str, st: dict) -> str:
    budget = st.get("time_budget_s")
    return (f"MINUTES={budget / 60:.0f} " if budget else "") + f"scripts/train_embedded.sh {name}"


def write_cards(model, results: dict) -> None:
    """MODEL_CARD.md (to read) and model-card.json (numbers; its summary feeds the catalogue)."""
    meta = model.meta
    tr = meta.get("training") or {}
    st = tr.get("settings") or {}
    r = results[model.name]
    others = {k: v for k, v in results.items() if isinstance(v, dict) and k != model.name and "arch" in v}
    minutes = (tr.get("seconds") or 0) / 60
    summary = (f"{model.config.arch}: continues clips and rewrites chosen bars (melody, bass, drums); "
               f"trained {minutes:.0f} min on 2 shared CPU cores")
    card = {"name": model.name, "kind": "sequence", "summary": summary, "config": model.config.to_dict(),
            "parameters": model.parameter_count(), "steps": tr.get("steps"),
            "training": {"seconds": tr.get("seconds"), "steps": tr.get("steps"), "batch": st.get("batch"),
                         "collections": st.get("collections"), "train_pieces": tr.get("train_pieces"),
                         "held_out_pieces": tr.get("held_out_pieces")},
            "held_out": {k: r[k] for k in ("nll", "nll_windows") if k in r},
            "continue": r.get("continue"), "infill": r.get("infill"), "speed": r.get("speed"),
            "benchmark": results.get("command")}
    with open(os.path.join(model.path, "model-card.json"), "w", encoding="utf-8") as fh:
        json.dump(card, fh, indent=1)
    lines = [f"# {model.name}", "", summary + ".", "",
             "## What it is", "",
             f"- Architecture: {model.config.to_dict()}",
             f"- Parameters: {model.parameter_count():,}; weights stored as float16",
             "- Events: one stream, bar by bar, parts after track tokens; infilling by the fill-in-the-middle "
             "layout (docs/sequence-models.md)", "",
             "## Training", "",
             f"- Budget: **{minutes:.0f} minutes of wall time on 2 CPU cores shared with other jobs, at nice 19** "
             f"({tr.get('steps')} steps of batch {st.get('batch')}); the issue's target is a few hours. "
             "This model is undertrained, and its numbers say how much.",
             f"- Data: corpus collections {', '.join(st.get('collections') or [])} (tunes with their real or "
             f"implied bass and generated drums) and the generated drum corpus: {tr.get('train_pieces')} training "
             f"pieces, {tr.get('held_out_pieces')} held out by source",
             f"- Command: `{_train_command(model.name, st)}`", "",
             f"## Measured (`{results.get('command')}`, load average {results.get('load_average', 0):.1f})", ""]
    if "nll" in r:
        lines.append(f"- Held-out NLL per event (nats) over {r['nll_windows']} windows of 512 events: {_fmt(r['nll'])}")
        for name, o in others.items():
            if "nll" in o:
                lines.append(f"  - {name} on the same windows: {_fmt(o['nll'])}")
    if r.get("continue"):
        c = r["continue"]
        lines += [f"- Continuations (16 held-out melodies, 4-bar prompt, 8 bars, 4 each, temperature 1): "
                  f"{_fmt(c['model'], 2)}; the melodies' own bars 5-12: {_fmt(c['true'], 2)}",
                  "- Pitch-class similarity to the prompt, bars 1-8 of the continuation: "
                  + " ".join(f"{x:.2f}" for x in c["drift_model"]) + " (the true continuation: "
                  + " ".join(f"{x:.2f}" for x in c["drift_true"]) + ")"]
    if r.get("infill"):
        f = r["infill"]
        lines.append("- Bars 5-8 against the surrounding bars (pitch gap in semitones, density gap in notes a bar, "
                     "pitch-class cosine): infill " + _fmt(f["infill"], 2) + "; Continue of bars 1-4 "
                     + _fmt(f["continue"], 2) + "; the real bars " + _fmt(f["true"], 2))
    if r.get("speed"):
        lines.append("- Seconds for 8 bars after a 4-bar melody: "
                     + "; ".join(f"{k}: {v:.2f}" for k, v in r["speed"].items() if not k.endswith("events")))
    lines += ["", "## Limits", "",
              "- 4/4 only, the 16th-note grid; no velocity (generated notes take the prompt's)",
              "- Trained on folk tunes, chorales and generated drums: other styles are far from what it saw",
              ""]
    with open(os.path.join(model.path, "MODEL_CARD.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
