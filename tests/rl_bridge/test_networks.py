"""STEER, MAT, STEP-hypernetwork and MLP networks: shapes, masks, causality, teacher forcing."""

from __future__ import annotations

from tests.rl_bridge.conftest import require_torch

require_torch()

import pytest  # noqa: E402
import torch  # noqa: E402

from rl_bridge.networks.hyper import HyperPolicy, HyperShape  # noqa: E402
from rl_bridge.networks.mat import MATNet, MATShape  # noqa: E402
from rl_bridge.networks.steer import SteerNet, SteerShape  # noqa: E402

pytestmark = pytest.mark.torch
B, N, OBS, STATE, A = 64, 5, 7, 11, 6


def steer(state_token: str = "learned") -> SteerNet:
    torch.manual_seed(0)
    return SteerNet(SteerShape(N, OBS, A, STATE, d=32, state_token=state_token))


def random_mask(b: int = B) -> torch.Tensor:
    mask = torch.rand(b, N, A) < 0.4
    mask[torch.arange(b), :, torch.randint(0, A, (b,))] = True  # at least one action each
    return mask


def perturbed(net):
    """Freshly initialised heads output near-uniform policies (gain 0.01); shake the weights so
    that a dependence on earlier actions, if wired in, shows up clearly."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net


def inputs(b: int = B) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(1)
    return torch.randn(b, N, OBS), torch.randn(b, STATE)


def sequential_nets() -> dict[str, object]:
    torch.manual_seed(0)
    return {
        "steer": steer(),
        "steer_state_token": steer("state"),
        "mat": MATNet(MATShape(N, OBS, A, d=32)),
        "step": HyperPolicy(HyperShape(N, OBS, A, hidden=32)),
    }


def decode(name: str, net, obs, state, mask, deterministic=False):
    if name.startswith("steer"):
        return net.decode(obs, state, mask, deterministic)
    if name == "mat":
        return net.decode(obs, mask, deterministic)
    actions, logp = net.decode(obs, mask, deterministic)
    return actions, logp, None


def evaluate(name: str, net, obs, state, actions, mask):
    if name.startswith("steer"):
        return net.evaluate(obs, state, actions, mask)
    if name == "mat":
        return net.evaluate(obs, actions, mask)
    logp, entropy = net.evaluate(obs, actions, mask)
    return logp, entropy, None


@pytest.mark.parametrize("name", ["steer", "steer_state_token", "mat", "step"])
def test_output_shapes(name: str) -> None:
    net = sequential_nets()[name]
    obs, state = inputs()
    actions, logp, values = decode(name, net, obs, state, None)
    assert actions.shape == (B, N) and actions.dtype == torch.long and logp.shape == (B, N)
    assert values is None or values.shape == (B, N)
    logp2, entropy, values2 = evaluate(name, net, obs, state, actions, None)
    assert logp2.shape == entropy.shape == (B, N)
    assert values2 is None or values2.shape == (B, N)


@pytest.mark.parametrize("name", ["steer", "mat", "step"])
def test_masked_actions_are_never_sampled(name: str) -> None:
    net = sequential_nets()[name]
    obs, state = inputs(512)
    mask = random_mask(512)
    for _ in range(5):
        actions, logp, _ = decode(name, net, obs, state, mask)
        assert mask.gather(-1, actions.unsqueeze(-1)).all()
        assert torch.isfinite(logp).all()


def test_masked_actions_have_zero_probability_in_teacher_forcing() -> None:
    net = steer()
    obs, state = inputs()
    mask = random_mask()
    actions, _, _ = net.decode(obs, state, mask)
    probs = net.log_policy(obs, state, actions, mask).exp()
    assert (probs[~mask] == 0).all()
    assert torch.allclose(probs.sum(-1), torch.ones(B, N))


@pytest.mark.parametrize("name", ["steer", "mat", "step"])
def test_policy_i_ignores_actions_of_agent_i_and_later(name: str) -> None:
    """Causality: changing a_j for j >= i leaves pi_i (and STEER's V_i) unchanged."""
    net = perturbed(sequential_nets()[name])
    obs, state = inputs()
    torch.manual_seed(2)
    actions = torch.randint(0, A, (B, N))
    for i in range(N):
        changed = actions.clone()
        changed[:, i:] = torch.randint(0, A, (B, N - i))
        assert (changed[:, i:] != actions[:, i:]).any()
        base = evaluate(name, net, obs, state, actions, None)
        other = evaluate(name, net, obs, state, changed, None)
        # pi_i's entropy is a function of pi_i alone; log pi_j(a_j) for j < i uses unchanged a_j.
        assert torch.allclose(base[1][:, : i + 1], other[1][:, : i + 1], atol=1e-6)
        assert torch.allclose(base[0][:, :i], other[0][:, :i], atol=1e-6)
        if base[2] is not None and name == "steer":
            assert torch.allclose(base[2][:, : i + 1], other[2][:, : i + 1], atol=1e-6)
    # ... and the decoder really does look at earlier actions (otherwise the test above is empty).
    changed = actions.clone()
    changed[:, 0] = (actions[:, 0] + 1) % A
    assert not torch.allclose(evaluate(name, net, obs, state, actions, None)[1][:, 1:],
                              evaluate(name, net, obs, state, changed, None)[1][:, 1:])


@pytest.mark.parametrize("name", ["steer", "steer_state_token", "mat", "step"])
def test_teacher_forced_log_probs_equal_autoregressive(name: str) -> None:
    net = sequential_nets()[name]
    obs, state = inputs()
    mask = random_mask()
    actions, logp, values = decode(name, net, obs, state, mask)
    logp_tf, _, values_tf = evaluate(name, net, obs, state, actions, mask)
    assert torch.allclose(logp, logp_tf, atol=1e-5)
    if values is not None:
        assert torch.allclose(values, values_tf, atol=1e-5)


def test_greedy_decode_picks_the_most_likely_available_action() -> None:
    net = steer()
    obs, state = inputs()
    mask = random_mask()
    actions, _, _ = net.decode(obs, state, mask, deterministic=True)
    probs = net.log_policy(obs, state, actions, mask).exp()
    assert torch.equal(probs.argmax(-1), actions)


def test_steer_critic_gives_one_value_per_agent_prefix() -> None:
    """V_i(s, a_<i): the follower's value moves with the leader's action, the leader's does not."""
    net = perturbed(steer())
    obs, state = inputs()
    actions = torch.zeros(B, N, dtype=torch.long)
    changed = actions.clone()
    changed[:, 0] = 1
    _, _, v = net.evaluate(obs, state, actions, None)
    _, _, v2 = net.evaluate(obs, state, changed, None)
    assert torch.allclose(v[:, 0], v2[:, 0], atol=1e-6)
    assert not torch.allclose(v[:, 1], v2[:, 1])
