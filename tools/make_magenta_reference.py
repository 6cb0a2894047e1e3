"""Writes the Magenta reference fixtures in tests/fixtures/magenta/.

Runs ONLY in the separate Magenta reference environment (Magenta 2.1.4 on
current TensorFlow), never in the project's venv:

    bash /work/shared/magenta-reference-env.sh /work/magenta-ref     # once
    TF_USE_LEGACY_KERAS=1 /work/magenta-ref/bin/python tools/make_magenta_reference.py
    # options: --out DIR (default tests/fixtures/magenta), --configs NAME ...

For each config it takes Magenta's official config, shrinks the layer sizes
(the structure and variable names stay the same), gives every weight a seeded
random value, saves a TF1 checkpoint, and records what Magenta's own
TrainedModel computes from it: encoder mu/sigma for a few inputs and the
tokens decoded at temperature 1e-5 (argmax) for a few latent vectors.
The format of the files is described in docs/magenta-reference.md.
The output is deterministic: running the script twice gives the same numbers.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_graph as mg  # pylint: disable=wrong-import-position

SEED = 20261121
WEIGHT_STD = 0.35
TEMPERATURE = 1e-5
N_Z = 4  # latent vectors decoded per config
Z_POOL = 24  # candidates; the N_Z with the clearest argmax steps are kept

# Shrunken sizes. Layer counts follow the official configs (3 decoder layers
# for cat-mel_2bar_big, 2 for the others, 2 encoder layers for the 16-bar
# models); the sizes differ between encoder, decoder and z, and between the
# layers of the 16-bar models, so a loader that mixes them up fails.
SPECS = {
    'cat-mel_2bar_big': dict(
        overrides='enc_rnn_size=[64],dec_rnn_size=[48,48,48],z_size=16',
        kind='melody', short_length=21),
    'cat-drums_2bar_small': dict(
        overrides='enc_rnn_size=[64],dec_rnn_size=[48,48],z_size=16',
        kind='drums', short_length=19),
    'hierdec-mel_16bar': dict(
        overrides='enc_rnn_size=[40,32],dec_rnn_size=[40,32],z_size=16',
        kind='melody', short_length=150),
    'hierdec-trio_16bar': dict(
        overrides='enc_rnn_size=[40,32],dec_rnn_size=[40,32],z_size=16',
        kind='trio', short_length=150),
}

STEP_SECONDS = 0.125  # a 16th note at 120 quarters per minute
C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


# ---------------------------------------------------------------- music data

def _snap_to_scale(pitch):
  while pitch % 12 not in C_MAJOR:
    pitch += 1
  return pitch


def melody_events(rng, bars, low, high, program, instrument):
  """A seeded, tune-like monophonic line: (pitch, start, end, vel, prog, inst,
  is_drum) in 16th-note steps. Rests are short so no bar is empty."""
  notes = []
  step, total = 0, bars * 16
  pitch = _snap_to_scale(int(rng.integers(low + 5, high - 5)))
  while step < total:
    dur = int(rng.choice([1, 2, 2, 2, 4, 4, 4, 6, 8]))
    dur = min(dur, total - step)
    if rng.random() < 0.12 and step > 0:
      step += min(int(rng.choice([1, 2, 3])), total - step)
      continue
    pitch = int(np.clip(pitch + int(rng.integers(-4, 5)), low, high))
    pitch = min(_snap_to_scale(pitch), high)
    notes.append((pitch, step, step + dur, int(rng.integers(70, 110)),
                  program, instrument, False))
    step += dur
  return notes


def bass_events(rng, bars, instrument):
  """Root-and-fifth bass line in quarter and eighth notes (program 33)."""
  notes = []
  roots = [36, 41, 43, 45, 38, 40]
  for bar in range(bars):
    root = roots[int(rng.integers(len(roots)))]
    step = bar * 16
    while step < (bar + 1) * 16:
      dur = min(int(rng.choice([2, 4, 4])), (bar + 1) * 16 - step)
      pitch = root + int(rng.choice([0, 0, 7, 12]))
      notes.append((pitch, step, step + dur, 90, 33, instrument, False))
      step += dur
  return notes


def drum_events(rng, bars, instrument):
  """A rock-ish beat using several General MIDI pitches per drum class
  (e.g. 35 and 36 both mean kick), with fills and crashes."""
  notes = []
  for bar in range(bars):
    base = bar * 16
    for s in range(16):
      hits = []
      if s in (0, 8) or rng.random() < 0.08:
        hits.append(int(rng.choice([36, 36, 35])))
      if s in (4, 12) or rng.random() < 0.05:
        hits.append(int(rng.choice([38, 38, 40, 37])))
      if s % 2 == 0:
        hits.append(int(rng.choice([42, 42, 42, 44, 46])))
      if s >= 12 and rng.random() < 0.25:
        hits.append(int(rng.choice([45, 47, 48, 50, 43])))
      if s == 0 and rng.random() < 0.3:
        hits.append(int(rng.choice([49, 57, 51, 59])))
      for p in set(hits):
        notes.append((p, base + s, base + s + 1, int(rng.integers(60, 120)),
                      0, instrument, True))
  return notes


def note_sequence(events, bars):
  import note_seq  # pylint: disable=import-outside-toplevel
  ns = note_seq.NoteSequence()
  ns.ticks_per_quarter = 220
  ns.tempos.add(qpm=120.0)
  ns.time_signatures.add(numerator=4, denominator=4)
  for pitch, start, end, vel, prog, inst, is_drum in events:
    ns.notes.add(pitch=pitch, start_time=start * STEP_SECONDS,
                 end_time=end * STEP_SECONDS, velocity=vel, program=prog,
                 instrument=inst, is_drum=is_drum)
  ns.total_time = bars * 16 * STEP_SECONDS
  return ns


def example_events(kind, rng, bars):
  if kind == 'melody':
    return melody_events(rng, bars, 60, 84, 0, 0)
  if kind == 'drums':
    return drum_events(rng, bars, 9)
  return (melody_events(rng, bars, 64, 88, 0, 0) + bass_events(rng, bars, 1)
          + drum_events(rng, bars, 9))


def converted_example(config, kind, rng, bars, midi_path):
  """Writes a seeded example as MIDI, reads the file back with note_seq and
  converts it with the config's own data converter. Returns [T, depth]."""
  import note_seq  # pylint: disable=import-outside-toplevel
  ns = note_sequence(example_events(kind, rng, bars), bars)
  note_seq.sequence_proto_to_midi_file(ns, midi_path)
  tensors = config.data_converter.to_tensors(
      note_seq.midi_file_to_note_sequence(midi_path))
  if len(tensors.inputs) != 1:
    raise RuntimeError('%s: converter gave %d examples, expected 1'
                       % (midi_path, len(tensors.inputs)))
  x = np.asarray(tensors.inputs[0], np.float32)
  if x.shape[0] != config.hparams.max_seq_len:
    raise RuntimeError('%s: converted length %d' % (midi_path, x.shape[0]))
  return x


def random_one_hot(rng, info, kind):
  """Valid random input rows: one-hot per part, or for the drum roll input
  9 random bits plus the 'no hit' bit."""
  t = info['max_seq_len']
  if kind == 'drums':
    roll = (rng.random((t, 9)) < 0.2).astype(np.float32)
    nor = np.all(roll == 0, axis=1, keepdims=True).astype(np.float32)
    return np.concatenate([roll, nor], axis=1)
  parts = []
  for depth in info['output_depths']:
    parts.append(np.eye(depth, dtype=np.float32)[rng.integers(0, depth, t)])
  return np.concatenate(parts, axis=1)


def make_inputs(config, info, kind, short_length, folder, rng):
  bars = info['max_seq_len'] // 16
  xs, lengths, sources = [], [], []
  for i in range(2):
    name = 'input_%d.mid' % i
    xs.append(converted_example(config, kind, rng, bars,
                                os.path.join(folder, name)))
    lengths.append(info['max_seq_len'])
    sources.append('converter(%s)' % name)
  short = xs[1].copy()
  short[short_length:] = 0.0
  xs.append(short)
  lengths.append(short_length)
  sources.append('input 1 cut to its first %d steps, zero padded'
                 % short_length)
  xs.append(random_one_hot(rng, info, kind))
  lengths.append(info['max_seq_len'])
  sources.append('random valid rows')
  return (np.stack(xs).astype(np.float32), np.asarray(lengths, np.int32),
          sources)


# ------------------------------------------------------------------ model

def write_fixture(name, out_root):
  tf = mg.import_tf()
  from magenta import version as magenta_version  # pylint: disable=import-outside-toplevel
  spec = SPECS[name]
  folder = os.path.join(out_root, name)
  os.makedirs(folder, exist_ok=True)
  for f in os.listdir(folder):
    os.remove(os.path.join(folder, f))
  seed = SEED + sum(name.encode('utf-8'))
  rng = np.random.default_rng(seed)

  config = mg.make_config(name, spec['overrides'], batch_size=N_Z)
  info = mg.describe_config(name, config)
  inputs, lengths, sources = make_inputs(
      config, info, spec['kind'], spec['short_length'], folder, rng)
  z_pool = rng.standard_normal((Z_POOL, info['z_size'])).astype(np.float32)
  t = info['max_seq_len']
  depths = info['output_depths']

  # 1. Build Magenta's graph, give it random weights, save the checkpoint,
  #    and compute the answers in that same session. The decoder runs on a
  #    pool of z; the N_Z whose smallest top-2 logit gap is largest are kept,
  #    so no recorded token hangs on a near tie that float rounding in
  #    another implementation could flip.
  pool_config = mg.make_config(name, spec['overrides'], batch_size=Z_POOL)
  with tf.Graph().as_default(), mg.split_decoder_logits_allowed(tf):
    g = mg.build_graph(tf, pool_config, len(inputs), Z_POOL)
    with tf.Session() as sess:
      mg.randomize_variables(tf, sess, seed, WEIGHT_STD)
      prefix = mg.save_checkpoint(tf, sess, folder)
      mu_a, sigma_a = sess.run(
          [g['mu'], g['sigma']],
          {g['inputs']: inputs, g['lengths']: lengths})
      out_pool, logits_pool = sess.run(
          [g['outputs'], g['logits']],
          {g['z']: z_pool, g['temperature']: TEMPERATURE,
           g['max_length']: t})
  pool_margin = mg.top2_margin(logits_pool, depths).reshape(Z_POOL, -1)
  keep = np.sort(np.argsort(-pool_margin.min(axis=1))[:N_Z])
  z = z_pool[keep]
  out_a, logits_a = out_pool[keep], logits_pool[keep]

  # 2. Restore the saved checkpoint with Magenta's own, unmodified
  #    TrainedModel and record what it computes: this is the reference.
  config = mg.make_config(name, spec['overrides'], batch_size=N_Z)
  model = mg.load_trained_model(config, N_Z, folder)
  _, mu, sigma = model.encode_tensors(list(inputs), list(lengths))
  outputs = np.asarray(model.decode_to_tensors(
      z, length=t, temperature=TEMPERATURE)).astype(np.uint8)
  logits = logits_a  # TrainedModel cannot hand out the trio's logits

  # 3. Self checks: both graphs agree, sampling at 1e-5 is the argmax.
  np.testing.assert_allclose(mu, mu_a, atol=1e-6)
  np.testing.assert_allclose(sigma, sigma_a, atol=1e-6)
  np.testing.assert_array_equal(outputs, out_a.astype(np.uint8))
  np.testing.assert_array_equal(outputs, mg.argmax_one_hot(logits, depths))
  margin = mg.top2_margin(logits, depths)
  assert outputs.shape == (N_Z, t, info['output_depth']), outputs.shape
  tokens = mg.tokens_from_one_hot(outputs, depths)

  variables = mg.checkpoint_variables(tf, prefix)
  with open(os.path.join(folder, 'variables.txt'), 'w') as f:
    for var_name, shape in variables:
      f.write('%s %s\n' % (var_name, shape))

  info.update({
      'hparams_overrides': spec['overrides'],
      'weight_std': WEIGHT_STD,
      'seed': seed,
      'temperature': TEMPERATURE,
      'n_inputs': int(len(inputs)),
      'n_z': N_Z,
      'z_selection': 'the %d of %d seeded normal z with the largest smallest '
                     'top-2 logit gap (pool indices %s)' % (
                         N_Z, Z_POOL, keep.tolist()),
      'input_sources': sources,
      'min_top2_margin': float(margin.min()),
      'distinct_tokens': int(len(np.unique(tokens))),
      'magenta_version': magenta_version.__version__,
      'tensorflow_version': tf.__version__,
      'numpy_version': np.__version__,
  })
  with open(os.path.join(folder, 'hparams.json'), 'w') as f:
    json.dump(info, f, indent=1)
    f.write('\n')

  shapes = np.full((len(variables), 2), -1, np.int32)
  for i, (_, shape) in enumerate(variables):
    shapes[i, :len(shape)] = shape
  arrays = dict(
      inputs=inputs, lengths=lengths,
      mu=mu.astype(np.float32), sigma=sigma.astype(np.float32),
      z=z, outputs=outputs, tokens=tokens, margin=margin,
      var_names=np.array([n for n, _ in variables]), var_shapes=shapes)
  if logits.size <= 200_000:  # the trio's logits would be 2.8 MB
    arrays['logits'] = logits.astype(np.float32)
  np.savez_compressed(os.path.join(folder, 'reference.npz'), **arrays)

  print('%s: %d variables, mu[0,:3]=%s, tokens[0,:8]=%s, '
        'min top-2 margin %.4f, %d distinct tokens' % (
            name, len(variables), np.round(mu[0, :3], 4),
            tokens[0, :8].tolist(), margin.min(), info['distinct_tokens']))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  parser.add_argument('--out', default=os.path.join(
      here, 'tests', 'fixtures', 'magenta'))
  parser.add_argument('--configs', nargs='+', default=list(SPECS),
                      choices=list(SPECS))
  args = parser.parse_args()
  for name in args.configs:
    write_fixture(name, args.out)
  total = 0
  for root, _, files in os.walk(args.out):
    for f in sorted(files):
      size = os.path.getsize(os.path.join(root, f))
      total += size
      print('%10d  %s' % (size, os.path.relpath(os.path.join(root, f),
                                                args.out)))
  print('%10d  total bytes' % total)


if __name__ == '__main__':
  main()
