"""Run every p5jax benchmark and collect their figures into JSON and a markdown summary.

Each benchmark script prints what it measured for a person and ends with one JSON line; this
runner executes them one after another (never concurrently: the machines are noisy), keeps their
full logs, and writes `<out_dir>/summary.json` and `<out_dir>/SUMMARY.md`.

    python bench/run_all.py --out_dir=bench/out            # the default, CPU-sized suite
    python bench/run_all.py --only=decode,train_throughput  # a subset
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent

# name -> argument lists; every entry is one run of bench/<script>.py.
SUITE: dict[str, tuple[str, list[list[str]]]] = {
    'train_throughput': (
        'train_throughput.py',
        [
            [
                '--model=tiny',
                '--batch=16',
                '--input_len=128',
                '--target_len=32',
                '--steps=20',
                '--hf_baseline',
            ],
            ['--model=small', '--batch=16', '--input_len=128', '--target_len=32', '--steps=5'],
        ],
    ),
    'decode': (
        'decode.py',
        [
            [
                '--model=tiny',
                '--items=12101',
                '--beams=20',
                '--batch=16',
                '--input_len=128',
                '--mode=constrained',
            ],
            [
                '--model=tiny',
                '--items=12101',
                '--beams=20',
                '--batch=16',
                '--input_len=128',
                '--mode=unconstrained',
            ],
        ],
    ),
    'pipeline': ('pipeline.py', [[]]),
    'index_build': ('index_build.py', [[]]),
    'prepare': ('prepare.py', [[]]),
}


def last_json_line(text: str) -> dict | None:
  """The benchmark's figures: the last line of its output that parses as a JSON object."""
  for line in reversed(text.strip().splitlines()):
    line = line.strip()
    if line.startswith('{') and line.endswith('}'):
      try:
        return json.loads(line)
      except json.JSONDecodeError:
        return None
  return None


def run_one(script: str, args: list[str], log_path: pathlib.Path, timeout_s: int) -> dict:
  cmd = [sys.executable, str(HERE / script), *args]
  started = time.time()
  try:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'},
    )
    output, rc = proc.stdout + proc.stderr, proc.returncode
  except subprocess.TimeoutExpired as exc:
    output = (exc.stdout or b'').decode() if isinstance(exc.stdout, bytes) else (exc.stdout or '')
    rc = 124
  log_path.write_text(output, encoding='utf-8')
  return {
      'command': ' '.join(shlex.quote(c) for c in ['python', f'bench/{script}', *args]),
      'returncode': rc,
      'wall_s': round(time.time() - started, 1),
      'figures': last_json_line(output) if rc == 0 else None,
      'log': str(log_path),
  }


def to_markdown(results: dict) -> str:
  lines = [
      '# p5jax benchmark summary',
      '',
      f"Host: {results['host']}; started {results['started']}.",
      '',
      '| benchmark | command | rc | wall s | figures |',
      '|---|---|---|---|---|',
  ]
  for name, runs in results['benchmarks'].items():
    for run in runs:
      figs = run['figures'] or {}
      shown = ', '.join(
          f'{k}={v}' for k, v in figs.items() if isinstance(v, (int, float, str, bool))
      )
      lines.append(
          f"| {name} | `{run['command']}` | {run['returncode']} | " f"{run['wall_s']} | {shown} |"
      )
  return '\n'.join(lines) + '\n'


def main(argv: list[str] | None = None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--out_dir', default=str(HERE / 'out'))
  parser.add_argument('--only', default='', help='comma-separated benchmark names')
  parser.add_argument('--timeout_s', type=int, default=1800, help='per benchmark run')
  args = parser.parse_args(argv)
  names = [n for n in args.only.split(',') if n] or list(SUITE)
  unknown = sorted(set(names) - set(SUITE))
  if unknown:
    parser.error(f'unknown benchmark(s) {unknown}; known: {sorted(SUITE)}')
  out_dir = pathlib.Path(args.out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  results = {
      'host': f'{platform.node()} ({os.cpu_count()} cpus, {platform.machine()})',
      'started': time.strftime('%Y-%m-%d %H:%M:%S'),
      'benchmarks': {},
  }
  failed = 0
  for name in names:
    script, arg_lists = SUITE[name]
    runs = []
    for i, extra in enumerate(arg_lists):
      print(f"[bench] {name} #{i}: {script} {' '.join(extra)}", flush=True)
      run = run_one(script, extra, out_dir / f'{name}_{i}.log', args.timeout_s)
      print(
          f"[bench]   rc={run['returncode']} wall={run['wall_s']}s "
          f"figures={json.dumps(run['figures'])}",
          flush=True,
      )
      failed += run['returncode'] != 0
      runs.append(run)
    results['benchmarks'][name] = runs
  (out_dir / 'summary.json').write_text(json.dumps(results, indent=2), encoding='utf-8')
  (out_dir / 'SUMMARY.md').write_text(to_markdown(results), encoding='utf-8')
  print(f"[bench] wrote {out_dir / 'summary.json'} and {out_dir / 'SUMMARY.md'}")
  print(
      json.dumps(
          {
              'runs': sum(len(r) for r in results['benchmarks'].values()),
              'failed': failed,
              'summary': str(out_dir / 'summary.json'),
          }
      )
  )
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
