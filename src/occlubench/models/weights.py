"""Loading user-supplied weights without unpickling arbitrary objects."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import torch
from torch import nn

from occlubench.errors import ConfigError


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a ``.safetensors`` file or a ``.pt``/``.pth`` state dict (``torch.load(weights_only=True)``)."""
    if not path.is_file():
        raise ConfigError(f"weights file not found: {path}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            with warnings.catch_warnings():  # torch's notes on pickle protocols: noise next to the error below
                warnings.simplefilter("ignore")
                state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:  # torch.load's own message suggests weights_only=False: never do that
        if "weights only" not in str(exc).lower():
            raise ConfigError(f"cannot read weights {path}: not a .safetensors file or a torch state dict") from None
        raise ConfigError(
            f"cannot read weights {path}: it holds pickled objects, not just tensors, and is not unpickled",
            "occlubench reads .safetensors or a plain state dict of tensors, never arbitrary pickles",
        ) from None
    except Exception as exc:  # any parse failure is the user's file, not our bug
        raise ConfigError(f"cannot read weights {path}: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"{path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_into(net: nn.Module, state: dict[str, torch.Tensor], source: str) -> list[str]:
    """Load matching tensors into ``net``; tensors of another shape (e.g. a 1000-class head) are skipped.

    Returns:
        The names of the parameters that kept their initial values (so the caller can say so).

    Raises:
        ConfigError: if nothing in ``state`` matches the network.
    """
    own = net.state_dict()
    if all(k.startswith("net.") for k in state):  # a checkpoint of a whole ModelSpec
        state = {k.removeprefix("net."): v for k, v in state.items()}
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not usable:
        raise ConfigError(
            f"no tensor in {source} matches the network's parameters", "is it a checkpoint of this model?"
        )
    net.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))
