"""Beam-search decoding throughput of the real p5jax T5 with an item-ID trie constraint,
side by side with Hugging Face `generate` on the same config, shapes, prompts and catalog.

    python bench/decode.py --model=tiny --beams=20 --batch=16 --input_len=128
    python bench/decode.py --model=small --beams=20 --batch=16 --input_len=128
    python bench/decode.py --model=small --items=1000000 --batch=64 --no-hf_baseline

Random weights (vocabulary 32128, T5 1.0 / P5 layout), random prompt tokens, and a catalog of
item numbers written one digit per token (digit d is token 3 + d) and ended by EOS, so results
compare with other systems on equal terms. The catalog is the item numbers of
`--data_dir/sequential_data.txt` (default: the Beauty data in ../shared/data/beauty next to
the repository: 12,101 items, P5's numbering), or 1..`--items` when `--items` is given. `--mode=constrained` decodes through
the compiled trie (`--score_mode=allowed`, the default, asks the model only for the allowed
tokens' logits; `full` normalises over the vocabulary first, as Hugging Face's
`prefix_allowed_tokens_fn`); `unconstrained` decodes over the whole vocabulary with the same
beam settings. Prints users/s, ms/user, compile time (kept apart), the fraction of returned
beams that are catalog items, the trie's size and build time, and achieved GFLOP/s against an
fp32 matmul peak measured in this same run. Hugging Face `generate` with a
`prefix_allowed_tokens_fn` trie is timed in the same run (torch, CPU; `--no-hf_baseline`
skips it). Times are wall-clock and, robust to other processes' load, this process's CPU
time (all threads); the load average is printed at start and end. `--profile_dir=DIR` adds
the decode's time by HLO op category from a jax.profiler trace (`xla_profile.py`). The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, '..', 'shared', 'data', 'beauty')
sys.path.insert(0, REPO)

from p5jax import host_allocator  # noqa: E402

host_allocator.tune()  # before jax starts its threads; see p5jax/host_allocator.py

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from flax import linen as nn  # noqa: E402
from matmul_peak import matmul_peak_gflops  # noqa: E402
from model_sizes import SIZES, VOCAB_SIZE  # noqa: E402
from xla_profile import format_breakdown, profile_breakdown  # noqa: E402

from p5jax.decoding import beam_search, compile_trie  # noqa: E402
from p5jax.models import EncoderDecoderModel, T5Config, Transformer  # noqa: E402

EOS = 1
DIGIT0 = 3  # token id of digit 0; digit d is DIGIT0 + d


def digit_catalog(items: list[int]) -> list[list[int]]:
  """Each item number -> its decimal digits as tokens, then EOS."""
  return [[DIGIT0 + int(c) for c in str(i)] + [EOS] for i in items]


def catalog_items(data_dir: str, items: int) -> list[int]:
  """1..`items`, or (items == 0) the item numbers of `data_dir/sequential_data.txt`."""
  if items:
    return list(range(1, items + 1))
  path = os.path.join(data_dir, 'sequential_data.txt')
  if not os.path.exists(path):
    raise SystemExit(f'{path} not found: pass --data_dir=DIR (P5 sequential data) or --items=N')
  with open(path) as f:
    return sorted({int(i) for line in f for i in line.split()[1:]})


def valid_fraction(seqs: np.ndarray, scores: np.ndarray, catalog: set[tuple[int, ...]]) -> float:
  """Share of returned beams [B, K, L] that spell a catalog item and end with EOS."""
  ok = 0
  for row, score in zip(seqs.reshape(-1, seqs.shape[-1]), scores.reshape(-1)):
    toks = [int(t) for t in row]
    if np.isfinite(score) and EOS in toks:
      ok += tuple(toks[: toks.index(EOS) + 1]) in catalog
  return ok / scores.size


def _timed(fn, *args) -> tuple[Any, float, float]:
  """fn(*args) blocked until ready; (result, wall seconds, process CPU seconds)."""
  wall, cpu = time.perf_counter(), time.process_time()
  out = jax.block_until_ready(fn(*args))
  return out, time.perf_counter() - wall, time.process_time() - cpu


def decode_matmul_flops(
    cfg: T5Config, batch: int, beams: int, enc_len: int, dec_len: int, out_width: int
) -> float:
  """Matmul FLOPs of one decode call: encoder, cross K/V once per user, dec_len cached steps
  (the first on one row per user, the others on `beams` rows per user).

  `out_width` is the number of output logits computed per row per step (V or the subset F).
  """
  d, f, hd = cfg.emb_dim, cfg.mlp_dim, cfg.num_heads * cfg.head_dim
  enc_tok = batch * enc_len
  encoder = (
      cfg.num_encoder_layers * enc_tok * (2 * 4 * d * hd + 2 * 2 * enc_len * hd + 2 * 2 * d * f)
  )
  cross_kv = cfg.num_decoder_layers * enc_tok * 2 * 2 * d * hd
  per_row = (
      cfg.num_decoder_layers
      * (
          2 * 4 * d * hd
          + 2 * 2 * dec_len * hd
          + 2 * 2 * d * hd
          + 2 * 2 * enc_len * hd
          + 2 * 2 * d * f
      )
      + 2 * d * out_width
  )
  return encoder + cross_kv + batch * per_row * (1 + (dec_len - 1) * beams)


def hf_generate_ms_per_user(args, dec_len: int, catalog: list[list[int]]) -> tuple[float, float]:
  """The baseline: Hugging Face `generate` + `prefix_allowed_tokens_fn` over a dict trie.

  Same T5 1.0 config, random weights, beams, prompts and catalog; torch on CPU. Returns
  (wall, CPU) ms per user, medians over the timed batches.
  """
  import torch
  import transformers

  size = SIZES[args.model]
  config = transformers.T5Config(
      vocab_size=VOCAB_SIZE,
      d_model=size['emb_dim'],
      d_kv=size['head_dim'],
      d_ff=size['mlp_dim'],
      num_layers=size['num_encoder_layers'],
      num_decoder_layers=size['num_decoder_layers'],
      num_heads=size['num_heads'],
      feed_forward_proj='relu',
      tie_word_embeddings=True,
      decoder_start_token_id=0,
      eos_token_id=EOS,
      pad_token_id=0,
      dropout_rate=0.0,
  )
  torch.manual_seed(args.seed)
  model = transformers.T5ForConditionalGeneration(config).eval()
  root: dict = {}
  for seq in catalog:
    node = root
    for t in seq:
      node = node.setdefault(t, {})

  def allowed(batch_id, input_ids):
    node = root
    for t in input_ids.tolist()[1:]:
      node = node.get(t)
      if node is None:
        return [EOS]
    return list(node) or [EOS]

  rng = np.random.default_rng(args.seed)

  def generate(enc):
    with torch.no_grad():
      return model.generate(
          torch.as_tensor(enc),
          attention_mask=torch.as_tensor(enc > 0),
          num_beams=args.beams,
          num_return_sequences=args.beams,
          max_length=dec_len + 1,
          early_stopping=True,
          do_sample=False,
          prefix_allowed_tokens_fn=(allowed if args.mode == 'constrained' else None),
      )

  walls, cpus = [], []
  for _ in range(args.batches + 1):  # the first batch warms up
    enc = rng.integers(2, VOCAB_SIZE, size=(args.batch, args.input_len))
    enc[:, -1] = EOS
    _, wall, cpu = _timed(generate, enc)
    walls.append(wall)
    cpus.append(cpu)
  return tuple(1e3 * float(np.median(x[1:])) / args.batch for x in (walls, cpus))


def main(argv=None) -> dict:
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  p.add_argument('--model', choices=sorted(SIZES), default='tiny')
  p.add_argument(
      '--data_dir',
      default=DEFAULT_DATA,
      help='P5 sequential data whose item numbers are the catalog (default: ../shared/data/beauty)',
  )
  p.add_argument('--items', type=int, default=0, help='catalog 1..N instead of --data_dir')
  p.add_argument('--beams', type=int, default=20)
  p.add_argument('--batch', type=int, default=16)
  p.add_argument('--input_len', type=int, default=128)
  p.add_argument('--mode', choices=('constrained', 'unconstrained'), default='constrained')
  p.add_argument('--score_mode', choices=('allowed', 'full'), default='allowed')
  p.add_argument('--length_penalty', choices=('hf', 'gnmt'), default='hf')
  p.add_argument('--alpha', type=float, default=1.0)
  p.add_argument('--max_decode_len', type=int, default=0, help='0: the longest item ID plus EOS')
  p.add_argument('--batches', type=int, default=3, help='timed batches after compilation')
  p.add_argument('--seed', type=int, default=0)
  p.add_argument(
      '--hf_baseline',
      action=argparse.BooleanOptionalAction,
      default=True,
      help='also time Hugging Face generate (+ prefix_allowed_tokens_fn trie) in this run',
  )
  p.add_argument('--profile_dir', default=None, help='trace the decode; print op categories')
  args = p.parse_args(argv)
  load_start = os.getloadavg()

  cfg = T5Config(
      vocab_size=VOCAB_SIZE,
      mlp_activations=('relu',),
      dropout_rate=0.0,
      logits_via_embedding=True,
      scale_decoder_output=True,
      dtype='float32',
      **SIZES[args.model],
  )
  model = EncoderDecoderModel(Transformer(cfg), decode_fn=beam_search)
  items = catalog_items(args.data_dir, args.items)
  dec_len = args.max_decode_len or len(str(max(items))) + 1
  shapes = {
      'encoder_input_tokens': (1, args.input_len),
      'decoder_input_tokens': (1, dec_len),
      'decoder_target_tokens': (1, dec_len),
  }
  params = nn.meta.unbox(model.get_initial_variables(jax.random.key(args.seed), shapes)['params'])

  catalog = digit_catalog(items)
  t = time.perf_counter()
  trie = compile_trie(catalog, vocab_size=VOCAB_SIZE, eos_id=EOS)
  trie_s = time.perf_counter() - t
  constraint = trie if args.mode == 'constrained' else None
  decoder_params = dict(
      alpha=args.alpha, length_penalty=args.length_penalty, score_mode=args.score_mode
  )

  @jax.jit
  def predict(params, enc, constraint):
    batch = {
        'encoder_input_tokens': enc,
        'decoder_input_tokens': jnp.zeros((enc.shape[0], dec_len), jnp.int32),
    }
    return model.predict_batch_with_aux(
        params,
        batch,
        num_decodes=args.beams,
        return_all_decodes=True,
        decoder_params=decoder_params,
        constraint=constraint,
    )

  rng = np.random.default_rng(args.seed)

  def prompts():
    enc = rng.integers(2, VOCAB_SIZE, size=(args.batch, args.input_len), dtype=np.int32)
    enc[:, -1] = EOS
    return jnp.asarray(enc)

  t = time.perf_counter()
  compiled = predict.lower(params, prompts(), constraint).compile()
  compile_s = time.perf_counter() - t
  jax.block_until_ready(compiled(params, prompts(), constraint))  # warm-up

  walls, cpus, fractions, valid = [], [], [], {tuple(s) for s in catalog}
  for _ in range(args.batches):
    (seqs, aux), wall, cpu = _timed(compiled, params, prompts(), constraint)
    walls.append(wall)
    cpus.append(cpu)
    fractions.append(valid_fraction(np.asarray(seqs), np.asarray(aux['scores']), valid))

  peak = matmul_peak_gflops()
  per_batch = float(np.median(walls))
  out_width = (
      trie.max_fanout if args.mode == 'constrained' and args.score_mode == 'allowed' else VOCAB_SIZE
  )
  flops = decode_matmul_flops(cfg, args.batch, args.beams, args.input_len, dec_len, out_width)
  gflops = flops / per_batch / 1e9
  result = {
      'model': args.model,
      'items': len(items),
      'beams': args.beams,
      'batch': args.batch,
      'input_len': args.input_len,
      'mode': args.mode,
      'score_mode': args.score_mode,
      'max_decode_len': dec_len,
      'devices': jax.devices()[0].platform,
      'users_per_s': args.batch / per_batch,
      'ms_per_user': 1e3 * per_batch / args.batch,
      'cpu_ms_per_user': 1e3 * float(np.median(cpus)) / args.batch,
      'compile_s': compile_s,
      'valid_fraction': float(np.mean(fractions)),
      'trie_build_s': trie_s,
      'trie_mb': trie.nbytes() / 1e6,
      'trie_edges': trie.num_edges,
      'gflops': gflops,
      'matmul_peak_gflops': peak,
      'fraction_of_peak': gflops / peak,
  }
  if args.hf_baseline:
    hf_ms, hf_cpu_ms = hf_generate_ms_per_user(args, dec_len, catalog)
    result.update(
        hf_ms_per_user=hf_ms,
        hf_cpu_ms_per_user=hf_cpu_ms,
        speedup_vs_hf=hf_ms / result['ms_per_user'],
        cpu_speedup_vs_hf=hf_cpu_ms / result['cpu_ms_per_user'],
    )
  if args.profile_dir:
    result['profile'] = profile_breakdown(
        compiled, (params, prompts(), constraint), calls=args.batches, trace_dir=args.profile_dir
    )
  result['loadavg_start'], result['loadavg_end'] = load_start, os.getloadavg()
  result['host_allocator_tuned'] = host_allocator.tuned()
  print(
      f'model={args.model} items={len(items)} beams={args.beams} batch={args.batch} '
      f'input_len={args.input_len} mode={args.mode} score_mode={args.score_mode} '
      f'max_decode_len={dec_len}'
  )
  print(f'load average at start {load_start}, at end {result["loadavg_end"]}')
  print(f'{host_allocator.describe()}, for both frameworks (one process)')
  print(f"trie: {trie.num_edges} edges, {result['trie_mb']:.1f} MB, built in {trie_s:.2f} s")
  print(f'compile: {compile_s:.1f} s')
  print(
      f"decode: {result['users_per_s']:.1f} users/s, {result['ms_per_user']:.2f} ms/user, "
      f"{result['cpu_ms_per_user']:.2f} CPU ms/user (median of {args.batches} batches)"
  )
  print(f"valid catalog items among returned beams: {result['valid_fraction']:.3f}")
  print(
      f'matmul work: {gflops:.1f} GFLOP/s achieved (<= {dec_len} steps counted) vs '
      f'{peak:.1f} GFLOP/s matmul peak ({100 * gflops / peak:.0f} %)'
  )
  if args.hf_baseline:
    print(
        f"Hugging Face generate baseline: {result['hf_ms_per_user']:.2f} ms/user, "
        f"{result['hf_cpu_ms_per_user']:.2f} CPU ms/user; speed-up "
        f"{result['speedup_vs_hf']:.1f}x (wall), {result['cpu_speedup_vs_hf']:.1f}x (CPU time)"
    )
  if args.profile_dir:
    print(format_breakdown(result['profile']))
  print(json.dumps(result))
  return result


if __name__ == '__main__':
  main()
