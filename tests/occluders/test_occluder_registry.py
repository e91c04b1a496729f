"""Registering, creating and listing occluders, and third-party occluders through entry points."""

from __future__ import annotations

import json
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from occlubench.errors import ConfigError, UnknownNameError
from occlubench.occluders import (
    Occluder,
    PixelGrid,
    create_occluder,
    describe_occluders,
    list_occluders,
    occluder_from_spec,
    register_occluder,
    registration,
)
from occlubench.registry import Registry


@pytest.fixture
def scratch_names() -> Iterator[list[str]]:
    """Names a test registers in the global registry; unregistered afterwards so nothing leaks."""
    names: list[str] = []
    yield names
    for name in names:
        registration.OCCLUDERS.unregister(name)


def test_a_subclass_in_a_few_lines(scratch_names: list[str]) -> None:
    scratch_names.append("test_chin_band")

    @register_occluder("test_chin_band")
    class ChinBand(Occluder):
        """Hide the chin: the bottom quarter of the rows."""

        def region(self, grid: PixelGrid, params: dict[str, torch.Tensor]) -> torch.Tensor:
            return grid.rect(top=0.75)

    occ = create_occluder("test_chin_band", fill="gray")
    assert isinstance(occ, ChinBand)
    assert ChinBand.name == "test_chin_band"
    assert describe_occluders()["test_chin_band"] == "Hide the chin: the bottom quarter of the rows."
    y = occ(torch.zeros(1, 1, 48, 48))
    assert torch.all(y[..., 36:, :] == 0.5)
    assert torch.all(y[..., :36, :] == 0.0)
    assert occ.spec() == {"name": "test_chin_band", "params": {"fill": "gray", "p": 1.0, "blur_sigma": 0.08}}
    assert "test_chin_band" in list_occluders("test_*")


def test_list_filters_by_glob() -> None:
    assert list_occluders("quadrant_*") == ["quadrant_tl", "quadrant_tr", "quadrant_bl", "quadrant_br"]
    assert list_occluders("*_band") == ["eyes_band", "nose_band", "mouth_band"]
    assert list_occluders("no-such-*") == []


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownNameError, match="unknown occluder 'uper'") as info:
        create_occluder("uper")
    assert "did you mean" in str(info.value)
    assert "'upper'" in str(info.value)


def test_unknown_parameter_names_the_parameter_and_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match="occluder 'random_patch' has no parameter 'sevrity'") as info:
        create_occluder("random_patch", sevrity=0.3)
    assert "severity" in str(info.value)
    assert "fill" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="has no parameter 'severity'"):
        create_occluder("upper", severity=0.3)


def test_duplicate_names_and_non_occluders_are_refused(scratch_names: list[str]) -> None:
    with pytest.raises(ConfigError, match="already registered"):

        @register_occluder("upper")
        class Again(Occluder):
            """Hide again."""

    with pytest.raises(ConfigError, match="decorates Occluder subclasses"):
        register_occluder("test_not_an_occluder")(int)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="needs a docstring"):

        @register_occluder("test_no_doc")
        class NoDoc(Occluder):
            def region(self, grid: PixelGrid, params: dict[str, torch.Tensor]) -> torch.Tensor:
                return grid.nothing()

    assert "test_no_doc" not in list_occluders()


def test_spec_round_trips_through_json() -> None:
    occ = create_occluder("random_erasing", scale=(0.1, 0.2), ratio=(0.5, 2.0), fill="noise", p=0.7)
    spec = json.loads(json.dumps(occ.spec()))
    assert spec["params"]["scale"] == [0.1, 0.2]
    rebuilt = occluder_from_spec(spec)
    x = torch.rand(8, 1, 48, 48)
    assert torch.equal(
        rebuilt(x, generator=torch.Generator().manual_seed(1)), occ(x, generator=torch.Generator().manual_seed(1))
    )
    with pytest.raises(ConfigError, match="an occluder spec"):
        occluder_from_spec({"params": {}})
    assert "RandomErasing(name='random_erasing', scale=[0.1, 0.2]" in repr(occ)


# ----------------------------------------------------------------------------------------------- entry-point plugins
PLUGIN_MODULES = ("occlubench_test_plugin_ok", "occlubench_test_plugin_bare", "occlubench_test_plugin_broken")


def install_fake_distribution(root: Path, entry_points: str, modules: dict[str, str]) -> None:
    """What ``pip install`` leaves behind, minus pip: modules plus a dist-info with METADATA and entry_points.txt."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist_info = root / "occlubench_test_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: occlubench-test-plugins\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def plugin_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Registry]:
    """A fresh occluder registry, swapped in for the global one, with a throwaway plugin distribution on sys.path."""
    install_fake_distribution(
        tmp_path,
        """
        [occlubench.occluders]
        plugin_stripes = occlubench_test_plugin_ok:Stripes
        plugin_bare = occlubench_test_plugin_bare:BareBand
        plugin_broken = occlubench_test_plugin_broken:Nope
        """,
        {
            # Registers itself with the decorator on import, the way a plugin author writes it.
            "occlubench_test_plugin_ok": """
                from occlubench.occluders import Occluder, register_occluder

                @register_occluder("plugin_stripes")
                class Stripes(Occluder):
                    '''Hide every other row.'''

                    def region(self, grid, params):
                        return grid.row % 2 == 0
            """,
            # No decorator: the registry registers what the entry point names.
            "occlubench_test_plugin_bare": """
                from occlubench.occluders import Occluder

                class BareBand(Occluder):
                    '''Hide the top eighth of the rows.'''

                    def region(self, grid, params):
                        return grid.rect(bottom=0.125)
            """,
            "occlubench_test_plugin_broken": "raise ImportError('this plugin needs a package that is not installed')\n",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh: Registry = Registry("occluder", "occlubench.occluders")
    monkeypatch.setattr(registration, "OCCLUDERS", fresh)
    yield fresh
    for module in PLUGIN_MODULES:
        sys.modules.pop(module, None)


def test_plugins_are_found_and_a_broken_one_is_one_warning(plugin_registry: Registry) -> None:
    with pytest.warns(RuntimeWarning, match="skipped occluder plugin 'plugin_broken'") as caught:
        names = list_occluders()
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    assert "plugin_stripes" in names
    assert "plugin_bare" in names
    assert "plugin_broken" not in names

    stripes = create_occluder("plugin_stripes")
    assert torch.equal(stripes.mask(torch.rand(1, 1, 4, 4))[0, 0, :, 0], torch.tensor([True, False, True, False]))
    bare = create_occluder("plugin_bare")
    assert bare.name == "plugin_bare"
    assert bare.spec()["name"] == "plugin_bare"
    assert bare.hidden_fraction(torch.rand(2, 1, 48, 48)).tolist() == [0.125, 0.125]
    assert describe_occluders()["plugin_bare"] == "Hide the top eighth of the rows."


def test_an_unknown_name_loads_plugins_before_giving_up(plugin_registry: Registry) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert isinstance(create_occluder("plugin_stripes"), Occluder)
        with pytest.raises(UnknownNameError, match="plugin_strpes"):
            create_occluder("plugin_strpes")
