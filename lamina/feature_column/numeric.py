"""Numeric and bucketized feature columns (tf.feature_column.numeric_column / bucketized_column).

Example:
    >>> price = numeric_column("price")
    >>> bucketized = bucketized_column(price, boundaries=[10.0, 100.0])
    >>> lamina.layers.DenseFeatures([price, bucketized])({"price": [[5.0], [50.0]]})
    tensor([[ 5.,  1.,  0.,  0.],
            [50.,  0.,  1.,  0.]])
"""

import math

import numpy as np
import torch

from lamina.feature_column._base import (
    CategoricalColumn, DenseColumn, FeatureColumnError, IdWeights, RawFeatureColumn, is_string,
)


class NumericColumn(RawFeatureColumn, DenseColumn):
    """A real-valued feature of shape `shape` per example (see `numeric_column`)."""

    _fields = ("key", "shape", "default_value", "dtype", "normalizer_fn")

    @property
    def variable_size(self):
        return math.prod(self.shape)

    def values(self, cache):
        """The feature as float32 `(batch, prod(shape))`, `normalizer_fn` applied."""
        raw = cache.raw(self.key)
        if is_string(raw):
            raise FeatureColumnError(f"Numeric column '{self.key}' received strings; expected numbers "
                                     f"(dtype {self.dtype}).")
        batch = raw.shape[0]
        if math.prod(raw.shape[1:]) != self.variable_size:
            raise FeatureColumnError(
                f"Feature '{self.key}' of numeric_column has {math.prod(raw.shape[1:])} values per example "
                f"(shape {tuple(raw.shape)}), but the column's shape is {self.shape}.")
        x = raw.to(torch.float32)
        if self.normalizer_fn is not None:
            x = self.normalizer_fn(x)
            if not torch.is_tensor(x):
                x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        return x.reshape(batch, self.variable_size)

    def dense_output(self, cache, state):
        return self.values(cache)

    def get_config(self):
        config = super().get_config()
        config["shape"] = list(self.shape)
        if self.normalizer_fn is not None:
            from lamina.saving.serialization import serialize_keras_object

            config["normalizer_fn"] = serialize_keras_object(self.normalizer_fn)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if config.get("normalizer_fn") is not None:
            from lamina.saving.serialization import deserialize_keras_object

            config["normalizer_fn"] = deserialize_keras_object(config["normalizer_fn"], custom_objects=custom_objects)
        config["shape"] = tuple(config["shape"])
        return cls._from_fields(**config)


class BucketizedColumn(DenseColumn, CategoricalColumn):
    """A numeric column split into buckets by `boundaries` (see `bucketized_column`)."""

    _fields = ("source_column", "boundaries")

    @property
    def name(self):
        return f"{self.source_column.name}_bucketized"

    @property
    def parents(self):
        return [self.source_column]

    @property
    def num_buckets(self):
        return (len(self.boundaries) + 1) * self.source_column.variable_size

    @property
    def variable_size(self):
        return self.num_buckets

    def _buckets(self, cache):
        x = self.source_column.values(cache)
        cached = self.__dict__.get("_boundaries_tensor")
        if cached is None or cached.device != x.device:
            cached = torch.as_tensor(np.asarray(self.boundaries, dtype=np.float32), device=x.device)
            self.__dict__["_boundaries_tensor"] = cached
        # bucket i holds boundaries[i-1] <= x < boundaries[i]
        return torch.bucketize(x.contiguous(), cached, right=True)

    def dense_output(self, cache, state):
        buckets = self._buckets(cache)
        depth = len(self.boundaries) + 1
        one_hot = (buckets.unsqueeze(-1) == torch.arange(depth, device=buckets.device)).to(torch.float32)
        return one_hot.reshape(buckets.shape[0], -1)

    def transform_ids(self, cache):
        buckets = self._buckets(cache)
        offsets = torch.arange(buckets.shape[1], device=buckets.device) * (len(self.boundaries) + 1)
        ids = buckets + offsets
        return IdWeights(ids, torch.ones_like(ids, dtype=torch.bool), None)

    def get_config(self):
        config = super().get_config()
        config["boundaries"] = list(self.boundaries)
        return config


def numeric_column(key, shape=(1,), default_value=None, dtype="float32", normalizer_fn=None):
    """A column of real values: each example holds `shape` numbers (output width `prod(shape)`).

    Args:
        key: Feature name.
        shape: Shape of the feature per example (an int or a tuple).
        default_value: Value for missing entries of sparse inputs (kept for API compatibility; dense
            inputs have no missing entries).
        dtype: A float or integer dtype; values are cast to float32.
        normalizer_fn: Function applied to the float32 tensor (e.g. `lambda x: (x - 3.0) / 4.2`).

    Example:
        >>> numeric_column("price", shape=(2,)).variable_size
        2
    """
    if not isinstance(key, str) or not key:
        raise FeatureColumnError(f"key must be a non-empty string. Received: key={key!r}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise FeatureColumnError(f"shape dimensions must be greater than 0. Given: {shape}, key: {key}")
    dtype = str(getattr(dtype, "name", dtype)).replace("tf.", "")
    if not (dtype.startswith(("float", "int", "uint")) or dtype == "bfloat16"):
        raise FeatureColumnError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if default_value is not None:
        arr = np.asarray(default_value, dtype=np.float64)
        if arr.ndim == 0:
            default_value = float(arr)
        elif arr.shape != shape:
            raise FeatureColumnError(f"The shape of default_value must be equal to given shape. default_value: "
                                     f"{default_value}, shape: {shape}, key: {key}")
        else:
            default_value = arr.tolist()
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise FeatureColumnError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return NumericColumn._from_fields(key=key, shape=shape, default_value=default_value, dtype=dtype,
                                      normalizer_fn=normalizer_fn)


def bucketized_column(source_column, boundaries):
    """Bucketize a `numeric_column`: bucket `i` holds `boundaries[i-1] <= x < boundaries[i]`.

    Dense output is the one-hot bucket of every element (`prod(shape) * (len(boundaries) + 1)` wide);
    as a categorical column (for `embedding_column`, `crossed_column`) its ids are offset per element.

    Example:
        >>> bucketized_column(numeric_column("age"), [18, 25, 30]).num_buckets
        4
    """
    if not isinstance(source_column, NumericColumn):
        raise FeatureColumnError(f"source_column must be a column generated with numeric_column(). Given: "
                                 f"{source_column!r}")
    if not isinstance(boundaries, (list, tuple)) or not boundaries:
        raise FeatureColumnError(f"boundaries must be a sorted list. Given: {boundaries!r}")
    boundaries = tuple(float(b) for b in boundaries)
    if any(a >= b for a, b in zip(boundaries, boundaries[1:])):
        raise FeatureColumnError(f"boundaries must be a sorted list. Given: {list(boundaries)}")
    return BucketizedColumn._from_fields(source_column=source_column, boundaries=boundaries)
