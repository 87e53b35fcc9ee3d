"""Categorical feature columns: vocabulary list/file, identity, hash bucket, weighted (tf.feature_column).

Each turns a raw feature into ids in `[0, num_buckets)`; wrap it in `indicator_column` or
`embedding_column` to feed `DenseFeatures`. Out-of-vocabulary strings go to
`len(vocabulary) + Fingerprint64(value) % num_oov_buckets` and hash buckets are
`Fingerprint64(value) % hash_bucket_size` (integers hashed as their decimal string), bit-exact with
TensorFlow's `to_hash_bucket_fast`.

Example:
    >>> col = categorical_column_with_vocabulary_list("color", ["R", "G", "B"])
    >>> lamina.layers.DenseFeatures([indicator_column(col)])({"color": [["G"], ["B"], ["X"]]})
    tensor([[0., 1., 0.], [0., 0., 1.], [0., 0., 0.]])
"""

import os

import numpy as np
import torch

from lamina.feature_column._base import (
    CategoricalColumn, FeatureColumnError, IdWeights, RawFeatureColumn, check_dtype, drop_missing, flatten_rows,
    is_string,
)
from lamina.layers.preprocessing import farmhash


def _standardize_dtype(dtype, what):
    if dtype is None:
        return None
    name = getattr(dtype, "name", dtype)
    name = str(name).replace("tf.", "")
    if name in ("string", "str", "object"):
        return "string"
    if name.startswith(("int", "uint")):
        return name
    raise FeatureColumnError(f"{what} dtype must be string or integer. Received: dtype={dtype!r}")


def _kind(dtype):
    return "string" if dtype == "string" else "int"


def _oov_hash(values, num_oov_buckets):
    host = values if isinstance(values, np.ndarray) else values.detach().cpu().numpy()
    return torch.as_tensor(farmhash.hash_bucket_fast(host, num_oov_buckets))


class _VocabularyColumn(RawFeatureColumn, CategoricalColumn):
    """Shared lookup logic of the vocabulary list and file columns."""

    @property
    def num_buckets(self):
        return len(self._vocab()) + self.num_oov_buckets

    def _table(self):
        cached = self.__dict__.get("_table_cache")
        if cached is None:
            vocab = self._vocab()
            keys = np.asarray(vocab, dtype=str if self.dtype == "string" else np.int64)
            order = np.argsort(keys, kind="stable")
            cached = (keys[order], order.astype(np.int64))
            self.__dict__["_table_cache"] = cached
        return cached

    def transform_ids(self, cache):
        values = flatten_rows(cache.raw(self.key))
        check_dtype(self, values, _kind(self.dtype))
        mask = drop_missing(values)
        keys, positions = self._table()
        default = -1 if self.default_value is None else int(self.default_value)
        if is_string(values):
            flat = values.reshape(-1)
            pos = np.clip(np.searchsorted(keys, flat), 0, max(len(keys) - 1, 0))
            found = keys[pos] == flat if len(keys) else np.zeros(flat.shape, bool)
            ids = torch.as_tensor(np.where(found, positions[pos] if len(keys) else 0, -1).reshape(values.shape))
            found = torch.as_tensor(found.reshape(values.shape))
        else:
            values = values.to(torch.int64)
            tkeys = torch.as_tensor(keys).to(values.device)
            pos = torch.searchsorted(tkeys, values.contiguous()).clamp(max=max(len(keys) - 1, 0))
            found = tkeys[pos] == values
            ids = torch.where(found, torch.as_tensor(positions).to(values.device)[pos], torch.full_like(values, -1))
        if self.num_oov_buckets:
            oov = _oov_hash(values, self.num_oov_buckets).to(ids.device) + len(keys)
            ids = torch.where(found, ids, oov)
        else:
            ids = torch.where(found, ids, torch.full_like(ids, default))
        return IdWeights(ids, mask & (ids >= 0), None)


class VocabularyListCategoricalColumn(_VocabularyColumn):
    """Ids from an in-memory vocabulary (see `categorical_column_with_vocabulary_list`)."""

    _fields = ("key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets")

    def _vocab(self):
        return list(self.vocabulary_list)


class VocabularyFileCategoricalColumn(_VocabularyColumn):
    """Ids from a vocabulary file, one token per line (see `categorical_column_with_vocabulary_file`)."""

    _fields = ("key", "vocabulary_file", "vocabulary_size", "num_oov_buckets", "dtype", "default_value",
               "file_format")

    def _vocab(self):
        cached = self.__dict__.get("_vocab_cache")
        if cached is None:
            cached = _read_vocabulary_file(self.key, self.vocabulary_file, self.vocabulary_size, self.dtype)
            self.__dict__["_vocab_cache"] = cached
        return cached


class IdentityCategoricalColumn(RawFeatureColumn, CategoricalColumn):
    """Integer features used as ids directly (see `categorical_column_with_identity`)."""

    _fields = ("key", "number_buckets", "default_value")

    @property
    def num_buckets(self):
        return self.number_buckets

    @property
    def dtype(self):
        return "int64"

    def transform_ids(self, cache):
        values = flatten_rows(cache.raw(self.key))
        check_dtype(self, values, "int")
        ids = values.to(torch.int64)
        mask = ids != -1
        bad = mask & ((ids < 0) | (ids >= self.number_buckets))
        if self.default_value is not None:
            ids = torch.where(bad, torch.full_like(ids, int(self.default_value)), ids)
        elif bool(bad.any()):  # host sync: only to raise TensorFlow's out-of-range error
            raise FeatureColumnError(
                f"Bucket index for categorical column '{self.key}' out of range: expected values in "
                f"[0, {self.number_buckets}), received {ids[bad].tolist()}. Set `default_value` to map "
                "out-of-range values to a bucket.")
        return IdWeights(ids, mask, None)


class HashedCategoricalColumn(RawFeatureColumn, CategoricalColumn):
    """Ids by hashing: `Fingerprint64(str(value)) % hash_bucket_size` (see `categorical_column_with_hash_bucket`)."""

    _fields = ("key", "hash_bucket_size", "dtype")

    @property
    def num_buckets(self):
        return self.hash_bucket_size

    def transform_ids(self, cache):
        values = flatten_rows(cache.raw(self.key))
        check_dtype(self, values, _kind(self.dtype))
        mask = drop_missing(values)
        ids = torch.as_tensor(farmhash.hash_bucket_fast(values if is_string(values) else
                                                        values.detach().cpu().numpy(), self.hash_bucket_size))
        return IdWeights(ids.to(mask.device), mask, None)


class WeightedCategoricalColumn(CategoricalColumn):
    """A categorical column whose ids carry weights read from another feature."""

    _fields = ("categorical_column", "weight_feature_key", "dtype")

    @property
    def name(self):
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def parents(self):
        return [self.categorical_column, self.weight_feature_key]

    @property
    def num_buckets(self):
        return self.categorical_column.num_buckets

    def transform_ids(self, cache):
        ids = cache.ids(self.categorical_column)
        weights = flatten_rows(cache.raw(self.weight_feature_key))
        if is_string(weights):
            raise FeatureColumnError(f"Weight feature '{self.weight_feature_key}' of column '{self.name}' must be "
                                     f"numeric; received strings.")
        weights = weights.to(torch.float32).to(ids.ids.device)
        if tuple(weights.shape) != tuple(ids.ids.shape):
            raise FeatureColumnError(
                f"Column '{self.name}': the weight feature '{self.weight_feature_key}' must have the shape of the "
                f"ids. Expected {tuple(ids.ids.shape)}, received {tuple(weights.shape)}.")
        return IdWeights(ids.ids, ids.mask & (weights != 0), weights)


def _read_vocabulary_file(key, path, vocabulary_size, dtype):
    if not os.path.exists(path):
        raise FeatureColumnError(f"vocabulary_file in {key} does not exist: {path!r}")
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\r\n") for line in f]
    if vocabulary_size is not None:
        if len(lines) < vocabulary_size:
            raise FeatureColumnError(f"Invalid vocab_size in {key}: vocabulary_size={vocabulary_size} but the file "
                                     f"{path!r} has only {len(lines)} lines.")
        lines = lines[:vocabulary_size]
    return lines if dtype == "string" else [int(v) for v in lines]


# ---------------------------------------------------------------------------------------------- constructors
def categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None, default_value=-1, num_oov_buckets=0):
    """A categorical column with an in-memory vocabulary: id `i` for `vocabulary_list[i]`.

    Args:
        key: Feature name.
        vocabulary_list: Strings or integers (no duplicates).
        dtype: `"string"` or an integer dtype; inferred from `vocabulary_list` when None.
        default_value: Id of out-of-vocabulary values when `num_oov_buckets == 0` (`-1`: dropped).
        num_oov_buckets: Out-of-vocabulary values are hashed into `num_oov_buckets` extra ids.

    Example:
        >>> col = categorical_column_with_vocabulary_list("color", ["R", "G", "B"], num_oov_buckets=2)
        >>> col.num_buckets
        5
    """
    _check_key(key)
    vocabulary = list(vocabulary_list) if vocabulary_list is not None else []
    if not vocabulary:
        raise FeatureColumnError(f"vocabulary_list {vocabulary_list!r} must be non-empty, column_name: {key}")
    if len(set(vocabulary)) != len(vocabulary):
        raise FeatureColumnError(f"Duplicate keys in vocabulary_list {vocabulary!r}, column_name: {key}")
    inferred = "string" if isinstance(vocabulary[0], (str, bytes, np.str_)) else "int64"
    vocabulary = [v.decode("utf-8") if isinstance(v, bytes) else (str(v) if inferred == "string" else int(v))
                  for v in vocabulary]
    dtype = _standardize_dtype(dtype, "vocabulary") or inferred
    if _kind(dtype) != _kind(inferred):
        raise FeatureColumnError(f"dtype {dtype} and vocabulary dtype {inferred} do not match, column_name: {key}")
    _check_oov(key, num_oov_buckets, default_value, -1)
    col = VocabularyListCategoricalColumn._from_fields(
        key=key, vocabulary_list=tuple(vocabulary), dtype=dtype, default_value=default_value,
        num_oov_buckets=num_oov_buckets)
    return col


def categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None, num_oov_buckets=0,
                                            default_value=None, dtype="string"):
    """A categorical column whose vocabulary is read from a file (one token per line).

    Args:
        key: Feature name.
        vocabulary_file: Path of the vocabulary file (a missing file raises a ValueError naming it).
        vocabulary_size: Use only the first `vocabulary_size` lines (default: all).
        num_oov_buckets: Out-of-vocabulary values are hashed into this many extra ids.
        default_value: Id of out-of-vocabulary values when `num_oov_buckets == 0` (None: dropped).
        dtype: `"string"` or an integer dtype.

    Example:
        >>> col = categorical_column_with_vocabulary_file("color", "colors.txt", num_oov_buckets=1)
    """
    _check_key(key)
    if not vocabulary_file:
        raise FeatureColumnError(f"Missing vocabulary_file in {key}.")
    vocabulary_file = os.fspath(vocabulary_file)
    dtype = _standardize_dtype(dtype, "vocabulary_file")
    if vocabulary_size is not None and vocabulary_size < 1:
        raise FeatureColumnError(f"Invalid vocabulary_size in {key}: {vocabulary_size}")
    _check_oov(key, num_oov_buckets, default_value, None)
    col = VocabularyFileCategoricalColumn._from_fields(
        key=key, vocabulary_file=vocabulary_file, vocabulary_size=vocabulary_size, num_oov_buckets=num_oov_buckets,
        dtype=dtype, default_value=default_value, file_format=None)
    vocab = col._vocab()  # read now: a missing or short file is an error at construction, as in TensorFlow
    if vocabulary_size is None:
        col.vocabulary_size = len(vocab)
    return col


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """A categorical column using integer feature values as ids, in `[0, num_buckets)`.

    Args:
        key: Feature name (integer values; `-1` means missing).
        num_buckets: Number of ids.
        default_value: Id for out-of-range values (None: out-of-range values raise an error).

    Example:
        >>> col = categorical_column_with_identity("video_id", num_buckets=1000, default_value=0)
    """
    _check_key(key)
    if num_buckets is None or num_buckets < 1:
        raise FeatureColumnError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise FeatureColumnError(f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}")
    return IdentityCategoricalColumn._from_fields(key=key, number_buckets=int(num_buckets), default_value=default_value)


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype="string"):
    """A categorical column hashing values into `hash_bucket_size` ids (FarmHash `Fingerprint64`, as TF).

    Example:
        >>> col = categorical_column_with_hash_bucket("keywords", 10)
    """
    _check_key(key)
    if hash_bucket_size is None:
        raise FeatureColumnError(f"hash_bucket_size must be set. key: {key}")
    if hash_bucket_size < 1:
        raise FeatureColumnError(f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, "
                                 f"key: {key}")
    dtype = _standardize_dtype(dtype, "hash_bucket")
    return HashedCategoricalColumn._from_fields(key=key, hash_bucket_size=int(hash_bucket_size), dtype=dtype)


def weighted_categorical_column(categorical_column, weight_feature_key, dtype="float32"):
    """Attach per-id weights (read from feature `weight_feature_key`) to a categorical column.

    Indicator outputs then hold summed weights, embeddings use them in the combiner.

    Example:
        >>> ids = categorical_column_with_identity("terms", num_buckets=10)
        >>> col = weighted_categorical_column(ids, "frequencies")
    """
    if not isinstance(categorical_column, CategoricalColumn):
        raise FeatureColumnError(f"categorical_column must be a CategoricalColumn. Received: {categorical_column!r}")
    if str(dtype) not in ("float32", "float64", "float16"):
        raise FeatureColumnError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn._from_fields(categorical_column=categorical_column,
                                                  weight_feature_key=weight_feature_key, dtype=str(dtype))


def _check_key(key):
    if not isinstance(key, str) or not key:
        raise FeatureColumnError(f"key must be a non-empty string. Received: key={key!r}")


def _check_oov(key, num_oov_buckets, default_value, no_default):
    if num_oov_buckets is None or num_oov_buckets < 0:
        raise FeatureColumnError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    if num_oov_buckets and default_value != no_default:
        raise FeatureColumnError(f"Can't specify both default_value and num_oov_buckets in {key}: "
                                 f"default_value={default_value}, num_oov_buckets={num_oov_buckets}.")
