"""Base classes of the feature columns and the per-call transformation cache.

A categorical column turns a feature into `IdWeights`: a padded `(batch, n)` int64 tensor of ids, a
boolean mask of the ids that are present (TensorFlow's sparse values: missing inputs, `""` for
strings and `-1` for integers, are dropped), and optional float weights. Dense columns turn features
into a `(batch, d)` float32 tensor. String features stay on the host as numpy `str` arrays; numbers
become torch tensors.

Example:
    >>> cache = TransformCache({"a": np.array(["x", ""])})
    >>> cache.raw("a")
    array([['x'], ['']], dtype='<U1')
"""

import collections

import numpy as np
import torch

IdWeights = collections.namedtuple("IdWeights", ["ids", "mask", "weights"])


class FeatureColumnError(ValueError):
    """A feature column was given bad arguments or bad features."""


def to_feature_array(value, key):
    """A raw feature as a rank >= 2 numpy `str` array (strings) or torch tensor (numbers)."""
    if isinstance(value, torch.Tensor):
        out = value
    else:
        if hasattr(value, "to_numpy"):  # pandas Series
            value = value.to_numpy()
        arr = np.asarray(value)
        if arr.dtype.kind == "S":
            arr = np.char.decode(arr, "utf-8")
        elif arr.dtype == object:
            flat = [v.decode("utf-8") if isinstance(v, bytes) else v for v in arr.reshape(-1)]
            if flat and all(isinstance(v, str) for v in flat):
                arr = np.array(flat, dtype=str).reshape(arr.shape)
            else:
                arr = arr.astype(np.float64) if flat else arr.astype(str)
        if arr.dtype.kind != "U" and not arr.flags.writeable:
            arr = arr.copy()  # pandas hands out read-only views; torch wants writable memory
        out = arr if arr.dtype.kind == "U" else torch.as_tensor(arr)
    if out.ndim == 0:
        raise FeatureColumnError(f"Feature (key: {key}) cannot have rank 0. Give features a batch axis, e.g. "
                                 f"shape (batch,) or (batch, 1). Received: {value!r}")
    if out.ndim == 1:
        out = out[:, None] if isinstance(out, np.ndarray) else out.unsqueeze(-1)
    return out


def is_string(x):
    return isinstance(x, np.ndarray) and x.dtype.kind in "US"


class TransformCache:
    """Per-call memo of raw features and of categorical transforms (a shared column is computed once)."""

    def __init__(self, features):
        if not isinstance(features, dict):
            raise FeatureColumnError(f"We expected a dictionary here. Instead we got: {type(features).__name__} "
                                     f"{features!r}")
        self.features = features
        self._raw = {}
        self._ids = {}

    def raw(self, key):
        """The feature `key` as a rank >= 2 host string array or torch tensor."""
        if key not in self._raw:
            if key not in self.features:
                raise FeatureColumnError(f"Feature {key} is not in features dictionary. Available features: "
                                         f"{sorted(self.features)}")
            self._raw[key] = to_feature_array(self.features[key], key)
        return self._raw[key]

    def ids(self, column):
        """`column.transform_ids(self)`, memoized per column."""
        if column not in self._ids:
            self._ids[column] = column.transform_ids(self)
        return self._ids[column]


class FeatureColumn:
    """Base of every feature column: a hashable, immutable description with a `name` and a config."""

    _fields = ()

    @property
    def name(self):
        raise NotImplementedError

    @property
    def parents(self):
        """The columns (or raw keys) this column reads."""
        return []

    def _values(self):
        return tuple(_hashable(getattr(self, f)) for f in self._fields)

    def __eq__(self, other):
        return type(self) is type(other) and self._values() == other._values()

    def __hash__(self):
        return hash((type(self).__name__, self._values()))

    def __lt__(self, other):
        return self.name < other.name

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"

    def get_config(self):
        from lamina.feature_column.serialization import serialize_feature_column

        config = {}
        for f in self._fields:
            value = getattr(self, f)
            if isinstance(value, FeatureColumn):
                value = serialize_feature_column(value)
            elif isinstance(value, tuple):
                value = [serialize_feature_column(v) if isinstance(v, FeatureColumn) else v for v in value]
            config[f] = value
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from lamina.feature_column.serialization import deserialize_feature_column

        kwargs = {}
        for key, value in config.items():
            if isinstance(value, dict) and "class_name" in value:
                value = deserialize_feature_column(value, custom_objects)
            elif isinstance(value, list):
                value = tuple(deserialize_feature_column(v, custom_objects) if isinstance(v, dict) else v
                              for v in value)
            kwargs[key] = value
        return cls._from_fields(**kwargs)

    @classmethod
    def _from_fields(cls, **kwargs):
        obj = cls.__new__(cls)
        for f in cls._fields:
            setattr(obj, f, kwargs.get(f))
        return obj


class RawFeatureColumn:
    """Mixin for a column that reads one raw feature: named after its `key`, which is its only parent."""

    @property
    def name(self):
        return self.key

    @property
    def parents(self):
        return [self.key]


class DenseColumn(FeatureColumn):
    """A column that produces a dense float32 tensor `(batch, variable_size)` (usable in `DenseFeatures`)."""

    _is_dense_column = True

    @property
    def variable_size(self):
        """Width of this column's slice of the `DenseFeatures` output."""
        raise NotImplementedError

    def create_state(self, layer):
        """Create this column's weights on `layer` (embedding tables); returns them (or None)."""
        return None

    def dense_output(self, cache, state):
        raise NotImplementedError


class CategoricalColumn(FeatureColumn):
    """A column that produces ids in `[0, num_buckets)` (wrap it in `indicator_column`/`embedding_column`)."""

    @property
    def num_buckets(self):
        raise NotImplementedError

    def transform_ids(self, cache):
        raise NotImplementedError


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value


def drop_missing(values):
    """Mask of present values: `""` (strings) and `-1` (integers) are missing, as TensorFlow drops them."""
    if is_string(values):
        return torch.as_tensor(values != "")
    if values.is_floating_point():
        return torch.ones(values.shape, dtype=torch.bool, device=values.device)
    return values != -1


def flatten_rows(x):
    """`(batch, ...)` -> `(batch, n)` (numpy or torch)."""
    return x.reshape(x.shape[0], -1)


def check_dtype(column, values, expected):
    """Raise unless the feature's kind (`"string"` or `"int"`) matches the column's dtype."""
    kind = "string" if is_string(values) else ("float" if values.is_floating_point() else "int")
    if expected == "string" and kind != "string" or expected == "int" and kind == "string":
        raise FeatureColumnError(
            f"Column dtype and SparseTensors dtype must be compatible. key: {column.key}, column dtype: "
            f"{column.dtype}, tensor dtype: {'string' if kind == 'string' else values.dtype}")
