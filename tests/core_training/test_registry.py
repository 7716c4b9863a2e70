"""The registry: in-repo "module:attr" map, entry points, clashes, and helpful errors."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from dataclasses import dataclass, field, replace

import pytest

from core_training import registry
from core_training.registry import RegistryError, UnknownVerticalError, VerticalInfo, get_vertical, list_verticals


@dataclass
class FakeEntryPoint:
    name: str
    value: str
    dist: object = field(default_factory=lambda: types.SimpleNamespace(name="vkit-legal"))


@pytest.fixture
def fake_world(monkeypatch, toy_vertical):
    """In-repo: 'toy' (present) and 'ghost' (module missing); entry point: 'legal' from vkit-legal."""
    module = types.ModuleType("fake_verticals_mod")
    module.VERTICAL = toy_vertical
    module.LEGAL = replace(toy_vertical, name="legal")
    module.NOT_A_VERTICAL = {"name": "toy"}
    monkeypatch.setitem(sys.modules, "fake_verticals_mod", module)
    in_repo = {"toy": "fake_verticals_mod:VERTICAL", "ghost": "no_such_pkg.ghost:VERTICAL"}
    monkeypatch.setattr(registry, "IN_REPO", in_repo)
    entry_points = [FakeEntryPoint("legal", "fake_verticals_mod:LEGAL")]

    def fake_entry_points(group=None):
        assert group == registry.ENTRY_POINT_GROUP
        return list(entry_points)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    return entry_points


def test_list_verticals_skips_missing_in_repo_modules(fake_world):
    assert list_verticals() == [
        VerticalInfo("legal", "entry point vkit-legal", "fake_verticals_mod:LEGAL"),
        VerticalInfo("toy", "in-repo", "fake_verticals_mod:VERTICAL"),
    ]


def test_get_vertical_from_in_repo_and_entry_point(fake_world, toy_vertical):
    assert get_vertical("toy") is toy_vertical
    assert get_vertical("legal").name == "legal"


def test_get_vertical_by_target(fake_world, toy_vertical):
    assert get_vertical("fake_verticals_mod:VERTICAL") is toy_vertical


def test_unknown_name_suggests_close_names(fake_world):
    with pytest.raises(UnknownVerticalError) as err:
        get_vertical("tooy")
    assert str(err.value) == "unknown vertical 'tooy' (did you mean 'toy'?); available: legal, toy"
    assert isinstance(err.value, KeyError)


def test_missing_in_repo_module_is_reported(fake_world):
    with pytest.raises(UnknownVerticalError, match="'ghost' is not present: no module 'no_such_pkg.ghost'"):
        get_vertical("ghost")


def test_entry_point_clash_with_in_repo_is_an_error_for_that_name_only(fake_world):
    fake_world.append(FakeEntryPoint("toy", "other_pkg:VERTICAL", types.SimpleNamespace(name="vkit-toy2")))
    with pytest.raises(RegistryError, match="'toy' is claimed twice: in-repo .* and entry point vkit-toy2"):
        get_vertical("toy")
    assert get_vertical("legal").name == "legal"  # one package's clash does not take the others down
    assert [i.name for i in list_verticals()] == ["legal", "toy"]


def test_a_name_claimed_three_times_names_every_claimant(fake_world):
    for dist in ("vkit-legal2", "vkit-legal3"):
        fake_world.append(FakeEntryPoint("legal", f"{dist.replace('-', '_')}:LEGAL", types.SimpleNamespace(name=dist)))
    with pytest.raises(RegistryError) as err:
        get_vertical("legal")
    assert str(err.value) == (
        "vertical name 'legal' is claimed 3 times: entry point vkit-legal (fake_verticals_mod:LEGAL), "
        "entry point vkit-legal2 (vkit_legal2:LEGAL) and entry point vkit-legal3 (vkit_legal3:LEGAL); "
        "rename all but one")


def test_an_absent_in_repo_vertical_claims_nothing(fake_world, monkeypatch, toy_vertical):
    monkeypatch.setattr(sys.modules["fake_verticals_mod"], "GHOST", replace(toy_vertical, name="ghost"), raising=False)
    fake_world.append(FakeEntryPoint("ghost", "fake_verticals_mod:GHOST", types.SimpleNamespace(name="vkit-ghost")))
    assert get_vertical("ghost").name == "ghost"  # in-repo 'ghost' is not installed, so the entry point is no clash


def test_entry_point_clash_between_distributions_is_an_error(fake_world):
    fake_world.append(FakeEntryPoint("legal", "other_pkg:LEGAL", types.SimpleNamespace(name="vkit-legal2")))
    with pytest.raises(RegistryError, match="entry point vkit-legal .* and entry point vkit-legal2"):
        get_vertical("legal")


def test_same_target_registered_twice_is_not_a_clash(fake_world):
    fake_world.append(FakeEntryPoint("toy", "fake_verticals_mod:VERTICAL"))
    assert [i.name for i in list_verticals()] == ["legal", "toy"]


def test_target_that_is_not_a_vertical_is_a_type_error(fake_world, monkeypatch):
    monkeypatch.setitem(registry.IN_REPO, "bad", "fake_verticals_mod:NOT_A_VERTICAL")
    with pytest.raises(TypeError, match="fake_verticals_mod:NOT_A_VERTICAL .* is a dict, not a Vertical"):
        get_vertical("bad")


def test_registered_name_must_match_vertical_name(fake_world, monkeypatch):
    monkeypatch.setitem(registry.IN_REPO, "alias", "fake_verticals_mod:VERTICAL")
    with pytest.raises(ValueError, match="registered as 'alias' but its Vertical.name is 'toy'"):
        get_vertical("alias")


def test_shipped_map_uses_module_attr_strings():
    assert set(registry.IN_REPO) == {"gaokao", "auto", "realestate"}
    assert all(target == f"verticals.{name}:VERTICAL" for name, target in registry.IN_REPO.items())


def test_real_entry_point_group_is_readable():
    assert all(isinstance(info, VerticalInfo) for info in list_verticals())


def test_missing_attribute_names_the_target(fake_world, monkeypatch):
    monkeypatch.setitem(registry.IN_REPO, "half", "fake_verticals_mod:NOT_YET")
    with pytest.raises(AttributeError, match="target 'fake_verticals_mod:NOT_YET': .* has no attribute 'NOT_YET'"):
        get_vertical("half")


# --------------------------------------------------------------------------- `vkit verticals` with a broken one


def test_load_verticals_keeps_going_past_a_broken_registration(fake_world, monkeypatch, tmp_path):
    (tmp_path / "vkit_fake_broken.py").write_text("import nonexistent_dependency_of_vkit_fake\nVERTICAL = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_world.append(FakeEntryPoint("broken", "vkit_fake_broken:VERTICAL", types.SimpleNamespace(name="vkit-broken")))
    monkeypatch.setitem(registry.IN_REPO, "bad", "fake_verticals_mod:NOT_A_VERTICAL")
    results = {r.info.name: r for r in registry.load_verticals()}
    assert sorted(results) == ["bad", "broken", "legal", "toy"]
    assert results["legal"].vertical.name == "legal" and results["toy"].error is None
    line = results["broken"].error_line
    assert line.startswith("ModuleNotFoundError: No module named 'nonexistent_dependency_of_vkit_fake'")
    assert "vkit_fake_broken.py:1" in line  # where it was raised
    assert results["bad"].error_line == "TypeError: fake_verticals_mod:NOT_A_VERTICAL (in-repo) is a dict, not a Vertical"


def test_vkit_verticals_lists_the_others_and_shows_the_broken_one(fake_world, monkeypatch, tmp_path, capsys):
    from core_training import cli
    from core_training.cli import main

    monkeypatch.setattr(cli, "_command_plugins", list)  # the fake entry points only know vkit.verticals

    (tmp_path / "vkit_fake_broken.py").write_text("raise RuntimeError('plugin init failed\\nsecond line')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    fake_world.append(FakeEntryPoint("broken", "vkit_fake_broken:VERTICAL", types.SimpleNamespace(name="vkit-broken")))
    assert main(["verticals"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("broken") and "entry point vkit-broken" in lines[0]
    assert "BROKEN: cannot load vkit_fake_broken:VERTICAL" in lines[0]
    assert lines[1].split()[:4] == ["error:", "RuntimeError:", "plugin", "init"] and "second line" not in out
    assert any(line.startswith("legal") for line in lines) and any(line.startswith("toy") for line in lines)
    assert "1 of 3 verticals failed to load: broken" in err
    assert main(["verticals", "--strict"]) == 1


def test_vkit_verticals_lists_a_clash_as_broken_and_the_rest(fake_world, monkeypatch, capsys):
    from core_training import cli
    from core_training.cli import main

    monkeypatch.setattr(cli, "_command_plugins", list)
    fake_world.append(FakeEntryPoint("toy", "other_pkg:VERTICAL", types.SimpleNamespace(name="vkit-toy2")))
    assert main(["verticals"]) == 0
    out, err = capsys.readouterr()
    toy = next(line for line in out.splitlines() if line.startswith("toy"))
    assert "BROKEN" in toy and "RegistryError: vertical name 'toy' is claimed twice" in out
    assert any(line.startswith("legal") and "BROKEN" not in line for line in out.splitlines())
    assert "1 of 2 verticals failed to load: toy" in err


def test_vkit_verticals_strict_passes_when_all_load(fake_world, monkeypatch, capsys):
    from core_training import cli
    from core_training.cli import main

    monkeypatch.setattr(cli, "_command_plugins", list)

    assert main(["verticals", "--strict"]) == 0
    assert capsys.readouterr().err == ""


def test_vkit_verticals_with_a_broken_installed_distribution(tmp_path):
    """A real (fake) distribution on the path: dist-info with a `vkit.verticals` entry point, module broken."""
    import os
    import subprocess

    (tmp_path / "vkit_broken_demo").mkdir()
    (tmp_path / "vkit_broken_demo" / "__init__.py").write_text("import vkit_missing_dependency_xyz\n")
    info = tmp_path / "vkit_broken_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vkit-broken-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vkit.verticals]\nbrokendemo = vkit_broken_demo:VERTICAL\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    for name in ("VKIT_GAOKAO_GRAPH", "VKIT_AUTO_GRAPH", "VKIT_REALESTATE_GRAPH"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "verticals"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "brokendemo   entry point vkit-broken-demo" in proc.stdout
    assert "ModuleNotFoundError: No module named 'vkit_missing_dependency_xyz'" in proc.stdout
    assert all(f"\n{name} " in "\n" + proc.stdout for name in ("gaokao", "auto", "realestate"))
    assert "failed to load: brokendemo" in proc.stderr


def test_a_broken_command_plugin_is_skipped_with_a_warning(monkeypatch, tmp_path, capsys):
    """A vkit.commands plugin that fails to import, or raises while registering, is named on stderr and
    skipped; the core's own commands and the healthy plugins still work."""
    import importlib.metadata

    from core_training.cli import main

    (tmp_path / "vkit_fake_cmds.py").write_text(
        "def good(sub):\n    sub.add_parser('hello').set_defaults(fn=lambda a: print('hi') or 0)\n"
        "def bad(sub):\n    raise ValueError('register exploded')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [importlib.metadata.EntryPoint(name, value, "vkit.commands") for name, value in
           [("a-missing", "nonexistent_module_of_vkit:register"), ("b-bad", "vkit_fake_cmds:bad"),
            ("c-good", "vkit_fake_cmds:good")]]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: eps if group == "vkit.commands" else [])

    assert main(["hello"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "hi"
    assert "skipping the vkit.commands plugin a-missing = nonexistent_module_of_vkit:register: ModuleNotFoundError" in err
    assert "skipping the vkit.commands plugin vkit_fake_cmds.bad: ValueError: register exploded" in err
