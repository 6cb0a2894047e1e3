"""Helpers shared by the tools that drive Magenta's own MusicVAE code.

These run ONLY inside the separate Magenta reference environment (never in the
project's venv); see docs/magenta-reference.md. Build that environment with
    bash /work/shared/magenta-reference-env.sh /work/magenta-ref
and run the tools with
    TF_USE_LEGACY_KERAS=1 /work/magenta-ref/bin/python tools/<tool>.py ...

Nothing here is imported by the application.
"""
import contextlib
import copy
import json
import os
import zlib

import numpy as np

# Must be set before TensorFlow is imported: Magenta needs the Keras 2 layers.
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

CHECKPOINT_PREFIX = 'model.ckpt'


def import_tf():
  """Imports TensorFlow's v1 API in graph mode, as Magenta expects."""
  import tensorflow.compat.v1 as tf  # pylint: disable=import-outside-toplevel
  tf.disable_v2_behavior()
  tf.logging.set_verbosity(tf.logging.ERROR)
  return tf


def make_config(name, overrides=None, batch_size=1):
  """Returns a private copy of Magenta's config `name` ready for inference.

  `overrides` is an HParams string such as 'enc_rnn_size=[64],z_size=16'.
  The batch size is part of the graph in Magenta (the hierarchical decoder
  builds its zero conductor inputs with hparams.batch_size), so it is fixed
  here as TrainedModel does.
  """
  from magenta.models.music_vae import configs  # pylint: disable=import-outside-toplevel
  if name not in configs.CONFIG_MAP:
    raise SystemExit('unknown Magenta config %r' % name)
  config = copy.deepcopy(configs.CONFIG_MAP[name])
  if overrides:
    config.hparams.parse(overrides)
  config.hparams.batch_size = batch_size
  config.data_converter.set_mode('infer')
  return config


def describe_config(name, config):
  """The facts a checkpoint-compatible loader needs, as a JSON-able dict."""
  from magenta.models.music_vae import lstm_models  # pylint: disable=import-outside-toplevel
  hp = config.hparams
  decoder = config.model.decoder
  info = {
      'config': name,
      'enc_rnn_size': list(hp.enc_rnn_size),
      'dec_rnn_size': list(hp.dec_rnn_size),
      'z_size': int(hp.z_size),
      'max_seq_len': int(hp.max_seq_len),
      'input_depth': int(config.data_converter.input_depth),
      'output_depth': int(config.data_converter.output_depth),
      'encoder': type(config.model.encoder).__name__,
      'decoder': type(decoder).__name__,
  }
  core = decoder
  if isinstance(decoder, lstm_models.HierarchicalLstmDecoder):
    info['level_lengths'] = [int(x) for x in decoder._level_lengths]  # pylint: disable=protected-access
    core = decoder._core_decoder  # pylint: disable=protected-access
  if isinstance(core, lstm_models.SplitMultiOutLstmDecoder):
    info['core_decoder'] = type(core).__name__
    info['output_depths'] = [int(x) for x in core._output_depths]  # pylint: disable=protected-access
  else:
    info['core_decoder'] = type(core).__name__
    info['output_depths'] = [int(config.data_converter.output_depth)]
  return info


def build_graph(tf, config, n_encode, n_decode):
  """Builds Magenta's sampling and encoding graph in the current tf.Graph.

  Mirrors TrainedModel.__init__: model.sample first, then model.encode, both
  inside the default graph, so the variables get exactly Magenta's names.
  Returns the placeholders and output tensors in a dict.
  """
  model = config.model
  hp = config.hparams
  conv = config.data_converter
  model.build(hp, conv.output_depth, is_training=False)
  g = {}
  g['temperature'] = tf.placeholder(tf.float32, shape=())
  g['z'] = tf.placeholder(tf.float32, shape=[n_decode, hp.z_size])
  g['max_length'] = tf.placeholder(tf.int32, shape=())
  g['outputs'], results = model.sample(
      n_decode, max_length=g['max_length'], z=g['z'],
      temperature=g['temperature'])
  g['logits'] = results.rnn_output
  g['inputs'] = tf.placeholder(
      tf.float32, shape=[n_encode, None, conv.input_depth])
  g['lengths'] = tf.placeholder(tf.int32, shape=[n_encode])
  q_z = model.encode(g['inputs'], g['lengths'])
  g['mu'] = q_z.loc
  g['sigma'] = q_z.scale.diag
  return g


@contextlib.contextmanager
def split_decoder_logits_allowed(tf):
  """Lets the graph hand out the trio's logits.

  SplitMultiOutLstmDecoder (the trio's three core decoders) merges its
  decoder results under an assertion that each part decoded max_seq_len
  (256) steps; inside the hierarchical decoder every part decodes one
  16-step bar, so fetching the merged logits fails. The sampled outputs do
  not depend on that assertion. Within this context the merge is done
  without it (the same concatenations otherwise); graphs built here give
  the same outputs as Magenta's untouched code.
  """
  from magenta.models.music_vae import lstm_models  # pylint: disable=import-outside-toplevel
  from magenta.models.music_vae import lstm_utils  # pylint: disable=import-outside-toplevel
  cls = lstm_models.SplitMultiOutLstmDecoder
  original = cls._merge_decode_results  # pylint: disable=protected-access

  def merge(self, decode_results):
    del self
    zipped = lstm_utils.LstmDecodeResults(*list(zip(*decode_results)))
    final_state = None
    if zipped.final_state[0] is not None:
      final_state = tf.nest.map_structure(
          lambda x: tf.concat(x, axis=-1), zipped.final_state)
    return lstm_utils.LstmDecodeResults(
        rnn_output=tf.concat(zipped.rnn_output, axis=-1),
        rnn_input=tf.concat(zipped.rnn_input, axis=-1),
        samples=tf.concat(zipped.samples, axis=-1),
        final_state=final_state,
        final_sequence_lengths=zipped.final_sequence_lengths[0])

  cls._merge_decode_results = merge  # pylint: disable=protected-access
  try:
    yield
  finally:
    cls._merge_decode_results = original  # pylint: disable=protected-access


def _variable_rng(seed, name):
  # Each variable's values depend only on the seed and its name, not on the
  # order in which the graph happened to create variables.
  return np.random.default_rng([int(seed), zlib.crc32(name.encode('utf-8'))])


def random_value(seed, name, shape, std):
  """Seeded normal values for one variable.

  `std` is a number, or 'fan_in': kernels get 1.5 / sqrt(rows) capped at
  0.35 (keeps full-size LSTMs out of saturation so decoded tokens still
  vary), biases 0.35.
  """
  if std == 'fan_in':
    scale = 0.35
    if len(shape) == 2:  # a kernel: keep the pre-activations' spread moderate
      scale = min(0.35, 1.5 / np.sqrt(max(shape[0], 1)))
  else:
    scale = float(std)
  return (_variable_rng(seed, name).standard_normal(shape, dtype=np.float32)
          * np.float32(scale))


def randomize_variables(tf, sess, seed, std):
  """Initialises every variable, then overwrites the model weights with
  seeded normal values (global_step stays 0). Returns [(name, shape)]."""
  sess.run(tf.global_variables_initializer())
  table = []
  for v in sorted(tf.global_variables(), key=lambda v: v.op.name):
    name = v.op.name
    shape = [int(d) for d in v.shape]
    table.append((name, shape))
    if name == 'global_step':
      continue
    v.load(random_value(seed, name, shape, std), sess)
  return table


def save_checkpoint(tf, sess, folder):
  """Saves all variables as a TF1 checkpoint `folder/model.ckpt` plus a
  `checkpoint` state file with a relative path (so the folder can move)."""
  os.makedirs(folder, exist_ok=True)
  saver = tf.train.Saver(sharded=False)
  prefix = os.path.join(folder, CHECKPOINT_PREFIX)
  saver.save(sess, prefix, write_meta_graph=False, write_state=False)
  with open(os.path.join(folder, 'checkpoint'), 'w') as f:
    f.write('model_checkpoint_path: "%s"\n' % CHECKPOINT_PREFIX)
    f.write('all_model_checkpoint_paths: "%s"\n' % CHECKPOINT_PREFIX)
  return prefix


def checkpoint_variables(tf, prefix):
  """[(name, shape)] of a checkpoint, sorted by name."""
  return sorted((n, list(s)) for n, s in tf.train.list_variables(prefix))


def load_trained_model(config, batch_size, checkpoint):
  """Magenta's own TrainedModel on `checkpoint` (folder or prefix)."""
  from magenta.models.music_vae import trained_model  # pylint: disable=import-outside-toplevel
  return trained_model.TrainedModel(
      config, batch_size=batch_size, checkpoint_dir_or_path=checkpoint)


def read_hparams_json(folder):
  path = os.path.join(folder, 'hparams.json')
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def overrides_from_hparams(info):
  """HParams override string that rebuilds the sizes recorded in hparams.json."""
  return 'enc_rnn_size=[%s],dec_rnn_size=[%s],z_size=%d' % (
      ','.join(str(x) for x in info['enc_rnn_size']),
      ','.join(str(x) for x in info['dec_rnn_size']),
      info['z_size'])


def argmax_one_hot(logits, output_depths):
  """One-hot (uint8) of the argmax of each part of `logits` [n, T, sum(depths)]."""
  parts = []
  start = 0
  for depth in output_depths:
    idx = np.argmax(logits[..., start:start + depth], axis=-1)
    parts.append(np.eye(depth, dtype=np.uint8)[idx])
    start += depth
  return np.concatenate(parts, axis=-1)


def top2_margin(logits, output_depths):
  """Gap between the best and second-best logit per step (and per part):
  [n, T] for one part, [n, T, parts] for several."""
  gaps = []
  start = 0
  for depth in output_depths:
    part = np.sort(logits[..., start:start + depth], axis=-1)
    gaps.append(part[..., -1] - part[..., -2])
    start += depth
  out = np.stack(gaps, axis=-1).astype(np.float32)
  return out[..., 0] if len(output_depths) == 1 else out


def tokens_from_one_hot(outputs, output_depths):
  """Class index per step (and per part): [n, T] or [n, T, parts], int32."""
  toks = []
  start = 0
  for depth in output_depths:
    toks.append(np.argmax(outputs[..., start:start + depth], axis=-1))
    start += depth
  out = np.stack(toks, axis=-1).astype(np.int32)
  return out[..., 0] if len(output_depths) == 1 else out
