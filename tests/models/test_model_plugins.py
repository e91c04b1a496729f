"""Third-party models through the ``occlubench.models`` entry-point group, as an installed plugin package adds them."""

from __future__ import annotations

import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import occlubench.models as models_package
from occlubench.cli.app import app
from occlubench.errors import ConfigError, UnknownNameError
from occlubench.models import ModelSpec, create_model, describe_models, list_models, registry
from occlubench.registry import Registry

PLUGIN_MODULES = (
    "occlubench_test_model_plugin_ok",
    "occlubench_test_model_plugin_bare",
    "occlubench_test_model_plugin_not_a_spec",
    "occlubench_test_model_plugin_broken",
    "occlubench_test_model_plugin_clash",
)
BROKEN = ("plugin_broken", "plugin_clash")

ENTRY_POINTS = """
[occlubench.models]
plugin_linear = occlubench_test_model_plugin_ok:linear
plugin_bare = occlubench_test_model_plugin_bare:bare_mlp
plugin_not_a_spec = occlubench_test_model_plugin_not_a_spec:raw_net
plugin_broken = occlubench_test_model_plugin_broken:model
plugin_clash = occlubench_test_model_plugin_clash:fer_cnn
"""

PLUGIN_SOURCES = {
    # Registers itself with the decorator on import, the way a plugin author writes it.
    "occlubench_test_model_plugin_ok": """
        from torch import nn
        from occlubench.models import ModelSpec, register_model

        @register_model("plugin_linear")
        def linear(num_classes, weights=None, in_channels=1):
            '''A linear classifier on raw pixels.'''
            net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))
            return ModelSpec(net, in_channels=in_channels, mean=(0.5,) * in_channels, std=(0.5,) * in_channels)
    """,
    # No decorator, no in_channels: the registry registers what the entry point names, create_model adapts.
    "occlubench_test_model_plugin_bare": """
        from torch import nn
        from occlubench.models import ModelSpec

        def bare_mlp(num_classes, weights=None):
            '''A two-layer perceptron for 3-channel images.'''
            net = nn.Sequential(nn.Flatten(), nn.LazyLinear(16), nn.ReLU(), nn.Linear(16, num_classes))
            return ModelSpec(net, in_channels=3, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    """,
    "occlubench_test_model_plugin_not_a_spec": """
        from torch import nn

        def raw_net(num_classes, weights=None):
            '''Returns a bare nn.Module: a plugin bug that create_model must name.'''
            return nn.Linear(4, num_classes)
    """,
    "occlubench_test_model_plugin_broken": "raise ImportError('this plugin needs a package that is not installed')\n",
    # Importing it tries to take a built-in's name: refused, and the plugin is skipped like a broken one.
    "occlubench_test_model_plugin_clash": """
        from occlubench.models import register_model

        @register_model("fer_cnn")
        def fer_cnn(num_classes, weights=None):
            '''Not the real fer_cnn.'''
    """,
}


def install_fake_distribution(root: Path) -> None:
    """What ``pip install`` of a plugin package leaves behind, minus pip: modules plus a dist-info."""
    for module, source in PLUGIN_SOURCES.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist_info = root / "occlubench_test_model_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: occlubench-test-model-plugins\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(ENTRY_POINTS))


@pytest.fixture
def plugin_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A fresh model registry holding the built-ins, swapped in for the global one, with a plugin package installed."""
    fresh: Registry = Registry("model", "occlubench.models")
    for entry in registry.MODELS.entries():  # before the plugin is on sys.path: built-ins only
        fresh.register(entry.name, entry.obj, entry.description)
    install_fake_distribution(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "MODELS", fresh)
    monkeypatch.setattr(models_package, "MODELS", fresh)  # what `occlubench list` reads
    yield fresh
    for module in PLUGIN_MODULES:
        sys.modules.pop(module, None)


def skipped_plugins(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def test_plugin_models_are_listed_and_each_broken_plugin_is_one_warning(plugin_models: Registry) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = list_models()
        assert list_models() == names  # the group is read once: no second round of warnings
    messages = skipped_plugins(caught)
    assert len(messages) == len(BROKEN), messages
    assert any("skipped model plugin 'plugin_broken'" in m and "ImportError" in m for m in messages)
    assert any("skipped model plugin 'plugin_clash'" in m and "already registered" in m for m in messages)
    assert all("\n" not in m for m in messages)

    assert names[: names.index("plugin_linear")] == [n for n in names if not n.startswith("plugin_")]  # after built-ins
    assert {"plugin_linear", "plugin_bare", "plugin_not_a_spec"} <= set(names)
    assert not set(BROKEN) & set(names)
    assert describe_models()["plugin_linear"] == "A linear classifier on raw pixels."
    assert describe_models()["plugin_bare"] == "A two-layer perceptron for 3-channel images."
    assert "Small VGG-style CNN" in describe_models()["fer_cnn"]  # the clashing plugin did not replace it


def test_plugin_models_build_and_classify(plugin_models: Registry) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        linear = create_model("plugin_linear", 7)
        bare = create_model("plugin_bare", 3, in_channels=1)  # the factory takes no in_channels: gray is repeated
    faces = torch.rand(2, 1, 48, 48)
    for spec, classes in ((linear, 7), (bare, 3)):
        assert isinstance(spec, ModelSpec)
        assert spec(faces).shape == (2, classes)
    assert (linear.name, bare.name) == ("plugin_linear", "plugin_bare")
    assert bare.in_channels == 3


def test_plugin_mistakes_are_one_line_errors(plugin_models: Registry) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ConfigError, match="'plugin_not_a_spec' returned Linear, not a ModelSpec"):
            create_model("plugin_not_a_spec", 7)
        with pytest.raises(UnknownNameError, match=r"unknown model 'plugin_linaer'.*did you mean 'plugin_linear'"):
            create_model("plugin_linaer", 7)
        with pytest.raises(UnknownNameError, match="unknown model 'plugin_broken'"):
            create_model("plugin_broken", 7)


def test_plugins_are_read_on_the_first_lookup_of_a_name_that_is_not_built_in(plugin_models: Registry) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert create_model("fer_cnn", 7).name == "fer_cnn"
        assert skipped_plugins(caught) == []  # a built-in name needs no entry points
        assert create_model("plugin_linear", 7).name == "plugin_linear"
        assert len(skipped_plugins(caught)) == len(BROKEN)


def test_occlubench_list_shows_plugin_models_and_one_warning_line_per_broken_plugin(plugin_models: Registry) -> None:
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "plugin_linear" in flat
    assert "A linear classifier on raw pixels." in flat
    assert "plugin_bare" in flat
    warning_lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning_lines) == len(BROKEN), result.stderr
    assert "Traceback" not in result.stderr


def test_a_timm_model_without_timm_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # `import timm` fails, whether or not it is installed
    with pytest.raises(ConfigError, match=r"timm:resnet18 needs timm, which is not installed") as info:
        create_model("timm:resnet18", 7)
    assert "pip install 'occlubench[timm]'" in str(info.value)
    assert "\n" not in str(info.value)
