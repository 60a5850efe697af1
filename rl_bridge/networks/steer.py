"""STEER's network: the Stackelberg decision transformer (spec ``steer.md`` section 2).

Agent i acts after seeing the actual actions of agents 1..i-1, so its policy is
``pi_i(a_i | s, a_<i)``. Two blocks carry that:

* the **ITB** (inner transformer block) attends, unmasked, over ``[t_0, obs_emb_1..n]`` and yields
  ``state_rep`` (position 0) and one ``obs_rep_i`` per agent;
* the **OTB** (outer transformer block) attends causally over ``[state_rep, e(a_1), ..., e(a_n)]``
  plus learned positions; its output at position i-1 encodes ``(s, a_<i)`` for agent i.

Agent i's head reads ``h_i = OTB_out[i-1] + obs_rep_i`` and gives both its logits and its own critic
``V_i(s, a_<i)``. Rollouts decode agent by agent (``decode``); training re-evaluates a stored joint
action in one teacher-forced pass (``evaluate``). Causality makes the two agree exactly.

The paper's ablations are options of the same network (``SteerShape``):

* ``itb=False``: no inner block; ``obs_rep_i`` is the plain embedding of o_i and ``state_rep`` is t_0.
* ``otb=False``: no outer block; agent i's head reads ``state_rep + position_i`` instead of the
  OTB's ``(s, a_<i)``, so each agent decides from the state alone, never from earlier actions.
* ``priority`` other than ``fixed``: the decoding order is an input. Each agent's observation
  carries a one-hot of its rank in ``n`` extra columns (``rl_bridge.priority`` appends them); the
  network reads the order from them, decodes agents in that order (positions, causal mask and the
  available-action masks follow it) and hands results back in agent order. An observation without
  those columns is read in the fixed order (agent 0 leads), which is how greedy evaluation scores
  the Stackelberg equilibrium of the game as written. A learned agent-identity vector is added to
  each observation token, since the position in the OTB no longer names the agent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.distributions import Categorical

from rl_bridge.networks.blocks import GELU_GAIN, PreLNBlock, causal_mask, init_linear, mlp

MASKED_LOGIT = -1e10
"""What an unavailable action's logit becomes (the authors' value): its probability is exactly 0."""


@dataclass(frozen=True)
class SteerShape:
    """Everything needed to rebuild a STEER network from a checkpoint's config JSON."""

    n_agents: int
    obs_dim: int
    n_actions: int
    state_dim: int = 0
    d: int = 64
    """Embedding width D."""
    n_heads: int = 1
    n_blocks: int = 1
    state_token: str = "learned"
    """``learned``: a CLS vector t_0; ``state``: t_0 embeds the global state."""
    itb: bool = True
    """Ablation switch: False drops the inner transformer block."""
    otb: bool = True
    """Ablation switch: False drops the outer block's conditioning on earlier agents' actions."""
    priority: str = "fixed"
    """``fixed`` (agent 0 leads, the authors'), or an order read from rank columns of the
    observation (``random``, ``rotate``: see ``rl_bridge.priority``)."""


def take_agents(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[b, index[b, j]]`` for every b, j: reorders the agent axis (dim 1) of ``x`` per sample."""
    idx = index.view(*index.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
    return x.gather(1, idx)


def masked_logits(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    return logits if mask is None else logits.masked_fill(~mask, MASKED_LOGIT)


class SteerNet(nn.Module):
    _causal: torch.Tensor

    def __init__(self, shape: SteerShape):
        super().__init__()
        self.shape = shape
        d = shape.d
        self.obs_embed = nn.Sequential(
            nn.LayerNorm(shape.obs_dim), init_linear(nn.Linear(shape.obs_dim, d), GELU_GAIN), nn.GELU()
        )
        if shape.state_token == "state":
            self.state_embed = nn.Sequential(
                nn.LayerNorm(shape.state_dim), init_linear(nn.Linear(shape.state_dim, d), GELU_GAIN), nn.GELU()
            )
        else:
            self.cls = nn.Parameter(torch.zeros(1, 1, d))
        if shape.priority != "fixed":
            self.agent_id = nn.Parameter(torch.zeros(1, shape.n_agents, d))
        self.itb = nn.ModuleList(PreLNBlock(d, shape.n_heads) for _ in range(shape.n_blocks if shape.itb else 0))
        self.itb_ln = nn.LayerNorm(d)
        if shape.otb:
            self.action_embed = nn.Sequential(
                init_linear(nn.Linear(shape.n_actions, d, bias=False), GELU_GAIN), nn.GELU()
            )
        self.position = nn.Parameter(torch.zeros(1, shape.n_agents, d))
        self.otb = nn.ModuleList(PreLNBlock(d, shape.n_heads) for _ in range(shape.n_blocks if shape.otb else 0))
        self.otb_ln = nn.LayerNorm(d)
        self.out_proj = init_linear(nn.Linear(d, d))
        self.head_ln = nn.LayerNorm(d)
        self.actor = mlp(d, d, shape.n_actions)
        self.critic = mlp(d, d, 1)
        self.register_buffer("_causal", causal_mask(shape.n_agents), persistent=False)

    # -------------------------------------------------------------------------------- priority
    def split_priority(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``obs`` [B, n, obs_dim (+ n rank columns)] -> the observation proper and ``order`` [B, n]
        (the agent at each decoding position), or None for the fixed order."""
        d = self.shape.obs_dim
        if obs.shape[-1] == d:
            return obs, None
        if self.shape.priority == "fixed" or obs.shape[-1] != d + self.shape.n_agents:
            raise ValueError(f"observation width {obs.shape[-1]}: expected {d}"
                             + ("" if self.shape.priority == "fixed" else f" or {d + self.shape.n_agents} (with rank columns)"))
        return obs[..., :d], obs[..., d:].argmax(-1).argsort(-1)

    # ------------------------------------------------------------------------------------- ITB
    def encode(self, obs: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """ITB: ``obs`` [B, n, obs_dim] (and ``state`` [B, state_dim]) -> ``state_rep`` [B, D], ``obs_rep`` [B, n, D]."""
        tokens = self.obs_embed(obs)
        if self.shape.priority != "fixed":
            tokens = tokens + self.agent_id
        if self.shape.state_token == "state":
            t0 = self.state_embed(state).unsqueeze(1)
        else:
            t0 = self.cls.expand(obs.shape[0], 1, -1)
        x = torch.cat([t0, tokens], dim=1)
        for block in self.itb:
            x = block(x)
        x = self.itb_ln(x)
        return x[:, 0], x[:, 1:]

    # ------------------------------------------------------------------------------------- OTB
    def otb_pass(self, state_rep: torch.Tensor, prev_onehot: torch.Tensor) -> torch.Tensor:
        """OTB over ``[state_rep, e(a_1), ..., e(a_k)]`` + positions, causally masked.

        ``prev_onehot`` [B, k, A] holds one-hot a_1..a_k (k < n); the output [B, k+1, D] at position
        i encodes ``(s, a_<i+1)`` for agent i+1 (0-based: agent i reads position i).
        """
        k = prev_onehot.shape[1]
        if not self.shape.otb:  # ablation: the state and the position alone, no earlier action
            return self.otb_ln(state_rep.unsqueeze(1) + self.position[:, : k + 1])
        y = torch.cat([state_rep.unsqueeze(1), self.action_embed(prev_onehot)], dim=1) + self.position[:, : k + 1]
        for block in self.otb:
            y = block(y, mask=self._causal[: k + 1, : k + 1])
        return self.otb_ln(y)

    def head_input(self, otb_out: torch.Tensor, obs_rep: torch.Tensor) -> torch.Tensor:
        """``h_i = OTB_out[i-1] + obs_rep_i; h = LN(h + OutProj(h))``."""
        h = otb_out + obs_rep
        return self.head_ln(h + self.out_proj(h))

    def heads(self, state_rep: torch.Tensor, obs_rep: torch.Tensor, prev_onehot: torch.Tensor, order: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """OTB + heads. ``prev_onehot`` [B, n, A] holds one-hot a_1..a_n (zeros where not decided yet).

        Y = [state_rep, e(a_1), ..., e(a_{n-1})] + positions (a_n is never an input), causally masked,
        so logits_i and V_i depend on ``a_<i`` only. Returns raw logits [B, n, A] and values [B, n].
        With an ``order``, "earlier" means earlier in that order; inputs and outputs are in agent order.
        """
        if order is not None:
            obs_rep, prev_onehot = take_agents(obs_rep, order), take_agents(prev_onehot, order)
        h = self.head_input(self.otb_pass(state_rep, prev_onehot[:, :-1]), obs_rep)
        logits, values = self.actor(h), self.critic(h).squeeze(-1)
        if order is not None:
            rank = order.argsort(-1)
            logits, values = take_agents(logits, rank), take_agents(values, rank)
        return logits, values

    # ------------------------------------------------------------------- training: one pass
    def evaluate(self, obs: torch.Tensor, state: torch.Tensor | None, actions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing: log pi_i(a_i | s, a_<i), entropies and V_i(s, a_<i) for a stored joint action, all [B, n]."""
        obs, order = self.split_priority(obs)
        state_rep, obs_rep = self.encode(obs, state)
        onehot = nn.functional.one_hot(actions.long(), self.shape.n_actions).float()
        logits, values = self.heads(state_rep, obs_rep, onehot, order)
        dist = Categorical(logits=masked_logits(logits, mask))
        return dist.log_prob(actions.long()), dist.entropy(), values

    def log_policy(self, obs: torch.Tensor, state: torch.Tensor | None, actions: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Teacher forcing over the whole action set: log pi_i(. | s, a_<i) [B, n, A] (-inf-like where masked)."""
        return self.joint_policy(obs, state, actions, mask)[0]

    def joint_policy(self, obs: torch.Tensor, state: torch.Tensor | None, actions: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: log pi_i(. | s, a_<i) [B, n, A] and V_i(s, a_<i) [B, n]."""
        obs, order = self.split_priority(obs)
        state_rep, obs_rep = self.encode(obs, state)
        onehot = nn.functional.one_hot(actions.long(), self.shape.n_actions).float()
        logits, values = self.heads(state_rep, obs_rep, onehot, order)
        return torch.log_softmax(masked_logits(logits, mask), dim=-1), values

    # ----------------------------------------------------------------- rollout: n passes
    @torch.no_grad()
    def decode(self, obs: torch.Tensor, state: torch.Tensor | None, mask: torch.Tensor | None, deterministic: bool = False,
               uniform: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Autoregressive decoding, agent by agent: returns actions, their log-probs and V_i, all [B, n].

        The ITB runs once; the OTB runs n times, pass i over the i+1 positions agent i may see (by
        causality the later positions could not change its output), and only agent i's actor head is
        read. The critics need no pass of their own: the last pass already holds every ``(s, a_<i)``.
        An unavailable action has probability exactly 0, so it is never sampled. With a priority
        ``order`` the loop runs over decoding positions and results go back to agent order.
        ``uniform`` [n] bool: those positions sample uniformly over their available actions instead
        (a leader waiting for its followers, ``PPOConfig.follower_first``); not in greedy decoding.
        """
        b, n = obs.shape[0], self.shape.n_agents
        obs, order = self.split_priority(obs)
        state_rep, obs_rep = self.encode(obs, state)
        if order is not None:
            obs_rep = take_agents(obs_rep, order)
            mask = None if mask is None else take_agents(mask, order)
        onehot = torch.zeros(b, n, self.shape.n_actions)
        actions = torch.zeros(b, n, dtype=torch.long)
        logp = torch.zeros(b, n)
        h = obs_rep
        for i in range(n):
            h = self.head_input(self.otb_pass(state_rep, onehot[:, :i]), obs_rep[:, : i + 1])
            logits = self.actor(h[:, i])
            if uniform is not None and uniform[i] and not deterministic:
                logits = torch.zeros_like(logits)
            log_probs = torch.log_softmax(masked_logits(logits, None if mask is None else mask[:, i]), dim=-1)
            a = log_probs.argmax(-1) if deterministic else torch.multinomial(log_probs.exp(), 1).squeeze(-1)
            actions[:, i], logp[:, i] = a, log_probs.gather(-1, a.unsqueeze(-1)).squeeze(-1)
            onehot[:, i] = nn.functional.one_hot(a, self.shape.n_actions).float()
        values = self.critic(h).squeeze(-1)
        if order is not None:
            rank = order.argsort(-1)
            actions, logp, values = take_agents(actions, rank), take_agents(logp, rank), take_agents(values, rank)
        return actions, logp, values

    def config(self) -> dict:
        return asdict(self.shape)
