"""Our engine against Magenta's own outputs (fixtures made by tools/make_magenta_reference.py).

Each fixture folder holds a TF1 checkpoint written by Magenta's graph with shrunken layer sizes,
and what Magenta's TrainedModel computed from it: encoder mu/sigma for given inputs and lengths,
and the one-hot outputs decoded at temperature 1e-5 (argmax) for given z.
"""
import glob
import json
import os

import numpy as np
import pytest

import tensorflow  # noqa: F401  (a hard dependency: a broken install must fail here, not skip)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = sorted(glob.glob(os.path.join(HERE, "fixtures", "magenta", "*", "hparams.json")))
REQUIRED = {"cat-mel_2bar_big", "cat-drums_2bar_small", "hierdec-mel_16bar", "hierdec-trio_16bar"}


def test_all_four_configs_have_fixtures():
    names = {json.load(open(p))["config"] for p in FIXTURES}
    assert REQUIRED <= names, sorted(REQUIRED - names)


@pytest.fixture(scope="module", params=[os.path.dirname(p) for p in FIXTURES],
                ids=[os.path.basename(os.path.dirname(p)) for p in FIXTURES])
def case(request):
    from core.musicvae import load_model

    folder = request.param
    with open(os.path.join(folder, "hparams.json")) as f:
        hp = json.load(f)
    model = load_model(hp["config"], os.path.join(folder, "model.ckpt"), device="cpu")
    return hp, model, np.load(os.path.join(folder, "reference.npz"))


def test_loader_reads_the_shrunken_sizes(case):
    hp, model, _ = case
    cfg = model.config
    assert list(cfg.enc_rnn_size) == hp["enc_rnn_size"]
    assert list(cfg.dec_rnn_size) == hp["dec_rnn_size"]
    assert cfg.z_size == hp["z_size"]
    assert cfg.input_depth == hp["input_depth"] and cfg.output_depth == hp["output_depth"]


def test_encoder_mu_and_sigma_match_magenta(case):
    _, model, ref = case
    _, mu, sigma = model.encode_tensors(ref["inputs"], ref["lengths"])
    assert np.abs(ref["mu"]).max() > 1e-2  # a meaningful comparison, not of zeros
    np.testing.assert_allclose(mu, ref["mu"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(sigma, ref["sigma"], atol=1e-4, rtol=0)


def test_every_decoded_token_matches_magenta(case):
    _, model, ref = case
    outputs = model.decode_to_tensors(ref["z"])
    assert outputs.shape == ref["outputs"].shape
    want_tokens = ref["tokens"]
    got_tokens = model.decode_tokens(ref["z"])
    assert len(np.unique(want_tokens)) > 3
    np.testing.assert_array_equal(got_tokens, want_tokens)
    np.testing.assert_array_equal(outputs.astype(np.uint8), ref["outputs"])


def test_our_variable_names_are_magentas(case):
    from core.musicvae.variables import expected_variables

    _, model, ref = case
    theirs = {str(n): tuple(int(x) for x in s if x >= 0) for n, s in zip(ref["var_names"], ref["var_shapes"])}
    theirs.pop("global_step", None)
    ours = expected_variables(model.config)
    assert set(ours) == set(theirs)
    assert {n: tuple(s) for n, s in ours.items()} == theirs
