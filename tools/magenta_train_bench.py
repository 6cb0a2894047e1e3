"""Times Magenta's own training loop (music_vae_train.train) on given windows.

Runs ONLY in the Magenta reference environment (docs/magenta-reference.md):
    TF_USE_LEGACY_KERAS=1 /work/magenta-ref/bin/python tools/magenta_train_bench.py \
        --config cat-mel_2bar_small --hparams 'enc_rnn_size=[256],...' --data batch.npz --steps 20

benchmarks/bench_training.py calls it with the batch it trains on itself. `--data` is an .npz
with `inputs` and `outputs` (uint8 one-hot / drum roll, [batch, steps, depth]) as Magenta's data
converters make them. The dataset is that one batch, repeated; the graph, the optimizer, the
gradient clipping and the session loop are Magenta's own (music_vae_train.train, with
tf_slim.training.train and its hooks), unmodified: a timing hook is the only thing added.

Prints one JSON line: config, batch, steps, first_step_seconds, median_step_seconds,
mean_step_seconds (steps after the first), tensorflow_version.
"""
import argparse
import copy
import json
import os
import sys
import tempfile
import time

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import numpy as np  # pylint: disable=wrong-import-position


def main():
  ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  ap.add_argument('--config', required=True)
  ap.add_argument('--hparams', default='')
  ap.add_argument('--data', required=True)
  ap.add_argument('--steps', type=int, default=20, help='timed steps after the first')
  args = ap.parse_args()

  import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
  tf.disable_v2_behavior()
  tf.logging.set_verbosity(tf.logging.ERROR)
  import tf_slim  # pylint: disable=import-outside-toplevel
  from magenta.models.music_vae import configs  # pylint: disable=import-outside-toplevel
  from magenta.models.music_vae import music_vae_train  # pylint: disable=import-outside-toplevel

  with np.load(args.data) as z:
    inputs, outputs = z['inputs'], z['outputs']
  batch, steps = inputs.shape[:2]
  config = copy.deepcopy(configs.CONFIG_MAP[args.config])
  if args.hparams:
    config.hparams.parse(args.hparams)
  config.hparams.batch_size = int(batch)
  config = config._replace(train_examples_path=os.path.abspath(args.data))  # named in the run's summary
  assert inputs.shape[-1] == config.data_converter.input_depth, (inputs.shape, config.data_converter.input_depth)
  assert outputs.shape[-1] == config.data_converter.output_depth

  def dataset_fn():
    one = (tf.constant(inputs, tf.float32), tf.constant(outputs, tf.float32),
           tf.zeros([batch, steps, 0], tf.float32), tf.fill([batch], tf.constant(steps, tf.int32)))
    return tf.data.Dataset.from_tensors(one).repeat()

  times = []

  class Timer(tf.train.SessionRunHook):

    def before_run(self, run_context):
      self.t = time.perf_counter()

    def after_run(self, run_context, run_values):
      times.append(time.perf_counter() - self.t)

  original = tf_slim.training.train

  def train_with_timer(*a, hooks=None, **kw):
    return original(*a, hooks=list(hooks or []) + [Timer()], **kw)

  tf_slim.training.train = train_with_timer
  with tempfile.TemporaryDirectory() as run_dir:
    music_vae_train.train(run_dir, config, dataset_fn, checkpoints_to_keep=1, num_steps=args.steps + 1)
  later = times[1:]
  print(json.dumps({'config': args.config, 'batch': int(batch), 'steps': len(later),
                    'first_step_seconds': times[0], 'median_step_seconds': float(np.median(later)),
                    'mean_step_seconds': float(np.mean(later)), 'tensorflow_version': tf.__version__}))
  return 0


if __name__ == '__main__':
  sys.exit(main())
