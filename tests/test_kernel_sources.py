"""Kernel sources: op codes are the Python enums' values, each defined once; shared loops are
written once (no GPU needed)."""
from __future__ import annotations

import pathlib
import re

import pytest

from deepx.backend import ArgReduceOp, BinaryOp, ReduceOp, UnaryOp

KERNELS = pathlib.Path(__file__).resolve().parents[1] / "kernels"
DEFINE = re.compile(r"^#define (UNARY|BINARY|REDUCE|ARGREDUCE)_([A-Z0-9_]+) (\d+)$", re.M)
ENUMS = {"UNARY": UnaryOp, "BINARY": BinaryOp, "REDUCE": ReduceOp, "ARGREDUCE": ArgReduceOp}


def _defines():
    found = {}
    for path in sorted(KERNELS.glob("*.cl")) + sorted(KERNELS.glob("*.h")):
        for family, name, value in DEFINE.findall(path.read_text()):
            found.setdefault((family, name), []).append((path.name, int(value)))
    return found


def test_every_op_code_define_matches_its_enum_and_is_written_once():
    found = _defines()
    assert found, "no op-code #defines found"
    for (family, name), places in found.items():
        assert len(places) == 1, f"{family}_{name} is defined in {places}"
        enum = ENUMS[family]
        assert name in enum.__members__, f"{family}_{name} has no {enum.__name__} member"
        assert enum[name] == places[0][1], (family, name, places, int(enum[name]))


@pytest.mark.parametrize("family", ["UNARY", "BINARY", "REDUCE", "ARGREDUCE"])
def test_every_enum_member_has_its_kernel_define(family):
    found = _defines()
    missing = [m for m in ENUMS[family].__members__ if (family, m) not in found]
    assert not missing, f"{family} ops without a kernel #define: {missing}"


# A loop that halves a stride (>>= 1 or /= 2) with a barrier in its body: the local-memory tree.
TREE_LOOP = re.compile(r"for \(.{0,120}?(>>= ?1|/= ?2)\).{0,400}?barrier\(", re.S)


def test_the_local_memory_tree_loop_is_written_once_in_tree_h():
    """reduce.cl, softmax.cl and norm.cl reduce through tree.h (TREE_FOLD, group_reduce)."""
    found = {path.name: len(TREE_LOOP.findall(path.read_text()))
             for path in sorted(KERNELS.glob("*.cl")) + sorted(KERNELS.glob("*.h"))}
    assert {name: n for name, n in found.items() if n} == {"tree.h": 1}, found


def test_optimizer_slot_count_matches_the_kernels():
    """The host fills kernels/optim.cl's OPTIM_SLOTS pointer slots per multi-tensor launch."""
    from deepx.backend.opencl.optim_primitives import OPTIM_SLOTS

    source = (KERNELS / "optim.cl").read_text()
    assert re.search(r"^#define OPTIM_SLOTS (\d+)$", source, re.M).group(1) == str(OPTIM_SLOTS)
    args = re.search(r"#define SLOT_ARGS\(T, x\)(.*?\n.*?)\n", source).group(1)
    assert re.findall(r"x##(\d+)", args) == [str(i) for i in range(OPTIM_SLOTS)]
    pick = re.search(r"#define SLOT_PICK\(x, s\)((?:.*\\\n)*.*)\n", source).group(1)
    assert sorted(map(int, re.findall(r"x##(\d+)", pick))) == list(range(OPTIM_SLOTS))
    slot_of = re.search(r"#define SLOT_OF\(s, n, i0\)((?:.*\\\n)*.*)\n", source).group(1)
    assert sorted(map(int, re.findall(r"start(\d+)", slot_of))) == list(range(1, OPTIM_SLOTS))
