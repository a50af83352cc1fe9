"""Training throughput of the full p5jax train step (AdamW + clipping, the `Trainer` path).

    python bench/train_throughput.py --model=tiny --batch=16 --input_len=128 --target_len=32 \
        --steps=20 --hf_baseline
    python bench/train_throughput.py --model=tiny --data=p5 --prepared_dir=DIR --batch=16 \
        --steps=20 --dump=FILE --hf_baseline   # a prepared dataset's pretrain mixture

Prints examples/s (real examples, not packed rows), real target tokens/s, steps/s, peak memory,
a time breakdown on one batch (forward, backward and its ratio to the forward, optimizer), MFU
against an fp32 matmul peak measured in this same run, and the load average at start and end.
`--hf_baseline` trains a Hugging Face torch T5 of the same size and vocabulary in a child
process, in rounds interleaved with p5jax's so that both see the same machine load; with
--data=p5 it replays the dumped examples in order with P5's collate (each batch padded to its
own longest input and target, inputs cut at 512). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from p5jax import host_allocator  # noqa: E402

host_allocator.tune()  # before jax starts its threads; see p5jax/host_allocator.py

import jax  # noqa: E402
import numpy as np  # noqa: E402
from matmul_peak import matmul_peak_gflops  # noqa: E402
from model_sizes import SIZES, VOCAB_SIZE  # noqa: E402
from xla_profile import format_breakdown, profile_breakdown  # noqa: E402

from p5jax.training.optimizers import p5_adamw  # noqa: E402
from p5jax.training.partitioning import Partitioner  # noqa: E402
from p5jax.training.trainer import Trainer  # noqa: E402


def build_model(
    size: str,
    vocab_size: int = VOCAB_SIZE,
    dropout_rate: float = 0.1,
    loss_chunk_size: int | None = None,
    loss_positions: int | None = None,
    vocabulary=None,
    activation_dtype: str = 'float32',
):
  """The P5 model of `size` (T5 1.0); with `vocabulary`, P5's whole-word embedding on."""
  import seqio

  from p5jax import models

  config = models.T5Config(
      vocab_size=vocab_size,
      mlp_activations=('relu',),
      dropout_rate=dropout_rate,
      logits_via_embedding=True,
      scale_decoder_output=True,
      whole_word_embedding=vocabulary is not None,
      dtype=activation_dtype,
      **SIZES[size],
  )
  vocab = vocabulary or seqio.PassThroughVocabulary(vocab_size, eos_id=1)
  return (
      models.EncoderDecoderModel(
          models.Transformer(config),
          vocab,
          vocab,
          loss_chunk_size=loss_chunk_size,
          loss_positions=loss_positions,
      ),
      config,
  )


def train_matmul_flops(cfg, batch: int, enc_len: int, dec_len: int) -> float:
  """Matmul FLOPs of one training step (forward x 3), attention included, per the config."""
  d, f, hd = cfg.emb_dim, cfg.mlp_dim, cfg.num_heads * cfg.head_dim
  enc_tok, dec_tok = batch * enc_len, batch * dec_len
  enc_layer = enc_tok * (2 * 4 * d * hd + 2 * 2 * enc_len * hd + 2 * 2 * d * f)
  dec_layer = (
      dec_tok
      * (
          2 * 4 * d * hd
          + 2 * 2 * dec_len * hd
          + 2 * 2 * d * f
          + 2 * 2 * d * hd
          + 2 * 2 * enc_len * hd
      )
      + enc_tok * 2 * 2 * d * hd
  )
  logits = dec_tok * 2 * d * cfg.vocab_size
  forward = cfg.num_encoder_layers * enc_layer + cfg.num_decoder_layers * dec_layer + logits
  return 3.0 * forward


def random_batches(batch: int, enc_len: int, dec_len: int, seed: int = 0):
  rng = np.random.default_rng(seed)
  while True:
    enc = rng.integers(3, VOCAB_SIZE, (batch, enc_len)).astype(np.int32)
    enc[:, -1] = 1
    tgt = rng.integers(3, VOCAB_SIZE, (batch, dec_len)).astype(np.int32)
    tgt[:, -1] = 1
    dec = np.concatenate([np.zeros((batch, 1), np.int32), tgt[:, :-1]], 1)
    yield {
        'encoder_input_tokens': enc,
        'decoder_input_tokens': dec,
        'decoder_target_tokens': tgt,
        'decoder_loss_weights': np.ones_like(tgt),
    }


def p5_stream(batch: int, enc_len: int, dec_len: int, pack: bool, prepared_dir: str | None = None):
  """The trainer's P5 example stream (`p5jax.tasks.stream.P5Stream`) of a prepared
  dataset's pretrain mixture (default: ../shared/data/beauty prepared into the p5jax cache).
  `stream.batches(0)` yields `(features, next_position, examples)`, `examples` being the
  batch's `(input ids, target ids)` (EOS-terminated, unpadded) in training order."""
  from prepared_cache import prepared_dir as default_prepared_dir

  from p5jax import tasks
  from p5jax.tasks import stream as streams
  from p5jax.training.data import DatasetConfig

  tasks.register_dataset('bench', prepared_dir or default_prepared_dir(), 'sid')
  cfg = DatasetConfig(
      'p5_bench_pretrain',
      {'inputs': enc_len, 'targets': dec_len},
      'train',
      batch,
      shuffle=True,
      seed=0,
      pack=pack,
  )
  return streams.stream_for(cfg, 0, 1, batch)


def p5_batches(
    batch: int,
    enc_len: int,
    dec_len: int,
    pack: bool,
    prepared_dir: str | None = None,
    dump: str | None = None,
):
  """Model batches of `p5_stream(...)`; with `dump`, each yielded batch's examples are appended
  to that file first, one JSON line each: `{"inputs": [ids], "targets": [ids]}`."""
  out = open(dump, 'w', encoding='utf-8') if dump else None  # noqa: SIM115  (a generator's file)
  try:
    for features, _, examples in p5_stream(batch, enc_len, dec_len, pack, prepared_dir).batches(0):
      if out is not None:
        for inputs, targets in examples:
          out.write(json.dumps({'inputs': inputs.tolist(), 'targets': targets.tolist()}) + '\n')
        out.flush()
      yield features
  finally:
    if out is not None:
      out.close()


def p5_vocabulary():
  """The vocabulary of the `p5_stream` mixture (registered by `p5_batches`)."""
  import seqio

  return seqio.get_mixture_or_task('p5_bench_pretrain').output_features['targets'].vocabulary


def hf_t5(size: str, vocab_size: int, threads: int):
  """A Hugging Face torch T5 of the same config as `build_model(size)` (T5 1.0: ReLU, tied
  embeddings), with AdamW (clip 1.0) as P5 trains it; returns `step(batch) -> None`."""
  import torch
  import transformers

  torch.set_num_threads(threads)
  s = SIZES[size]
  config = transformers.T5Config(
      vocab_size=vocab_size,
      d_model=s['emb_dim'],
      d_kv=s['head_dim'],
      d_ff=s['mlp_dim'],
      num_layers=s['num_encoder_layers'],
      num_decoder_layers=s['num_decoder_layers'],
      num_heads=s['num_heads'],
      feed_forward_proj='relu',
      tie_word_embeddings=True,
      decoder_start_token_id=0,
      pad_token_id=0,
      dropout_rate=0.1,
  )
  torch.manual_seed(0)
  model = transformers.T5ForConditionalGeneration(config).train()
  opt = torch.optim.AdamW(model.parameters(), lr=1e-3, eps=1e-6, weight_decay=0.01)

  def step(batch: dict) -> None:
    out = model(**batch)
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)

  return step


ROUND_PAUSE_S = 0.5  # lets the other framework's spinning worker threads go idle


def _hf_worker_main(conn, size: str, vocab_size: int, batches: list[dict]) -> None:
  """The Hugging Face side of the interleaved rounds, in its own process (and heap): it
  trains on `batches[lo:hi]` when asked and answers (wall s, CPU s, examples)."""
  step = hf_t5(size, vocab_size, len(os.sched_getaffinity(0)))
  for b in batches[:2]:  # warm-up
    step(b)
  conn.send('ready')
  while (job := conn.recv()) is not None:
    wall, cpu = time.perf_counter(), time.process_time()
    for b in batches[job[0] : job[1]]:
      step(b)
    done = sum(len(b['labels']) for b in batches[job[0] : job[1]])
    conn.send((time.perf_counter() - wall, time.process_time() - cpu, done))


class HfWorker:
  """A Hugging Face T5 trained in a child process, one round at a time: torch's allocations stay
  out of the heap whose pages p5jax's steps reuse (and the reverse). The child imports this
  script, so it starts with the same allocator setting."""

  def __init__(self, size: str, vocab_size: int, batches: list[dict]):
    import multiprocessing

    ctx = multiprocessing.get_context('spawn')
    self._conn, child = ctx.Pipe()
    self._proc = ctx.Process(
        target=_hf_worker_main, args=(child, size, vocab_size, batches), daemon=True
    )
    self._proc.start()
    if self._conn.recv() != 'ready':
      raise RuntimeError('the Hugging Face worker did not start')

  def train(self, lo: int, hi: int) -> tuple[float, float, int]:
    self._conn.send((lo, hi))
    return self._conn.recv()

  def close(self) -> None:
    self._conn.send(None)
    self._proc.join(timeout=60)


def hf_random_batch(b: dict) -> dict:
  """A random-data batch for Hugging Face (every position real)."""
  import torch

  return {
      'input_ids': torch.as_tensor(b['encoder_input_tokens']).long(),
      'labels': torch.as_tensor(b['decoder_target_tokens']).long(),
  }


def p5_collate(examples: list[tuple[list[int], list[int]]], max_input: int = 512) -> dict:
  """P5's collate: inputs cut at `max_input`, each batch padded to its own longest input and
  target (pad 0, attention mask), padded label positions -100 (ignored by the loss)."""
  import torch

  inputs = [list(i)[:max_input] for i, _ in examples]
  targets = [list(t) for _, t in examples]
  n_in, n_tgt = max(map(len, inputs)), max(map(len, targets))
  ids = torch.zeros((len(examples), n_in), dtype=torch.long)
  mask = torch.zeros((len(examples), n_in), dtype=torch.long)
  labels = torch.full((len(examples), n_tgt), -100, dtype=torch.long)
  for r, (i, t) in enumerate(zip(inputs, targets)):
    ids[r, : len(i)] = torch.as_tensor(i)
    mask[r, : len(i)] = 1
    labels[r, : len(t)] = torch.as_tensor(t)
  return {'input_ids': ids, 'attention_mask': mask, 'labels': labels}


def read_dump(path: str) -> list[tuple[list[int], list[int]]]:
  with open(path, encoding='utf-8') as f:
    return [(row['inputs'], row['targets']) for row in map(json.loads, f)]


def real_examples(batch: dict) -> int:
  """Examples in a batch: packed segments (max segment id per row), else rows with targets."""
  segments = batch.get('decoder_segment_ids')
  if segments is not None:
    return int(np.sum(np.max(segments, axis=1)))
  return int(np.sum(np.any(batch['decoder_loss_weights'] > 0, axis=1)))


def best_times(fns: dict, reps: int) -> dict[str, float]:
  """Best wall time of each `name -> thunk` over `reps` interleaved calls (robust to load)."""
  best = dict.fromkeys(fns, float('inf'))
  for thunk in fns.values():
    jax.block_until_ready(thunk())
  for _ in range(reps):
    for name, thunk in fns.items():
      t = time.perf_counter()
      jax.block_until_ready(thunk())
      best[name] = min(best[name], time.perf_counter() - t)
  return best


class Clock:
  """Accumulated wall and process CPU time of one framework across interleaved rounds."""

  def __init__(self):
    self.wall = self.cpu = 0.0

  def __enter__(self):
    self._t, self._c = time.perf_counter(), time.process_time()
    return self

  def __exit__(self, *exc):
    self.wall += time.perf_counter() - self._t
    self.cpu += time.process_time() - self._c


def peak_memory_mb() -> tuple[float, str]:
  dev = jax.devices()[0]
  stats = dev.memory_stats() if hasattr(dev, 'memory_stats') else None
  if stats and 'peak_bytes_in_use' in stats:
    return stats['peak_bytes_in_use'] / 2**20, f'{dev.platform} peak bytes in use'
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'host peak RSS'


def load_average() -> float:
  return round(os.getloadavg()[0], 2)


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--model', choices=sorted(SIZES), default='tiny')
  p.add_argument('--batch', type=int, default=16, help='rows per batch')
  p.add_argument('--input_len', type=int, default=128)
  p.add_argument('--target_len', type=int, default=32)
  p.add_argument('--steps', type=int, default=20)
  p.add_argument('--data', choices=('random', 'p5'), default='random')
  p.add_argument(
      '--pack',
      action=argparse.BooleanOptionalAction,
      default=None,
      help='packed rows (--data=p5; default: on, the real-data setting)',
  )
  p.add_argument(
      '--prepared_dir',
      default=None,
      help='--data=p5: a prepared dataset (default: ../shared/data/beauty prepared into a cache)',
  )
  p.add_argument(
      '--dump',
      default=None,
      help='--data=p5: write the trained examples here, in order, one JSON line each',
  )
  p.add_argument('--num_partitions', type=int, default=1)
  p.add_argument(
      '--hf_baseline',
      action='store_true',
      help='also train a Hugging Face torch T5 of the same config, interleaved with p5jax in '
      "rounds: on the same random batches, or (--data=p5) on the dumped examples with P5's "
      'collate (batches of --hf_batch examples padded to their own longest input and target)',
  )
  p.add_argument('--hf_batch', type=int, default=16, help='examples per Hugging Face batch')
  p.add_argument('--rounds', type=int, default=4, help='interleaved rounds with --hf_baseline')
  p.add_argument('--dropout', type=float, default=0.1)
  p.add_argument(
      '--whole_word',
      choices=('on', 'off', 'auto'),
      default='auto',
      help="P5's whole-word embedding (auto: on for --data=p5, as real runs; off for random "
      'data, like the Hugging Face model)',
  )
  p.add_argument(
      '--loss_chunk_size',
      type=int,
      default=None,
      help='vocabulary chunk of the fused logits+loss (default: full logits)',
  )
  p.add_argument(
      '--loss_positions',
      type=int,
      default=None,
      help='logits only for the real target positions, this many slots per batch (default with '
      '--data=p5 and packing: a third of the batch target positions; 0: every position)',
  )
  p.add_argument('--activation_dtype', choices=('float32', 'bfloat16'), default='float32')
  p.add_argument('--reps', type=int, default=5, help='repetitions of the breakdown timings')
  p.add_argument(
      '--profile_dir',
      default=None,
      help='trace the train step here and print its time by HLO op category',
  )
  args = p.parse_args()
  if args.pack is None:
    args.pack = args.data == 'p5'
  if args.loss_positions is None and args.data == 'p5' and args.pack:
    args.loss_positions = max(1, args.batch * args.target_len // 3)
  args.loss_positions = args.loss_positions or None

  load_start = load_average()
  peak = matmul_peak_gflops()
  dump = args.dump
  if args.data == 'p5' and args.hf_baseline and not dump:
    dump = os.path.join(tempfile.mkdtemp(prefix='p5jax-bench-'), 'examples.jsonl')
  if args.data == 'random':
    batches = random_batches(args.batch, args.input_len, args.target_len)
  else:
    batches = p5_batches(
        args.batch, args.input_len, args.target_len, args.pack, args.prepared_dir, dump
    )
  # batch 0 compiles and warms up; batches 1..steps are timed
  host_batches = [next(batches) for _ in range(args.steps + 1)]
  vocabulary = None
  vocab_size = VOCAB_SIZE
  if args.data == 'p5':
    batches.close()  # flushes the dump
    vocabulary = p5_vocabulary()
    vocab_size = -(-vocabulary.vocab_size // 128) * 128
  whole_word = args.whole_word == 'on' or (args.whole_word == 'auto' and args.data == 'p5')
  model, cfg = build_model(
      args.model,
      vocab_size=vocab_size,
      dropout_rate=args.dropout,
      loss_chunk_size=args.loss_chunk_size,
      loss_positions=args.loss_positions,
      vocabulary=vocabulary if whole_word else None,
      activation_dtype=args.activation_dtype,
  )
  partitioner = Partitioner(num_partitions=args.num_partitions)
  first = host_batches[0]
  shapes = {k: v.shape for k, v in first.items()}
  trainer = Trainer(model, p5_adamw(total_steps=max(args.steps, 100)), partitioner, shapes)
  state = trainer.init_state(jax.random.key(0))
  rng = jax.random.key(1)

  # Breakdown on one batch, best of --reps interleaved calls: forward (loss), forward+backward
  # (gradients), full step (gradients + clipping + AdamW).
  fixed = partitioner.shard_batch(host_batches[1])
  box = {'state': state}

  def full_step():
    box['state'], metrics = trainer.train_step(box['state'], fixed, rng)
    return metrics

  with partitioner.context():
    fwd = jax.jit(lambda p, b, r: model.loss_fn(p, b, r)[0])
    grad = jax.jit(jax.grad(lambda p, b, r: model.loss_fn(p, b, r)[0]))
    best = best_times(
        {
            'forward': lambda: fwd(box['state'].params, fixed, rng),
            'forward_backward': lambda: grad(box['state'].params, fixed, rng),
            'step': full_step,
        },
        args.reps,
    )
    cost = grad.lower(box['state'].params, fixed, rng).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  xla_flops = float((cost or {}).get('flops', float('nan')))
  state = box['state']

  hf = hf_batches = None
  if args.hf_baseline:
    if args.data == 'p5':
      examples = read_dump(dump)[real_examples(first) :]  # the examples of the timed steps
      hf_batches = [
          p5_collate(examples[i : i + args.hf_batch])
          for i in range(0, len(examples) - args.hf_batch + 1, args.hf_batch)
      ]
    else:
      hf_batches = [hf_random_batch(b) for b in host_batches[1:]]
    hf = HfWorker(args.model, vocab_size, hf_batches)
  timed = host_batches[1:]
  rounds = max(1, min(args.rounds if args.hf_baseline else 1, len(timed)))
  ours, theirs = Clock(), Clock()
  examples = tokens = hf_examples = 0
  faults = 0
  for r in range(rounds):
    faults -= resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    with ours:
      for b in timed[r * len(timed) // rounds : (r + 1) * len(timed) // rounds]:
        state, m = trainer.train_step(state, partitioner.shard_batch(b), rng)
        examples += real_examples(b)
        tokens += int(np.sum(b['decoder_loss_weights'] > 0))
      jax.block_until_ready(m)
    faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    if hf is not None:
      time.sleep(ROUND_PAUSE_S)
      wall, cpu, n = hf.train(r * len(hf_batches) // rounds, (r + 1) * len(hf_batches) // rounds)
      theirs.wall, theirs.cpu, hf_examples = theirs.wall + wall, theirs.cpu + cpu, hf_examples + n
      time.sleep(ROUND_PAUSE_S)
  if hf is not None:
    hf.close()
  step_s = ours.wall / len(timed)
  profile = None
  if args.profile_dir:
    with partitioner.context():  # a step that does not donate, so one state serves each call
      compiled = jax.jit(trainer._train_step_fn).lower(state, fixed, rng).compile()
    profile = profile_breakdown(
        compiled, (state, fixed, rng), calls=args.reps, trace_dir=args.profile_dir
    )

  flops = train_matmul_flops(
      cfg, args.batch, first['encoder_input_tokens'].shape[1], args.target_len
  )
  mem, mem_kind = peak_memory_mb()
  fwd_s, grad_s = best['forward'], best['forward_backward']
  out = {
      'model': args.model,
      'data': args.data,
      'pack': args.pack,
      'batch': args.batch,
      'input_len': args.input_len,
      'target_len': args.target_len,
      'steps': args.steps,
      'vocab_size': vocab_size,
      'whole_word': whole_word,
      'activation_dtype': args.activation_dtype,
      'loss_chunk_size': args.loss_chunk_size,
      'loss_positions': args.loss_positions,
      'devices': jax.device_count(),
      'platform': jax.devices()[0].platform,
      'examples_per_s': examples / ours.wall,
      'real_target_tokens_per_s': tokens / ours.wall,
      'examples_per_cpu_s': examples / ours.cpu,
      'examples_per_step': examples / len(timed),
      'steps_per_s': 1 / step_s,
      'step_ms': 1e3 * step_s,
      'forward_ms': 1e3 * fwd_s,
      'backward_ms': 1e3 * (grad_s - fwd_s),
      'backward_over_forward': (grad_s - fwd_s) / fwd_s,
      'optimizer_ms': 1e3 * (best['step'] - grad_s),
      'best_step_ms': 1e3 * best['step'],
      'page_faults_per_step': faults / len(timed),
      'model_gflops_per_step': flops / 1e9,
      'xla_gflops_per_grad': xla_flops / 1e9,
      'achieved_gflops': flops / step_s / 1e9,
      'matmul_peak_gflops': peak,
      'mfu': flops / step_s / 1e9 / peak,
      'peak_memory_mb': mem,
      'final_loss': float(m['loss']),
  }
  if hf is not None:
    out['hf_torch_examples_per_s'] = hf_examples / theirs.wall
    out['hf_torch_examples_per_cpu_s'] = hf_examples / theirs.cpu
    out['speedup_vs_hf'] = out['examples_per_s'] / out['hf_torch_examples_per_s']
    out['speedup_vs_hf_cpu'] = out['examples_per_cpu_s'] / out['hf_torch_examples_per_cpu_s']
    out['rounds'] = rounds
  out['load_avg_start'], out['load_avg_end'] = load_start, load_average()
  out['host_allocator_tuned'] = host_allocator.tuned()
  shape = f"{first['encoder_input_tokens'].shape[1]}/{first['decoder_target_tokens'].shape[1]}"
  print(
      f"p5jax train step, {args.model} model, {args.batch} rows of {shape}, data={args.data}"
      f"{' packed' if args.pack else ''}, vocab {vocab_size}, {out['devices']} "
      f"{out['platform']} device(s), activations {args.activation_dtype}, loss "
      + (
          f'chunks of {args.loss_chunk_size}'
          if args.loss_chunk_size
          else f'{args.loss_positions} real-target slots'
          if args.loss_positions
          else 'full logits'
      )
  )
  print(f"  load average (1 min): {out['load_avg_start']} at start, {out['load_avg_end']} at end")
  print(f'  {host_allocator.describe()}, for both frameworks (Hugging Face in a child process)')
  print(
      f"  {out['examples_per_s']:.1f} examples/s ({out['examples_per_step']:.1f} per step), "
      f"{out['real_target_tokens_per_s']:,.0f} real target tokens/s, {out['steps_per_s']:.2f} "
      f"steps/s ({out['step_ms']:.1f} ms/step)"
  )
  print(
      f"  breakdown (best of {args.reps}): forward {out['forward_ms']:.1f} ms, backward "
      f"{out['backward_ms']:.1f} ms = {out['backward_over_forward']:.2f}x forward, optimizer "
      f"{out['optimizer_ms']:.1f} ms (full step {out['best_step_ms']:.1f} ms)"
  )
  print(
      f'  model matmul FLOPs/step {flops / 1e9:.1f} G (XLA counts {xla_flops / 1e9:.1f} G '
      'for forward+backward)'
  )
  print(
      f"  {out['achieved_gflops']:.1f} GFLOP/s of model matmuls vs measured fp32 matmul peak "
      f"{peak:.1f} GFLOP/s: MFU {100 * out['mfu']:.1f}%"
  )
  print(
      f'  peak memory {mem:.0f} MiB ({mem_kind}); {out["page_faults_per_step"]:,.0f} minor page '
      'faults per step'
  )
  if hf is not None:
    what = (
        f'the same {hf_examples} examples, P5 collate, {args.hf_batch} per batch'
        if args.data == 'p5'
        else 'the same batches'
    )
    print(
        f"  Hugging Face torch T5, same config, {what}, {rounds} interleaved rounds: "
        f"{out['hf_torch_examples_per_s']:.1f} examples/s -> p5jax is "
        f"{out['speedup_vs_hf']:.2f}x (per CPU-second: {out['speedup_vs_hf_cpu']:.2f}x)"
    )
  if profile is not None:
    out['profile'] = profile
    print('  the train step by HLO op category (jax.profiler trace, xla_profile.py):')
    print('    ' + format_breakdown(profile).replace('\n', '\n    '))
  print(json.dumps(out))


if __name__ == '__main__':
  main()
