"""The model sizes the speed benchmarks measure. P5 is T5 1.0 (ReLU feed-forward, tied
embeddings); tiny is the p5_tiny gin, small is t5-small, both with T5's 32128-piece vocabulary."""

VOCAB_SIZE = 32128
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
