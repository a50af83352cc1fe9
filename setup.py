"""p5jax: P5 recommendation-as-language-processing in JAX/Flax with a T5X-style trainer."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent

INSTALL_REQUIRES = [
    'jax>=0.10.0,<0.11',
    'jaxlib>=0.10.0,<0.11',
    'flax>=0.12.0,<0.13',
    'optax>=0.2.5,<0.3',
    'orbax-checkpoint>=0.12.0,<0.13',
    'etils[epath]>=1.7',
    'seqio==0.0.20',
    'tensorflow>=2.19,<2.22',
    'tensorflow-text>=2.19,<2.22',
    'tensorflow-datasets>=4.9.7,<5',
    'gin-config>=0.5.0,<0.6',
    'absl-py>=2.1',
    'clu>=0.0.12',
    'tensorboard>=2.19',
    'sentencepiece>=0.2.0',
    'safetensors>=0.4',
    'numpy>=1.26',
    'scipy>=1.13',
    'scikit-learn>=1.5',
    'rouge-score>=0.1.2',
    'sacrebleu>=2.4',
]

EXTRAS = {
    'test': [
        'pytest>=8',
        'pytest-xdist>=3.5',
        'hypothesis>=6.100',
        'pyink==26.5.1',
        'ruff==0.17.6',
    ],
    # torch is pinned: this version installs as a CPU build here; an unpinned torch pulls CUDA.
    'parity': ['torch==2.13.0', 'transformers>=4.45'],
}

setup(
    name='p5jax',
    version='0.1.0',
    description='P5 (Recommendation as Language Processing) in JAX/Flax with SeqIO tasks and a T5X-style trainer',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    python_requires='>=3.10',
    packages=find_packages(
        include=[
            'p5jax',
            'p5jax.*',
        ]
    ),
    package_data={
        'p5jax.gin_configs': ['*.gin', '*/*.gin', '*/*/*.gin'],
        'p5jax.data': ['demo_vocabulary.json'],
    },
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    entry_points={
        'console_scripts': [
            'p5jax=p5jax.launch.main:console_main',
            'p5jax-prepare=p5jax.data.prepare_main:console_main',
            'p5jax-leakcheck=p5jax.indexing.leakcheck:console_main',
        ]
    },
)
