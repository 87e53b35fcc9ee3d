"""The flat-tuple shortcuts of lamina/data/structure.py give what the general nested path gives."""

import collections

import numpy as np
import torch

from lamina.data import structure

Point = collections.namedtuple("Point", ["x", "y"])


def test_flat_tuples_flatten_and_rebuild_like_nested_ones():
    a, b = np.zeros(2), torch.ones(3)
    assert structure.flatten((a, b)) == [a, b]
    nested = (a, (b, {"k": a}))
    assert [id(v) for v in structure.flatten(nested)] == [id(a), id(b), id(a)]
    treedef = structure.treedef_of((a, b))
    rebuilt = treedef.unflatten([b, a])
    assert type(rebuilt) is tuple and rebuilt[0] is b and rebuilt[1] is a
    point = structure.treedef_of(Point(a, b)).unflatten([b, a])
    assert type(point) is Point and point.x is b


def test_normalize_element_converts_python_values_in_flat_tuples():
    a = np.zeros(2, dtype="float32")
    same = (a, torch.ones(1))
    assert structure.normalize_element(same) is same  # nothing to convert: returned as is
    converted = structure.normalize_element((a, [1.5, 2.5], 3))
    assert converted[0] is a
    assert converted[1].dtype == np.float32 and converted[2].dtype == np.int32  # tf's default dtypes
    assert structure.flatten(([1, 2], a))[0] == [1, 2]  # a list is a leaf, not a nested structure
