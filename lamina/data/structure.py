"""Nested element structures, `TensorSpec`, and the leaf rules of `lamina.data`.

An element is a leaf or a nest of tuples (namedtuples included) and dicts whose leaves are
**numpy arrays/scalars or torch tensors**. The rule: a leaf keeps the type it came in with
(numpy stays numpy, torch stays torch). Python values become numpy with tf's conversions
(Python floats -> float32, Python ints -> int32, or int64 when they do not fit; strings ->
numpy `str_` arrays). Lists are values, not structure (as in tf.data).

Example:
    >>> leaves, treedef = flatten_with_treedef({"a": 1, "b": (2, 3)})
    >>> treedef.unflatten(leaves)
    {'a': 1, 'b': (2, 3)}
"""

import numpy as np
import torch

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class TreeDef:
    """Shape of a nested structure: `kind` is 'leaf', 'tuple', 'namedtuple' or 'dict'."""

    __slots__ = ("kind", "children", "keys", "cls", "num_leaves", "_flat_tuple")

    def __init__(self, kind, children=(), keys=None, cls=None):
        self.kind, self.children, self.keys, self.cls = kind, tuple(children), keys, cls
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in self.children)
        self._flat_tuple = kind == "tuple" and all(c.kind == "leaf" for c in self.children)

    def unflatten(self, leaves):
        """Rebuild the structure from a flat list of leaves."""
        if self.kind == "leaf":
            return leaves[0]
        if self._flat_tuple:  # the common `(x, y)` element: no recursion
            return tuple(leaves)
        return self._build(iter(leaves))

    def _build(self, it):
        if self.kind == "leaf":
            return next(it)
        values = [c._build(it) for c in self.children]
        if self.kind == "tuple":
            return tuple(values)
        if self.kind == "namedtuple":
            return self.cls(*values)
        return self.cls(zip(self.keys, values))

    def __eq__(self, other):
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.keys == other.keys
                and self.children == other.children)

    def __hash__(self):
        return hash((self.kind, self.keys, self.children))

    def __repr__(self):
        return f"TreeDef({self.to_json()})"

    def to_json(self):
        """A JSON-able description (namedtuples are stored as tuples)."""
        if self.kind == "leaf":
            return "*"
        children = [c.to_json() for c in self.children]
        if self.kind == "dict":
            return {"keys": list(self.keys), "children": children}
        return children

    @classmethod
    def from_json(cls, obj):
        """Inverse of `to_json`."""
        if obj == "*":
            return cls("leaf")
        if isinstance(obj, dict):
            return cls("dict", [cls.from_json(c) for c in obj["children"]], tuple(obj["keys"]), dict)
        return cls("tuple", [cls.from_json(c) for c in obj])


LEAF = TreeDef("leaf")
_NESTED = (tuple, dict)
_ARRAYS = (np.ndarray, np.generic, torch.Tensor)


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def treedef_of(struct):
    """The `TreeDef` of a nested structure."""
    if isinstance(struct, tuple):
        kind = "namedtuple" if _is_namedtuple(struct) else "tuple"
        return TreeDef(kind, [treedef_of(v) for v in struct], cls=type(struct) if kind == "namedtuple" else None)
    if isinstance(struct, dict):
        return TreeDef("dict", [treedef_of(v) for v in struct.values()], tuple(struct.keys()), type(struct))
    return LEAF


def flatten(struct):
    """Leaves of a nested structure, depth first (dicts in insertion order)."""
    if type(struct) is tuple:
        for v in struct:
            if isinstance(v, _NESTED):
                break
        else:
            return list(struct)  # a flat tuple, e.g. `(x, y)`: one pass, no recursion
    if isinstance(struct, tuple):
        return [leaf for v in struct for leaf in flatten(v)]
    if isinstance(struct, dict):
        return [leaf for v in struct.values() for leaf in flatten(v)]
    return [struct]


def flatten_with_treedef(struct):
    """`(flatten(struct), treedef_of(struct))`."""
    return flatten(struct), treedef_of(struct)


def flatten_up_to(treedef, struct, what="value"):
    """Flatten `struct` only down to the leaves of `treedef` (a leaf position may hold anything)."""
    if treedef.kind == "leaf":
        return [struct]
    if treedef.kind == "dict":
        if not isinstance(struct, dict) or set(struct) != set(treedef.keys):
            raise ValueError(f"The structure of `{what}` does not match the dataset element: expected a "
                             f"dict with keys {list(treedef.keys)}, received {struct!r}.")
        return [x for k, c in zip(treedef.keys, treedef.children) for x in flatten_up_to(c, struct[k], what)]
    if not isinstance(struct, (tuple, list)) or len(struct) != len(treedef.children):
        raise ValueError(f"The structure of `{what}` does not match the dataset element: expected a "
                         f"sequence of {len(treedef.children)} items, received {struct!r}.")
    return [x for c, s in zip(treedef.children, struct) for x in flatten_up_to(c, s, what)]


def map_structure(fn, struct):
    """Apply `fn` to every leaf of `struct`, keeping the structure."""
    leaves, treedef = flatten_with_treedef(struct)
    return treedef.unflatten([fn(x) for x in leaves])


# ---------------------------------------------------------------- leaves and dtypes


def to_leaf(value):
    """Normalise one leaf value: numpy and torch stay as they are, Python values become numpy."""
    if isinstance(value, (np.ndarray, np.generic, torch.Tensor)):
        return value
    if isinstance(value, str):
        return np.str_(value)
    if isinstance(value, bytes):
        return np.bytes_(value)
    if hasattr(value, "__array__") and not isinstance(value, (list, tuple)):
        return np.asarray(value)
    array = np.asarray(value)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype == np.int64 and (array.size == 0 or (array.min() >= _INT32_MIN and array.max() <= _INT32_MAX)):
        return array.astype(np.int32)
    return array


def normalize_element(element):
    """Normalise every leaf of an element with `to_leaf`."""
    if isinstance(element, _ARRAYS):
        return element
    if type(element) is tuple:
        for v in element:
            if not isinstance(v, _ARRAYS):
                break
        else:
            return element  # already a flat tuple of arrays: nothing to convert
    return map_structure(to_leaf, element)


def dtype_name(value_or_dtype):
    """Keras-style dtype name of a leaf or dtype: 'float32', 'int64', 'bool', 'string', ..."""
    dtype = getattr(value_or_dtype, "dtype", value_or_dtype)
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if dtype in (str, bytes, "str", "string", "bytes", object, "object"):
        return "string"
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        name = str(dtype).replace("torch.", "")
        if name in ("bfloat16",):
            return name
        raise TypeError(f"Unknown dtype {dtype!r}: expected a numpy/torch dtype or a name like 'float32'.") from None
    if np_dtype.kind in "USO":
        return "string"
    return np_dtype.name


def numpy_dtype(name):
    """numpy dtype for a dtype name; None for 'string' (the value's own string type is kept)."""
    return None if name == "string" else np.dtype(name)


def leaf_shape(value):
    """Shape of a leaf as a tuple of ints."""
    return tuple(value.shape)


def _category(name):
    if name == "bool":
        return "bool"
    if name == "string":
        return "string"
    if name.startswith(("int", "uint")):
        return "int"
    if name.startswith(("float", "bfloat")):
        return "float"
    return "complex"


def can_cast(received, expected):
    """tf's rule for converting a yielded value to a declared dtype (ints -> floats, not back)."""
    if received == expected:
        return True
    got, want = _category(received), _category(expected)
    order = {"int": 0, "float": 1, "complex": 2}
    return got in order and want in order and order[got] <= order[want]


# ---------------------------------------------------------------- specs


class TensorShape(tuple):
    """A shape tuple whose entries are ints or None, with tf's `as_list()` and `rank`."""

    def as_list(self):
        return list(self)

    @property
    def rank(self):
        return len(self)


class TensorSpec:
    """Describes one leaf of a dataset element: `shape` (None entries are unknown) and `dtype`.

    Args:
        shape: Tuple of ints/None, or None for an unknown rank.
        dtype: Dtype name or numpy/torch dtype ('float32' by default); stored as a name.
        name: Optional name.

    Example:
        >>> lamina.data.TensorSpec((None, 3), "float32")
        TensorSpec(shape=(None, 3), dtype=float32, name=None)
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = None if shape is None else TensorShape(None if d is None or d == -1 else int(d) for d in shape)
        self.dtype = dtype_name(dtype)
        self.name = name

    @classmethod
    def from_tensor(cls, value, name=None):
        """The spec of a concrete leaf value."""
        value = to_leaf(value)
        return cls(leaf_shape(value), dtype_name(value), name)

    def is_compatible_with(self, other):
        """Whether a spec or value agrees with this spec (same dtype, shapes equal where both known)."""
        if not isinstance(other, TensorSpec):
            other = TensorSpec.from_tensor(other)
        return self.dtype == other.dtype and shapes_compatible(self.shape, other.shape)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self.shape == other.shape and self.dtype == other.dtype
                and self.name == other.name)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.name))

    def __repr__(self):
        shape = None if self.shape is None else tuple(self.shape)
        return f"TensorSpec(shape={shape}, dtype={self.dtype}, name={self.name!r})"


class DatasetSpec:
    """Spec of an element that is itself a dataset (the elements of `Dataset.window`)."""

    def __init__(self, element_spec):
        self.element_spec = element_spec

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and self.element_spec == other.element_spec

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r})"


def shapes_compatible(a, b):
    """Whether two shapes (tuples with None, or None for unknown rank) can describe the same value."""
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def most_specific_shape(a, b):
    """The shape that keeps the dims on which `a` and `b` agree (None elsewhere)."""
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def spec_of(element):
    """The (nested) `TensorSpec` structure of a concrete element."""
    return map_structure(TensorSpec.from_tensor, element)


def map_specs(fn, spec_struct):
    """Apply `fn` to every TensorSpec of a spec structure."""
    return map_structure(fn, spec_struct)


def batched_spec(spec_struct, batch_size):
    """Specs with a leading batch dim (None when batches may be shorter)."""
    return map_specs(lambda s: TensorSpec(None if s.shape is None else (batch_size,) + tuple(s.shape), s.dtype),
                     spec_struct)


def unbatched_spec(spec_struct):
    """Specs with the leading dim removed."""
    return map_specs(lambda s: TensorSpec(None if s.shape is None else tuple(s.shape)[1:], s.dtype), spec_struct)


# ---------------------------------------------------------------- stacking and slicing


def stack_leaves(values, component=0):
    """Stack equally-shaped leaves along a new leading axis (torch if the first is torch)."""
    first = values[0]
    try:
        if isinstance(first, torch.Tensor):
            return torch.stack([v if isinstance(v, torch.Tensor) else torch.as_tensor(v) for v in values])
        return np.stack(values)
    except (ValueError, RuntimeError, TypeError):
        shape0 = tuple(np.shape(first))
        for i, v in enumerate(values):
            if tuple(np.shape(v)) != shape0:
                raise ValueError(f"Cannot batch tensors with different shapes in component {component}. First "
                                 f"element had shape {list(shape0)} and element {i} had shape "
                                 f"{list(np.shape(v))}.") from None
        raise


def concat_leaves(parts):
    """Concatenate leaves along axis 0 (returns the single part unchanged)."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts)
    return np.concatenate(parts)


def leading_dim(value, what="element"):
    """Size of the leading axis of a leaf; errors on scalars."""
    shape = getattr(value, "shape", ())
    if len(shape) == 0:
        raise ValueError(f"Cannot unbatch or slice a scalar {what}: every component needs a leading axis; "
                         f"received a value of shape {tuple(shape)}.")
    return int(shape[0])
