"""Times Magenta's own TrainedModel decoding, for comparison with our engine.

Runs ONLY in the separate Magenta reference environment (see
docs/magenta-reference.md):

    TF_USE_LEGACY_KERAS=1 /work/magenta-ref/bin/python tools/magenta_bench.py \\
        --config cat-mel_2bar_big --random-full-size --batches 8

Weights come from one of:
  --checkpoint DIR          a fixture-like folder (model.ckpt.* and, for
                            shrunken sizes, hparams.json) or a checkpoint prefix
  --random-full-size        the official sizes with seeded random weights
                            (no download); --save-random-checkpoint DIR keeps
                            them (with hparams.json) so another program can
                            load the very same weights
For every batch size it builds Magenta's TrainedModel (graph + restore, timed
as load_seconds), decodes the first B rows of z once (first_call_seconds,
includes graph warm-up), then --repeats more times, and prints one JSON line:
  {"config", "batch", "steps", "seconds" (median of the repeats),
   "seconds_min", "first_call_seconds", "load_seconds", "repeats",
   "temperature", "tokens_sha1"}
tokens_sha1 is the SHA-1 of the decoded one-hot outputs as C-ordered uint8
[batch, steps, output_depth] bytes. --out FILE.npz saves z and, per batch B,
outputs_bB (uint8 one-hot), tokens_bB (int32 class per step and part),
seconds_bB, and with --margins margin_bB (top-2 logit gap per step).
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta_graph as mg  # pylint: disable=wrong-import-position


def parse_args(argv=None):
  p = argparse.ArgumentParser(
      description='Time Magenta TrainedModel decoding (reference venv only).')
  p.add_argument('--config', required=True, help='Magenta config name')
  src = p.add_mutually_exclusive_group(required=True)
  src.add_argument('--checkpoint', help='checkpoint folder or prefix')
  src.add_argument('--random-full-size', action='store_true',
                   help='official layer sizes, seeded random weights')
  p.add_argument('--save-random-checkpoint', metavar='DIR',
                 help='with --random-full-size: write the random checkpoint '
                      '(model.ckpt.*, checkpoint, hparams.json) here')
  p.add_argument('--hparams', default=None,
                 help='HParams override string, e.g. "z_size=16" (default: '
                      'from hparams.json next to the checkpoint, else the '
                      'official sizes)')
  p.add_argument('--seed', type=int, default=1,
                 help='seed for random weights and for z without --z-file')
  p.add_argument('--weight-std', default='fan_in',
                 help="random weight spread: a number, or 'fan_in' "
                      '(default; kernels 1.5/sqrt(rows) capped at 0.35)')
  p.add_argument('--batches', type=int, nargs='+', default=[1, 8, 64])
  p.add_argument('--steps', type=int, default=None,
                 help='decode steps (default max_seq_len; hierarchical '
                      'models only accept max_seq_len)')
  p.add_argument('--temperature', type=float, default=1e-5)
  p.add_argument('--z-file', help='.npz with float32 z [N, z_size], '
                                  'N >= the largest batch; row i of every '
                                  'batch is z[i]')
  p.add_argument('--out', help='.npz to write z, outputs and tokens to')
  p.add_argument('--repeats', type=int, default=2,
                 help='timed decodes per batch after the first call')
  p.add_argument('--margins', action='store_true',
                 help='also fetch the logits once and save the top-2 gaps')
  return p.parse_args(argv)


def resolve_overrides(args):
  if args.hparams is not None:
    return args.hparams
  if args.checkpoint:
    folder = (args.checkpoint if os.path.isdir(args.checkpoint)
              else os.path.dirname(args.checkpoint))
    info = mg.read_hparams_json(folder)
    if info is not None:
      if info.get('config', args.config) != args.config:
        raise SystemExit('%s/hparams.json is for %s, not %s' % (
            folder, info['config'], args.config))
      return mg.overrides_from_hparams(info)
  return None  # official sizes


def write_random_checkpoint(tf, name, overrides, folder, seed, std):
  """Builds the model, gives it seeded random weights and saves it."""
  config = mg.make_config(name, overrides, batch_size=1)
  info = mg.describe_config(name, config)
  with tf.Graph().as_default():
    mg.build_graph(tf, config, 1, 1)
    with tf.Session() as sess:
      mg.randomize_variables(tf, sess, seed, std)
      mg.save_checkpoint(tf, sess, folder)
  info.update({'hparams_overrides': overrides or '', 'seed': seed,
               'weight_std': std})
  with open(os.path.join(folder, 'hparams.json'), 'w') as f:
    json.dump(info, f, indent=1)
    f.write('\n')
  return info


def load_z(args, z_size, n):
  if args.z_file:
    z = np.asarray(np.load(args.z_file)['z'], np.float32)
    if z.ndim != 2 or z.shape[1] != z_size or z.shape[0] < n:
      raise SystemExit('%s: z has shape %s, need [>=%d, %d]' % (
          args.z_file, z.shape, n, z_size))
    return z
  return np.random.default_rng(args.seed).standard_normal(
      (n, z_size)).astype(np.float32)


def bench_batch(tf, args, overrides, checkpoint, z, batch, steps):
  config = mg.make_config(args.config, overrides, batch_size=batch)
  depths = mg.describe_config(args.config, config)['output_depths']
  t0 = time.perf_counter()
  if args.margins:
    with mg.split_decoder_logits_allowed(tf):
      model = mg.load_trained_model(config, batch, checkpoint)
  else:
    model = mg.load_trained_model(config, batch, checkpoint)
  load_s = time.perf_counter() - t0
  zb = z[:batch]

  def decode():
    return np.asarray(model.decode_to_tensors(
        zb, length=steps, temperature=args.temperature))

  t0 = time.perf_counter()
  outputs = decode()
  first_s = time.perf_counter() - t0
  times = []
  for _ in range(args.repeats):
    t0 = time.perf_counter()
    again = decode()
    times.append(time.perf_counter() - t0)
    if not np.array_equal(again, outputs):
      print('warning: decodes of the same z differ (sampling is not argmax '
            'at this temperature)', file=sys.stderr)
  outputs = np.ascontiguousarray(outputs.astype(np.uint8))
  result = {
      'config': args.config, 'batch': batch, 'steps': steps,
      'seconds': float(np.median(times)) if times else first_s,
      'seconds_min': float(np.min(times)) if times else first_s,
      'first_call_seconds': first_s, 'load_seconds': load_s,
      'repeats': args.repeats, 'temperature': args.temperature,
      'tokens_sha1': hashlib.sha1(outputs.tobytes()).hexdigest(),
  }
  arrays = {'outputs_b%d' % batch: outputs,
            'tokens_b%d' % batch: mg.tokens_from_one_hot(outputs, depths),
            'seconds_b%d' % batch: np.float64(result['seconds'])}
  if args.margins:
    logits = model._sess.run(  # pylint: disable=protected-access
        model._decoder_results.rnn_output,  # pylint: disable=protected-access
        {model._z_input: zb, model._temperature: args.temperature,  # pylint: disable=protected-access
         model._max_length: steps})  # pylint: disable=protected-access
    margin = mg.top2_margin(logits, depths)
    arrays['margin_b%d' % batch] = margin
    result['min_top2_margin'] = float(margin.min())
  model._sess.close()  # pylint: disable=protected-access
  return result, arrays


def main(argv=None):
  args = parse_args(argv)
  if args.save_random_checkpoint and not args.random_full_size:
    raise SystemExit('--save-random-checkpoint needs --random-full-size')
  tf = mg.import_tf()
  overrides = resolve_overrides(args)
  std = args.weight_std if args.weight_std == 'fan_in' else float(
      args.weight_std)

  tmp = None
  if args.random_full_size:
    checkpoint = args.save_random_checkpoint
    if not checkpoint:
      tmp = tempfile.TemporaryDirectory(prefix='magenta-bench-')
      checkpoint = tmp.name
    t0 = time.perf_counter()
    write_random_checkpoint(tf, args.config, overrides, checkpoint, args.seed,
                            std)
    print(json.dumps({'config': args.config, 'random_checkpoint': checkpoint,
                      'write_seconds': time.perf_counter() - t0}), flush=True)
  else:
    checkpoint = args.checkpoint

  info = mg.describe_config(args.config,
                            mg.make_config(args.config, overrides))
  steps = args.steps or info['max_seq_len']
  z = load_z(args, info['z_size'], max(args.batches))
  arrays = {'z': z, 'batches': np.asarray(args.batches, np.int32),
            'steps': np.int32(steps)}
  for batch in args.batches:
    result, batch_arrays = bench_batch(tf, args, overrides, checkpoint, z,
                                       batch, steps)
    arrays.update(batch_arrays)
    print(json.dumps(result), flush=True)
  if args.out:
    np.savez_compressed(args.out, **arrays)
  if tmp is not None:
    tmp.cleanup()


if __name__ == '__main__':
  main()
