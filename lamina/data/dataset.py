"""`Dataset`: the tf.data API over numpy arrays and torch tensors.

A dataset is a lazy, re-iterable sequence of elements (see `lamina.data.structure` for what an
element is). Each method returns a new dataset; nothing runs until it is iterated. In-memory
sources (`from_tensor_slices`, `make_csv_dataset`) are *indexed*: `shuffle`, `repeat`, `take`,
`skip`, `shard` and `cache` on them only move row indices, and `batch` then gathers a whole batch
with one fancy-index (or one slice) per array; `map` after `batch` runs once per batch.

Example:
    >>> ds = lamina.data.Dataset.range(10).batch(3)
    >>> [b.tolist() for b in ds]
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
"""

from lamina.data import structure

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def call_with_element(fn, element):
    """Call a user function the tf.data way: a tuple element is unpacked into positional args."""
    if type(element) is tuple or (isinstance(element, tuple) and not structure._is_namedtuple(element)):
        return fn(*element)
    return fn(element)


def check_count(value, name):
    """Validate an integer argument such as `count` or `batch_size`."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an integer, received {value!r}.") from None


class Cardinality(int):
    """An int with tf's `.numpy()`, so `ds.cardinality().numpy()` keeps working."""

    def numpy(self):
        import numpy as np

        return np.int64(self)


class DatasetIterator:
    """Iterator over a dataset (`iter(dataset)`); `get_next()` is tf's name for `next()`.

    Example:
        >>> it = iter(lamina.data.Dataset.range(3))
        >>> int(it.get_next())
        0
    """

    def __init__(self, dataset):
        self._dataset = dataset
        self._gen = iter(dataset._elements())

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def get_next(self):
        """The next element; raises StopIteration (tf: OutOfRangeError) at the end."""
        return next(self._gen)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def close(self):
        """Stop the iterator and release its background threads, if any."""
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()


class Dataset:
    """Base class of all datasets; build them with the static constructors.

    Example:
        >>> ds = lamina.data.Dataset.from_tensor_slices(([1, 2, 3], [4, 5, 6]))
        >>> ds = ds.shuffle(3, seed=1).batch(2).map(lambda x, y: (x * 10, y))
        >>> ds.cardinality()
        2
    """

    _indexed = False  # True for datasets whose elements are rows of in-memory arrays
    _static_spec = None

    # ------------------------------------------------------------- subclass hooks
    def _elements(self):
        """Return a fresh iterator (usually a generator) over the elements."""
        raise NotImplementedError

    def _cardinality(self):
        return UNKNOWN_CARDINALITY

    def _compute_spec(self):
        """Spec inferred from the first element (used where it cannot be derived statically)."""
        for element in self:
            return structure.spec_of(element)
        return None

    # ------------------------------------------------------------- basics
    def __iter__(self):
        return DatasetIterator(self)

    def __bool__(self):
        return True

    def __len__(self):
        n = self.cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec!r}>"

    def cardinality(self):
        """Number of elements; `INFINITE_CARDINALITY` (-1) or `UNKNOWN_CARDINALITY` (-2) when not known.

        The result is an `int` that also has tf's `.numpy()`.
        """
        return Cardinality(self._cardinality())

    @property
    def element_spec(self):
        """Nested `TensorSpec` structure of one element."""
        if self._static_spec is None:
            self._static_spec = self._compute_spec()
        return self._static_spec

    def as_numpy_iterator(self):
        """Iterate with every torch leaf converted to numpy.

        Example:
            >>> list(lamina.data.Dataset.range(3).as_numpy_iterator())
            [0, 1, 2]
        """
        import torch

        def to_numpy(x):
            return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x

        for element in self:
            yield structure.map_structure(to_numpy, element)

    def options(self):
        """The dataset's `Options` (kept for API compatibility; they change nothing here)."""
        from lamina.data.options import Options

        return getattr(self, "_options", None) or Options()

    def with_options(self, options, name=None):
        """Attach `options` (no effect on execution); returns this dataset."""
        self._options = options
        return self

    def apply(self, transformation_func):
        """`transformation_func(self)`, which must return a Dataset."""
        result = transformation_func(self)
        if not isinstance(result, Dataset):
            raise TypeError(f"`transformation_func` must return a Dataset, received {type(result).__name__}.")
        return result

    def reduce(self, initial_state, reduce_func, name=None):
        """Fold the elements: `state = reduce_func(state, element)` from `initial_state`.

        Example:
            >>> int(lamina.data.Dataset.range(5).reduce(0, lambda s, x: s + x))
            10
        """
        state = initial_state
        for element in self:
            state = reduce_func(state, element)
        return state

    def get_single_element(self, name=None):
        """The only element of a one-element dataset; ValueError otherwise."""
        it = iter(self)
        try:
            element = next(it)
        except StopIteration:
            raise ValueError("`get_single_element()` requires a dataset of exactly one element; the dataset "
                             "was empty.") from None
        for _ in it:
            raise ValueError("`get_single_element()` requires a dataset of exactly one element; the dataset "
                             "had more than one.")
        return element

    # ------------------------------------------------------------- sources
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """Slice `tensors` (arrays, tensors, lists, tuples/dicts of them, pandas objects) along axis 0.

        Example:
            >>> ds = lamina.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [3.0, 4.0]})
            >>> len(ds)
            2
        """
        from lamina.data.sources import TensorSlicesDataset

        return TensorSlicesDataset.from_structure(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset with the single element `tensors`."""
        from lamina.data.sources import TensorsDataset

        return TensorsDataset(tensors)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        """Elements from `generator(*args)`, checked against `output_signature` (TensorSpecs).

        Example:
            >>> spec = lamina.data.TensorSpec((2,), "float32")
            >>> ds = lamina.data.Dataset.from_generator(lambda: iter([[1, 2], [3, 4]]), output_signature=spec)
            >>> next(iter(ds)).dtype
            dtype('float32')
        """
        from lamina.data.sources import GeneratorDataset

        return GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def range(*args, output_type="int64", name=None):
        """`range(stop)`, `range(start, stop[, step])` as int64 scalars."""
        from lamina.data.sources import RangeDataset

        return RangeDataset(*args, output_type=output_type)

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Combine datasets element-wise into tuples (or the given nested structure); stops at the shortest.

        Example:
            >>> a, b = lamina.data.Dataset.range(3), lamina.data.Dataset.range(3, 6)
            >>> [tuple(map(int, e)) for e in lamina.data.Dataset.zip(a, b)]
            [(0, 3), (1, 4), (2, 5)]
        """
        from lamina.data.sources import make_zip

        if datasets is None:
            datasets = args[0] if len(args) == 1 else tuple(args)
        return make_zip(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """File names matching a glob pattern (or list of patterns), shuffled unless `shuffle=False`."""
        from lamina.data.sources import list_files

        return list_files(file_pattern, shuffle, seed)

    def concatenate(self, dataset, name=None):
        """This dataset's elements followed by `dataset`'s (same structure and dtypes)."""
        from lamina.data.sources import ConcatenateDataset

        return ConcatenateDataset(self, dataset)

    # ------------------------------------------------------------- per-element transforms
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Apply `map_func` to each element (tuples unpacked into arguments).

        With `num_parallel_calls` (an int or `AUTOTUNE`) calls run on a thread pool; the output
        order is always the input order.

        Example:
            >>> [int(x) for x in lamina.data.Dataset.range(3).map(lambda x: x * 2)]
            [0, 2, 4]
        """
        from lamina.data.transforms import MapDataset

        return MapDataset(self, map_func, num_parallel_calls)

    def filter(self, predicate, name=None):
        """Keep the elements for which `predicate` returns True (a scalar bool)."""
        from lamina.data.transforms import FilterDataset

        return FilterDataset(self, predicate)

    def enumerate(self, start=0, name=None):
        """Elements `(index, element)` with int64 indices counting from `start`."""
        from lamina.data.transforms import EnumerateDataset

        return EnumerateDataset(self, start)

    def unique(self, name=None):
        """Drop repeated elements (scalar int or string elements), keeping first occurrences."""
        from lamina.data.transforms import UniqueDataset

        return UniqueDataset(self)

    def take(self, count, name=None):
        """The first `count` elements (all of them when `count` is -1)."""
        from lamina.data import indexed, transforms

        count = check_count(count, "count")
        return indexed.IndexedTake(self, count) if self._indexed else transforms.TakeDataset(self, count)

    def skip(self, count, name=None):
        """All but the first `count` elements (none when `count` is -1)."""
        from lamina.data import indexed, transforms

        count = check_count(count, "count")
        return indexed.IndexedSkip(self, count) if self._indexed else transforms.SkipDataset(self, count)

    def shard(self, num_shards, index, name=None):
        """Every `num_shards`-th element starting at `index`."""
        from lamina.data import indexed, transforms

        num_shards, index = check_count(num_shards, "num_shards"), check_count(index, "index")
        if num_shards < 1:
            raise ValueError(f"`num_shards` must be >= 1, received {num_shards}.")
        if not 0 <= index < num_shards:
            raise ValueError(f"`index` must be in [0, num_shards={num_shards}), received {index}.")
        cls = indexed.IndexedShard if self._indexed else transforms.ShardDataset
        return cls(self, num_shards, index)

    def repeat(self, count=None, name=None):
        """Repeat the dataset `count` times (forever when None or -1); re-iterating reshuffles."""
        from lamina.data import indexed, transforms

        count = -1 if count is None else check_count(count, "count")
        return indexed.IndexedRepeat(self, count) if self._indexed else transforms.RepeatDataset(self, count)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Shuffle with a buffer of `buffer_size` elements (tf's semantics: a buffer as large as the
        dataset gives a uniform permutation); a new order each iteration unless told otherwise."""
        from lamina.data import indexed, transforms

        buffer_size = check_count(buffer_size, "buffer_size")
        if buffer_size < 1 and buffer_size != AUTOTUNE:
            raise ValueError(f"`buffer_size` must be >= 1, received {buffer_size}.")
        cls = indexed.IndexedShuffle if self._indexed else transforms.ShuffleDataset
        return cls(self, buffer_size, seed, reshuffle_each_iteration)

    def cache(self, filename="", name=None):
        """Keep the elements of the first complete iteration in memory (or in file `filename`)."""
        from lamina.data import buffering, indexed

        if self._indexed and not filename:
            return indexed.IndexedCache(self)
        return buffering.CacheDataset(self, filename)

    def prefetch(self, buffer_size, name=None):
        """Produce up to `buffer_size` elements ahead on a background thread."""
        from lamina.data.buffering import PrefetchDataset

        return PrefetchDataset(self, check_count(buffer_size, "buffer_size"))

    # ------------------------------------------------------------- batching
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stack consecutive elements into batches of `batch_size` (the last one may be shorter)."""
        from lamina.data import batching, indexed

        batch_size = check_count(batch_size, "batch_size")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, received {batch_size}.")
        cls = indexed.GatherBatchDataset if self._indexed else batching.BatchDataset
        return cls(self, batch_size, bool(drop_remainder))

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Batch elements of different shapes, padding every dim to the batch's longest (or to `padded_shapes`)."""
        from lamina.data.batching import PaddedBatchDataset

        batch_size = check_count(batch_size, "batch_size")
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be >= 1, received {batch_size}.")
        return PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, bool(drop_remainder))

    def unbatch(self, name=None):
        """Split each batch back into its rows."""
        from lamina.data.batching import UnbatchDataset

        return UnbatchDataset(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """Re-cut batched elements into batches of `batch_size` (an int, or a list cycled through)."""
        from lamina.data.batching import RebatchDataset

        return RebatchDataset(self, batch_size, bool(drop_remainder))

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Windows of `size` elements every `shift` elements; each window is a (structure of) Dataset."""
        from lamina.data.batching import WindowDataset

        return WindowDataset(self, size, shift, stride, bool(drop_remainder))

    # ------------------------------------------------------------- nesting
    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        """Map elements to datasets and interleave them: `cycle_length` open at once, `block_length`
        consecutive elements from each in turn."""
        from lamina.data.interleave import InterleaveDataset

        return InterleaveDataset(self, map_func, cycle_length, block_length)

    def flat_map(self, map_func, name=None):
        """Map each element to a dataset and chain those datasets."""
        from lamina.data.interleave import InterleaveDataset

        return InterleaveDataset(self, map_func, 1, 1)
