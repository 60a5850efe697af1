"""Transformer pieces shared by STEER and MAT, with the authors' orthogonal initialisation.

The authors (MAT and its STEER fork) initialise every linear layer orthogonally with gain 0.01 and zero
bias, except layers feeding a GELU, which get gain sqrt(2); keeping that is part of reproducing them.
"""

from __future__ import annotations

import math

import torch
from torch import nn

GELU_GAIN = math.sqrt(2.0)


def init_linear(layer: nn.Linear, gain: float = 0.01) -> nn.Linear:
    """Orthogonal weights, zero bias (the authors' ``init_``)."""
    nn.init.orthogonal_(layer.weight, gain=gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def mlp(d_in: int, d_hidden: int, d_out: int, out_gain: float = 0.01) -> nn.Sequential:
    """Linear-GELU-Linear, the width-D MLP of every block and head."""
    return nn.Sequential(
        init_linear(nn.Linear(d_in, d_hidden), GELU_GAIN), nn.GELU(), init_linear(nn.Linear(d_hidden, d_out), out_gain)
    )


def causal_mask(n: int, device: torch.device | None = None) -> torch.Tensor:
    """Boolean attention mask, True = may not attend: position i sees positions <= i only."""
    return torch.triu(torch.ones(n, n, dtype=torch.bool, device=device), diagonal=1)


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product attention with the authors' init (query/key/value/out projections)."""

    def __init__(self, d: int, n_heads: int):
        super().__init__()
        assert d % n_heads == 0, "embedding must split evenly across heads"
        self.n_heads = n_heads
        self.q, self.k, self.v, self.proj = (init_linear(nn.Linear(d, d)) for _ in range(4))

    def forward(self, x: torch.Tensor, kv: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        kv = x if kv is None else kv
        b, n, d = x.shape
        h = self.n_heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, t.shape[1], h, d // h).transpose(1, 2)

        attn_mask = None if mask is None else ~mask  # SDPA: True = may attend
        out = nn.functional.scaled_dot_product_attention(
            split(self.q(x)), split(self.k(kv)), split(self.v(kv)), attn_mask=attn_mask
        )
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class PreLNBlock(nn.Module):
    """``x = x + Attn(LN(x)); x = x + MLP(LN(x))`` -- STEER's ITB and OTB blocks."""

    def __init__(self, d: int, n_heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = SelfAttention(d, n_heads)
        self.mlp = mlp(d, d, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), mask=mask)
        return x + self.mlp(self.ln2(x))
