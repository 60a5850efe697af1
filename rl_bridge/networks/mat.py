"""MAT, the Multi-Agent Transformer (Wen et al. 2022) as in ``PKU-MARL/Multi-Agent-Transformer``.

Encoder: post-LN self-attention blocks over observation tokens, a value head ``V(o_i)`` per token.
Decoder: masked self-attention over the *shifted* actions (a start token, then a_1..a_{n-1}),
cross-attention to the encoder's representation, then the policy head. STEER differs in where the
actions enter (a separate OTB over ``[state_rep, e(a)]``) and in its per-agent ``V_i(s, a_<i)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.distributions import Categorical

from rl_bridge.networks.blocks import GELU_GAIN, SelfAttention, causal_mask, init_linear, mlp
from rl_bridge.networks.steer import masked_logits


@dataclass(frozen=True)
class MATShape:
    n_agents: int
    obs_dim: int
    n_actions: int
    d: int = 64
    n_heads: int = 1
    n_blocks: int = 1


class EncodeBlock(nn.Module):
    """Post-LN: ``x = LN(x + Attn(x)); x = LN(x + MLP(x))``."""

    def __init__(self, d: int, n_heads: int):
        super().__init__()
        self.attn = SelfAttention(d, n_heads)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = mlp(d, d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.mlp(x))


class DecodeBlock(nn.Module):
    """Masked self-attention over shifted actions, then cross-attention to the encoder (post-LN)."""

    def __init__(self, d: int, n_heads: int, n_agents: int):
        super().__init__()
        self.self_attn, self.cross_attn = SelfAttention(d, n_heads), SelfAttention(d, n_heads)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.mlp = mlp(d, d, d)
        self.register_buffer("_causal", causal_mask(n_agents), persistent=False)

    def forward(self, x: torch.Tensor, rep: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.self_attn(x, mask=self._causal))
        x = self.ln2(rep + self.cross_attn(rep, kv=x, mask=self._causal))
        return self.ln3(x + self.mlp(x))


class MATNet(nn.Module):
    def __init__(self, shape: MATShape):
        super().__init__()
        self.shape = shape
        d, a = shape.d, shape.n_actions
        self.obs_embed = nn.Sequential(nn.LayerNorm(shape.obs_dim), init_linear(nn.Linear(shape.obs_dim, d), GELU_GAIN), nn.GELU())
        self.enc_ln = nn.LayerNorm(d)
        self.encoder = nn.ModuleList(EncodeBlock(d, shape.n_heads) for _ in range(shape.n_blocks))
        self.value_head = mlp(d, d, 1)
        # a_{i-1} enters as one-hot over A+1 symbols; symbol 0 is the start token.
        self.action_embed = nn.Sequential(init_linear(nn.Linear(a + 1, d, bias=False), GELU_GAIN), nn.GELU())
        self.dec_ln = nn.LayerNorm(d)
        self.decoder = nn.ModuleList(DecodeBlock(d, shape.n_heads, shape.n_agents) for _ in range(shape.n_blocks))
        self.policy_head = mlp(d, d, a)

    def encode(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> ``rep`` [B, n, D] and values ``V(o_i)`` [B, n]."""
        x = self.enc_ln(self.obs_embed(obs))
        for block in self.encoder:
            x = block(x)
        return x, self.value_head(x).squeeze(-1)

    def decode_logits(self, shifted: torch.Tensor, rep: torch.Tensor) -> torch.Tensor:
        x = self.dec_ln(self.action_embed(shifted))
        for block in self.decoder:
            x = block(x, rep)
        return self.policy_head(x)

    def _shifted(self, actions: torch.Tensor) -> torch.Tensor:
        b, n = actions.shape
        shifted = torch.zeros(b, n, self.shape.n_actions + 1)
        shifted[:, 0, 0] = 1.0
        shifted[:, 1:, 1:] = nn.functional.one_hot(actions[:, :-1].long(), self.shape.n_actions).float()
        return shifted

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rep, values = self.encode(obs)
        dist = Categorical(logits=masked_logits(self.decode_logits(self._shifted(actions), rep), mask))
        return dist.log_prob(actions.long()), dist.entropy(), values

    def joint_policy(self, obs: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: log pi_i(. | o, a_<i) [B, n, A] and the encoder's values [B, n]."""
        rep, values = self.encode(obs)
        logits = masked_logits(self.decode_logits(self._shifted(actions), rep), mask)
        return torch.log_softmax(logits, dim=-1), values

    @torch.no_grad()
    def decode(self, obs: torch.Tensor, mask: torch.Tensor | None, deterministic: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, n = obs.shape[0], self.shape.n_agents
        rep, values = self.encode(obs)
        actions = torch.zeros(b, n, dtype=torch.long)
        logp = torch.zeros(b, n)
        for i in range(n):
            logits = self.decode_logits(self._shifted(actions), rep)[:, i]
            dist = Categorical(logits=masked_logits(logits, None if mask is None else mask[:, i]))
            a = dist.probs.argmax(-1) if deterministic else dist.sample()
            actions[:, i], logp[:, i] = a, dist.log_prob(a)
        return actions, logp, values

    def config(self) -> dict:
        return asdict(self.shape)
