"""What a newcomer's first `make demo` depends on: clean lock files, the licence, quiet pip calls."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INDEX_OPTION = re.compile(r"^\s*(-i|-f|--index-url|--extra-index-url|--find-links|--trusted-host|--no-index)\b")
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)")


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (REPO / "requirements" / name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            match = PIN.match(line)
            assert match, f"{name}: not pinned: {line!r}"
            found[match.group(1).lower()] = match.group(2)
    return found


def test_lock_files_name_no_index_of_one_machine() -> None:
    for name in ("base.txt", "dev.txt"):
        lines = (REPO / "requirements" / name).read_text().splitlines()
        assert not [line for line in lines if INDEX_OPTION.match(line)], name
        assert not [line for line in lines if "file://" in line or "/opt/" in line], name


def test_lock_files_pin_every_dependency_and_agree() -> None:
    base, dev = pins("base.txt"), pins("dev.txt")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name, version = re.split(r"\[.*\]|==", requirement)[0].lower(), requirement.split("==")[1]
        assert base.get(name) == version and dev.get(name) == version, requirement
    for requirement in project["optional-dependencies"]["dev"]:
        name = re.split(r"\[.*\]|==", requirement)[0].lower()
        assert dev.get(name) == requirement.split("==")[1], requirement
    assert {name: dev[name] for name in base} == base  # dev.txt installs over base.txt without a change


def test_licence_is_an_spdx_string_with_the_full_text() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    assert "AGPL-3.0-or-later" in (REPO / "README.md").read_text()
    text = (REPO / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text and "END OF TERMS AND CONDITIONS" in text
    assert len(text.splitlines()) == 661


def test_pip_wrapper_drops_only_the_partial_mirror_notice() -> None:
    spec = importlib.util.spec_from_file_location("pip_install", REPO / "scripts" / "pip_install.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    noise = (
        "WARNING: Location 'file:///opt/pypi-more/simple/annotated-types/' is ignored: it is neither a file nor a directory.\n"
    )
    assert module.LOCAL_INDEX_MISS.match(noise)
    for kept in (
        "ERROR: Could not find a version that satisfies the requirement django==9.9\n",
        "WARNING: Location '/nowhere' is ignored: it is either a non-existing path or lacks a specific scheme.\n",
        "WARNING: The candidate selected for download or install is a yanked version\n",
    ):
        assert not module.LOCAL_INDEX_MISS.match(kept)
