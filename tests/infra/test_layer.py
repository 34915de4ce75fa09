"""The dependencies layer as deployed (arm64, Python 3.13): it cannot run on this machine, so
its contents are checked: wheels for the Lambda's platform only, exactly the lock's versions,
nothing shadowing the runtime's SDK or the Powertools layer, and a size within Lambda's quota.
"""

from __future__ import annotations

import struct
import subprocess
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging import tags

from infra.layer_build import TARGET, LayerBuild, canonical_name, read_pins
from infra.lock import provided_names
from infra.runtime import (
    CPU,
    LAMBDA_UNZIPPED_LIMIT_BYTES,
    LAYER_LOCK,
    MANYLINUX,
    PYTHON_VERSION,
    REPO_ROOT,
)
from tests.infra.layers import runtime_and_powertools, target_layer, tree_bytes

pytestmark = pytest.mark.xdist_group("layer")

ELF_MACHINE = {"aarch64": 183, "x86_64": 62}  # e_machine (EM_AARCH64, EM_X86_64)


def dist_infos(site: Path) -> dict[str, Path]:
    """``{canonical project name: its .dist-info folder}`` of a ``--target`` install."""
    return {
        canonical_name(HeaderParser().parsestr((d / "METADATA").read_text())["Name"]): d
        for d in site.glob("*.dist-info")
    }


def top_level_names(site: Path) -> set[str]:
    """What a folder puts on ``sys.path``: packages and modules, metadata and scripts aside."""
    return {
        p.name.removesuffix(".py")
        for p in site.iterdir()
        if not p.name.endswith((".dist-info", ".libs"))
        and p.name not in {"bin", "share"}
        and not p.name.startswith("__")
    }


def supported_tags() -> set[tags.Tag]:
    """Wheel tags the Lambda's CPython accepts: cp313 / abi3 / pure, manylinux up to
    :data:`MANYLINUX` on its CPU."""
    major, minor = (int(n) for n in PYTHON_VERSION.split("."))
    newest = int(MANYLINUX.rsplit("_", 1)[1])
    platforms = [f"manylinux_2_{glibc}_{CPU}" for glibc in range(newest, 16, -1)]
    platforms.append(f"manylinux2014_{CPU}")
    return {
        *tags.cpython_tags((major, minor), platforms=platforms),
        *tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms),
    }


def elf_machine(path: Path) -> int | None:
    """The ELF ``e_machine`` of a file, ``None`` when it is no ELF file."""
    with path.open("rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return None
    return struct.unpack("<H", header[18:20])[0]


def test_the_layer_holds_exactly_the_locked_versions() -> None:
    installed = {
        name: HeaderParser().parsestr((d / "METADATA").read_text())["Version"]
        for name, d in dist_infos(target_layer()).items()
    }
    assert installed == read_pins(LAYER_LOCK)


def test_every_wheel_is_built_for_the_lambda_platform() -> None:
    supported = supported_tags()
    for name, dist_info in dist_infos(target_layer()).items():
        wheel = HeaderParser().parsestr((dist_info / "WHEEL").read_text())
        wheel_tags = {t for line in wheel.get_all("Tag") for t in tags.parse_tag(line)}
        assert wheel_tags & supported, f"{name}: {sorted(map(str, wheel_tags))}"


def test_every_binary_is_for_the_lambda_cpu() -> None:
    machines = {
        p.relative_to(target_layer()): elf_machine(p)
        for p in target_layer().rglob("*")
        if p.is_file() and not p.is_symlink()
    }
    binaries = {path: machine for path, machine in machines.items() if machine is not None}
    assert binaries, "Pillow and fonttools ship compiled modules"
    assert {str(p) for p, m in binaries.items() if m != ELF_MACHINE[CPU]} == set()
    assert not any(p.suffix == ".pyc" for p in machines), "bytecode of this machine's Python"


def test_nothing_shadows_the_runtime_sdk_or_the_powertools_layer() -> None:
    layer = target_layer()
    assert set(dist_infos(layer)) & set(provided_names()) == set()
    provided = runtime_and_powertools()
    assert {"boto3", "botocore", "aws_lambda_powertools", "pydantic"} <= top_level_names(provided)
    assert top_level_names(layer) & top_level_names(provided) == set()


def test_function_and_layers_fit_in_lambda_unzipped_quota() -> None:
    layer = tree_bytes(target_layer())
    # The runtime's SDK counts here too: a generous stand-in for the Powertools layer's size.
    powertools = tree_bytes(runtime_and_powertools())
    code = tree_bytes(REPO_ROOT / "functions") + tree_bytes(REPO_ROOT / "shared")
    print(f"layer {layer / 1e6:.1f} MB, powertools {powertools / 1e6:.1f}, code {code / 1e6:.1f}")
    assert layer + powertools + code <= LAMBDA_UNZIPPED_LIMIT_BYTES


def test_the_build_is_cached_by_the_lock_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    first = TARGET.path()
    assert first.name == TARGET.digest

    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"pip ran again: {args}")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert TARGET.path() == first
    assert LayerBuild(TARGET.platform, "3.12").digest != TARGET.digest
