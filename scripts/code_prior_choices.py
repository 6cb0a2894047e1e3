"""Where a model's random codes should come from: samples' density and key from several sources.

    .venv/bin/python scripts/code_prior_choices.py resources/models/trio_16bar --data corpus:trio [--n 512]

Encodes --windows random training windows of --data, then decodes --n codes from each source at
the temperature with the inference engine (as the app samples) and prints, per source, each
part's notes per bar as a ratio to the training windows' and the share of melody and bass notes
in key. The sources:
  N(0, I), and N(0, I) scaled by 0.5, 0.8 and 1.3;
  a Gaussian fitted to the codes with a diagonal covariance, and with a full one (the code prior);
  a mixture of --mixture full Gaussians fitted to the codes by EM;
  the codes themselves (mu) of training windows, and of held-out windows.
The last two only show what the decoder does with a tune's own code: sampling them would replay
the training tunes. With --draws K it also repeats the code prior K times with other seeds.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def fit_mixture(mu, sigma2, k: int, rng, iters: int = 30):
    """EM for k full-covariance Gaussians over codes mu (each widened by its own sigma^2)."""
    n, d = mu.shape
    means = mu[rng.choice(n, k, replace=False)]
    covs = np.repeat(np.cov(mu, rowvar=False)[None], k, axis=0)
    weights = np.full(k, 1.0 / k)
    for _ in range(iters):
        logp = np.empty((n, k))
        for j in range(k):
            chol = np.linalg.cholesky(covs[j] + 1e-4 * np.eye(d))
            y = np.linalg.solve(chol, (mu - means[j]).T)
            logp[:, j] = np.log(weights[j]) - 0.5 * (y ** 2).sum(0) - np.log(np.diag(chol)).sum()
        resp = np.exp(logp - logp.max(1, keepdims=True))
        resp /= resp.sum(1, keepdims=True)
        nk = resp.sum(0) + 1e-9
        weights = nk / n
        means = resp.T @ mu / nk[:, None]
        for j in range(k):
            diff = mu - means[j]
            covs[j] = (resp[:, j, None] * diff).T @ diff / nk[j] + np.diag(resp[:, j] @ sigma2 / nk[j])
    return weights, means, covs


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="a model folder (model.json + weights.npz)")
    p.add_argument("--data", required=True, help="the model's training data (corpus:trio, corpus, a folder)")
    p.add_argument("--n", type=int, default=512, help="codes decoded per source (default 512)")
    p.add_argument("--windows", type=int, default=4096, help="training windows to encode (default 4096)")
    p.add_argument("--mixture", type=int, default=4, help="components of the mixture (default 4)")
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--draws", type=int, default=0, help="also draw the code prior this many more times")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from cli.train import data_source
    from core.data.dataset import build_dataset
    from core.musicvae import load_model
    from core.musicvae.code_prior import CodePrior, encode_windows
    from core.musicvae.evaluate import compare_statistics, window_statistics

    model = load_model(None, args.model)
    cfg = model.config
    ds = build_dataset(data_source(args.data, cfg.data), cfg.data, bars=cfg.bars)
    train = ds.tokens("train")
    rng = np.random.default_rng(args.seed)
    pick = np.sort(rng.choice(len(train), min(args.windows, len(train)), replace=False))
    data_stats = window_statistics(train[pick], cfg.data)
    mu, sigma = encode_windows(None, args.model, train[pick])
    held = ds.held_out[np.sort(rng.choice(len(ds.held_out), min(args.n, len(ds.held_out)), replace=False))]
    held_mu, _ = encode_windows(None, args.model, held)
    prior = CodePrior.fit(mu, sigma)
    n, z = args.n, cfg.z_size

    def row(label, codes, seed=0):
        stats = window_statistics(model.decode_tokens(np.asarray(codes, np.float32), temperature=args.temperature,
                                                      seed=seed), cfg.data)
        ratios = compare_statistics(stats, data_stats)["notes_per_bar_ratio"]
        key = stats.get("share_in_key")
        print(f"{label:<48}" + "".join(f"  {ratios[part]:8.3f}" for part in ratios)
              + (f"  {key:8.1%}" if key is not None else ""), flush=True)
        return ratios

    parts = list(data_stats["notes_per_bar"])
    print(f"{args.model}: {n} codes per source at temperature {args.temperature}; notes per bar as a ratio "
          f"to {len(pick)} training windows'")
    print(f"{'codes':<48}" + "".join(f"  {part:>8}" for part in parts) + ("  {:>8}".format("in key")
                                                                          if cfg.data != "drums" else ""))
    row("N(0, I)", rng.standard_normal((n, z)))
    for scale in (0.5, 0.8, 1.3):
        row(f"N(0, I) x {scale}", scale * rng.standard_normal((n, z)))
    row("Gaussian fitted to the codes, diagonal", prior.mean + prior.spread() * rng.standard_normal((n, z)))
    row("Gaussian fitted to the codes, full (code prior)", prior.sample(n, rng))
    weights, means, covs = fit_mixture(mu.astype(np.float64), (sigma ** 2).astype(np.float64), args.mixture, rng)
    comp = rng.choice(args.mixture, n, p=weights)
    row(f"mixture of {args.mixture} full Gaussians",
        np.stack([rng.multivariate_normal(means[j], covs[j]) for j in comp]))
    row("codes of training windows (mu)", mu[rng.choice(len(mu), min(n, len(mu)), replace=False)])
    row("codes of held-out windows (mu)", held_mu)
    if args.draws:
        print(f"the code prior, {args.draws} more draws:")
        for k in range(args.draws):
            row(f"  draw {k + 1} (seed {100 + k})", prior.sample(n, 100 + k), seed=100 + k)
    return 0


if __name__ == "__main__":
    from core.errors import UserError

    try:
        sys.exit(main())
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
