"""Training throughput of the full p5jax train step (AdamW + clipping, the `Trainer` path).

    python bench/train_throughput.py --model=tiny --batch=16 --input_len=128 --target_len=32 \
        --steps=20
    python bench/train_throughput.py --model=tiny --data=p5 [--pack] [--prepared_dir=DIR] \
        [--dump=FILE]   # a prepared dataset's pretrain mixture (default: ../shared/data/beauty)

Prints examples/s, target tokens/s, steps/s, peak memory, a time breakdown (forward,
forward+backward, optimizer) and MFU against an fp32 matmul peak measured in this same run.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import jax  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from matmul_peak import matmul_peak_gflops  # noqa: E402

from p5jax.training.optimizers import p5_adamw  # noqa: E402
from p5jax.training.partitioning import Partitioner  # noqa: E402
from p5jax.training.trainer import Trainer  # noqa: E402

VOCAB_SIZE = 32128
# P5 is T5 1.0: ReLU FFN, tied embeddings. tiny = the p5_tiny gin; small = t5-small.
SIZES = {
    'tiny': dict(
        emb_dim=128,
        mlp_dim=512,
        num_heads=4,
        head_dim=32,
        num_encoder_layers=4,
        num_decoder_layers=4,
    ),
    'small': dict(
        emb_dim=512,
        mlp_dim=2048,
        num_heads=8,
        head_dim=64,
        num_encoder_layers=6,
        num_decoder_layers=6,
    ),
}


def build_model(size: str, dropout_rate: float = 0.1, loss_chunk_size: int | None = None):
  import seqio

  from p5jax import models

  config = models.T5Config(
      vocab_size=VOCAB_SIZE,
      mlp_activations=('relu',),
      dropout_rate=dropout_rate,
      logits_via_embedding=True,
      scale_decoder_output=True,
      whole_word_embedding=False,
      dtype='float32',
      **SIZES[size],
  )
  vocab = seqio.PassThroughVocabulary(VOCAB_SIZE, eos_id=1)
  return (
      models.EncoderDecoderModel(
          models.Transformer(config), vocab, vocab, loss_chunk_size=loss_chunk_size
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
  """The trainer's P5 example stream (`p5jax.training.p5_stream.P5Stream`) of a prepared
  dataset's pretrain mixture (default: ../shared/data/beauty prepared into the p5jax cache).
  `stream.batches(0)` yields `(features, next_position, examples)`, `examples` being the
  batch's `(input ids, target ids)` (EOS-terminated, unpadded) in training order."""
  from prepared_cache import prepared_dir as default_prepared_dir

  from p5jax import tasks
  from p5jax.training import p5_stream as streams
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


def hf_examples_per_s(
    size: str, batch: int, enc_len: int, dec_len: int, steps: int, threads: int
) -> float:
  """Examples/s of a Hugging Face torch T5 training step (AdamW, clip 1.0) of the same config
  and shapes on the same random batches, measured in this run (the `--hf_baseline` row)."""
  import torch
  import transformers

  torch.set_num_threads(threads)
  s = SIZES[size]
  config = transformers.T5Config(
      vocab_size=VOCAB_SIZE,
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
  batches = random_batches(batch, enc_len, dec_len, seed=0)

  def step(b):
    out = model(
        input_ids=torch.as_tensor(b['encoder_input_tokens']),
        labels=torch.as_tensor(b['decoder_target_tokens']).long(),
    )
    out.loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)

  for _ in range(2):  # warm-up
    step(next(batches))
  host = [next(batches) for _ in range(steps)]
  t = time.perf_counter()
  for b in host:
    step(b)
  return batch * steps / (time.perf_counter() - t)


def time_fn(fn, *args, reps: int) -> float:
  jax.block_until_ready(fn(*args))
  t = time.perf_counter()
  for _ in range(reps):
    out = fn(*args)
  jax.block_until_ready(out)
  return (time.perf_counter() - t) / reps


def peak_memory_mb() -> tuple[float, str]:
  dev = jax.devices()[0]
  stats = dev.memory_stats() if hasattr(dev, 'memory_stats') else None
  if stats and 'peak_bytes_in_use' in stats:
    return stats['peak_bytes_in_use'] / 2**20, f'{dev.platform} peak bytes in use'
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'host peak RSS'


def main() -> None:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--model', choices=sorted(SIZES), default='tiny')
  p.add_argument('--batch', type=int, default=16)
  p.add_argument('--input_len', type=int, default=128)
  p.add_argument('--target_len', type=int, default=32)
  p.add_argument('--steps', type=int, default=20)
  p.add_argument('--data', choices=('random', 'p5'), default='random')
  p.add_argument('--pack', action='store_true', help='packed rows (with --data=p5)')
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
      help='also time a Hugging Face torch T5 step of the same config (random data)',
  )
  p.add_argument(
      '--loss_chunk_size',
      type=int,
      default=None,
      help='vocabulary chunk of the fused logits+loss (default: full logits)',
  )
  p.add_argument('--profile_dir', default=None, help='write a jax.profiler trace here')
  args = p.parse_args()

  peak = matmul_peak_gflops()
  model, cfg = build_model(args.model, loss_chunk_size=args.loss_chunk_size)
  partitioner = Partitioner(num_partitions=args.num_partitions)
  shapes = {
      'encoder_input_tokens': (args.batch, args.input_len),
      **{
          k: (args.batch, args.target_len)
          for k in ('decoder_input_tokens', 'decoder_target_tokens', 'decoder_loss_weights')
      },
  }
  trainer = Trainer(model, p5_adamw(total_steps=max(args.steps, 100)), partitioner, shapes)
  state = trainer.init_state(jax.random.key(0))
  batches = (
      random_batches(args.batch, args.input_len, args.target_len)
      if args.data == 'random'
      else p5_batches(
          args.batch, args.input_len, args.target_len, args.pack, args.prepared_dir, args.dump
      )
  )
  rng = jax.random.key(1)

  # Breakdown on one fixed batch: forward, forward+backward, full step.
  fixed = partitioner.shard_batch(next(batches))
  with partitioner.context():
    fwd = jax.jit(lambda p, b, r: model.loss_fn(p, b, r)[0])
    grad = jax.jit(jax.grad(lambda p, b, r: model.loss_fn(p, b, r)[0]))
    t_fwd = time_fn(fwd, state.params, fixed, rng, reps=3)
    t_grad = time_fn(grad, state.params, fixed, rng, reps=3)

  with partitioner.context():
    cost = grad.lower(state.params, fixed, rng).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  xla_flops = float((cost or {}).get('flops', float('nan')))

  state, m = trainer.train_step(state, fixed, rng)  # compile
  jax.block_until_ready(m)
  host_batches = [next(batches) for _ in range(args.steps)]
  examples = tokens = 0
  if args.profile_dir:
    jax.profiler.start_trace(args.profile_dir)
  t0 = time.perf_counter()
  for b in host_batches:
    state, m = trainer.train_step(state, partitioner.shard_batch(b), rng)
    seg = b.get('decoder_segment_ids')
    examples += int(np.sum(seg.max(axis=1))) if seg is not None else len(b['decoder_target_tokens'])
    tokens += int(np.sum(b['decoder_loss_weights'] > 0))
  jax.block_until_ready(m)
  dt = time.perf_counter() - t0
  if args.profile_dir:
    jax.profiler.stop_trace()
  step_s = dt / args.steps

  flops = train_matmul_flops(cfg, args.batch, args.input_len, args.target_len)
  mfu = flops / step_s / 1e9 / peak
  mem, mem_kind = peak_memory_mb()
  out = {
      'model': args.model,
      'loss_chunk_size': args.loss_chunk_size,
      'data': args.data,
      'pack': args.pack,
      'batch': args.batch,
      'input_len': args.input_len,
      'target_len': args.target_len,
      'steps': args.steps,
      'devices': jax.device_count(),
      'platform': jax.devices()[0].platform,
      'examples_per_s': examples / dt,
      'target_tokens_per_s': tokens / dt,
      'steps_per_s': 1 / step_s,
      'step_ms': 1e3 * step_s,
      'forward_ms': 1e3 * t_fwd,
      'forward_backward_ms': 1e3 * t_grad,
      'optimizer_and_rest_ms': 1e3 * (step_s - t_grad),
      'model_gflops_per_step': flops / 1e9,
      'xla_gflops_per_grad': xla_flops / 1e9,
      'achieved_gflops': flops / step_s / 1e9,
      'matmul_peak_gflops': peak,
      'mfu': mfu,
      'peak_memory_mb': mem,
      'final_loss': float(m['loss']),
  }
  if args.hf_baseline:
    hf = hf_examples_per_s(
        args.model,
        args.batch,
        args.input_len,
        args.target_len,
        args.steps,
        threads=os.cpu_count() or 1,
    )
    out['hf_torch_examples_per_s'] = hf
    out['speedup_vs_hf'] = out['examples_per_s'] / hf
  print(
      f"p5jax train step, {args.model} model, batch {args.batch}, lengths "
      f"{args.input_len}/{args.target_len}, data={args.data}{' packed' if args.pack else ''}, "
      f"{out['devices']} {out['platform']} device(s), loss "
      f"{f'chunks of {args.loss_chunk_size}' if args.loss_chunk_size else 'full logits'}"
  )
  print(
      f"  {out['examples_per_s']:.1f} examples/s, {out['target_tokens_per_s']:,.0f} target "
      f"tokens/s, {out['steps_per_s']:.2f} steps/s ({out['step_ms']:.1f} ms/step)"
  )
  print(
      f"  breakdown: forward {out['forward_ms']:.1f} ms, forward+backward "
      f"{out['forward_backward_ms']:.1f} ms, optimizer+rest "
      f"{out['optimizer_and_rest_ms']:.1f} ms"
  )
  print(
      f'  model matmul FLOPs/step {flops / 1e9:.1f} G (XLA counts {xla_flops / 1e9:.1f} G '
      'for forward+backward)'
  )
  print(
      f"  {out['achieved_gflops']:.1f} GFLOP/s of model matmuls vs measured fp32 matmul peak "
      f"{peak:.1f} GFLOP/s: MFU {100 * mfu:.1f}%"
  )
  print(f'  peak memory {mem:.0f} MiB ({mem_kind})')
  if args.hf_baseline:
    print(
        f"  Hugging Face torch T5, same config/shapes, same run: "
        f"{out['hf_torch_examples_per_s']:.1f} examples/s -> p5jax is "
        f"{out['speedup_vs_hf']:.2f}x"
    )
  print(json.dumps(out))


if __name__ == '__main__':
  main()
