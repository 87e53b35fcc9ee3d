"""`Metric`: the base class of every lamina metric, and the state tensors it owns.

A metric is not a layer: it owns a few state tensors (created with `add_variable`), updates
them in place with tensor ops in `update_state` (no host synchronisation: it runs every
training step) and turns them into a tensor in `result()`.

Example:
    >>> class BinaryTruePositives(Metric):
    ...     def __init__(self, name="binary_true_positives", **kwargs):
    ...         super().__init__(name=name, **kwargs)
    ...         self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         values = torch.logical_and(torch.as_tensor(y_true).bool(), torch.as_tensor(y_pred).bool())
    ...         self.true_positives.assign_add(values.to(self.true_positives.dtype).sum())
    ...     def result(self):
    ...         return self.true_positives.clone()
"""

import numpy as np
import torch

from lamina.backend import config
from lamina.backend.naming import to_snake_case, unique_name


class MetricVariable(torch.Tensor):
    """A metric's state: a plain torch tensor plus Keras's Variable API.

    Torch ops on it return ordinary tensors (its `__torch_function__` is disabled, as for
    `torch.nn.Parameter`), in-place ops update it where it lives, and `assign`,
    `assign_add`, `assign_sub`, `numpy()` and `value` serve Keras-style custom metrics.

    Example:
        >>> v = MetricVariable(torch.zeros(()), name="total")
        >>> _ = v.assign_add(3.0)
        >>> float(v)
        3.0
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data, name=None):
        return torch.Tensor._make_subclass(cls, data, False)

    def __init__(self, data, name=None):
        self._var_name = name or "variable"
        self._path = self._var_name

    @property
    def name(self):
        return self._var_name

    @property
    def path(self):
        return self._path

    @property
    def value(self):
        return self.detach()

    @property
    def trainable(self):
        return False

    def assign(self, value):
        """Write `value` (broadcast, cast) into this state in place."""
        with torch.no_grad():
            self.copy_(_as_tensor_like(value, self))
        return self

    def assign_add(self, value):
        """Add `value` to this state in place."""
        with torch.no_grad():
            self.add_(_as_tensor_like(value, self))
        return self

    def assign_sub(self, value):
        """Subtract `value` from this state in place."""
        with torch.no_grad():
            self.sub_(_as_tensor_like(value, self))
        return self

    def numpy(self):
        """A numpy copy (synchronises with the device)."""
        return self.detach().cpu().numpy()

    def __repr__(self):
        return f"<MetricVariable path={self._path}, shape={tuple(self.shape)}, dtype={config.standardize_dtype(self.dtype)}>"

    def __reduce_ex__(self, protocol):
        return (_rebuild_variable, (self.detach().cpu().clone(), self._var_name, self._path))

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = _rebuild_variable(self.detach().clone(), self._var_name, self._path)
        return memo[id(self)]


def _rebuild_variable(data, name, path):
    var = MetricVariable(data, name=name)
    var._path = path
    return var


def _as_tensor_like(value, like):
    if isinstance(value, torch.Tensor):
        return value
    return torch.as_tensor(np.asarray(value), dtype=like.dtype, device=like.device)


def standardize_metric_dtype(dtype):
    """Keras's metric dtype name: None means floatx; `"int"` means int32; a mixed policy its compute dtype."""
    if dtype is None:
        return config.floatx()
    name = getattr(dtype, "compute_dtype", None) or getattr(dtype, "name", None) or dtype
    if isinstance(name, str):
        if name == "int":
            return "int32"
        if name.startswith("mixed_"):
            return name[len("mixed_"):]
    return config.standardize_dtype(name)


def to_tensor(x, dtype=None, device=None):
    """`x` (tensor, numpy array, list, scalar) as a torch tensor, cast to `dtype` when given.

    Tensors stay on their device unless `device` is given; numpy data goes to `device`.
    """
    dtype = config.to_torch_dtype(dtype) if dtype is not None else None
    if isinstance(x, torch.Tensor):
        if device is not None and x.device != torch.device(device):
            x = x.to(device)
        return x if dtype is None or x.dtype == dtype else x.to(dtype)
    if dtype is None and isinstance(x, (float, int, bool)) and not isinstance(x, np.generic):
        dtype = torch.bool if isinstance(x, bool) else (torch.int32 if isinstance(x, int) else config.to_torch_dtype(None))
    array = np.asarray(x)
    if dtype is None and not isinstance(x, np.ndarray):  # Python lists: floats -> floatx, ints -> int32
        if array.dtype == np.float64:
            dtype = config.to_torch_dtype(None)
        elif array.dtype == np.int64:
            dtype = torch.int32
    if array.dtype == np.uint32:
        array = array.astype(np.int64)
    return torch.as_tensor(array, dtype=dtype, device=device)


class Metric:
    """Encapsulates metric logic and state (a Keras `Metric`).

    Subclasses create their states in `__init__` with `add_variable`, update them in
    `update_state` with in-place tensor ops and compute the value in `result()`.

    Args:
        dtype: dtype of the metric's computations (default `floatx()`).
        name: name of the metric instance (default: snake-cased class name, made unique).

    Example:
        >>> m = lamina.metrics.Mean()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0])
        >>> float(m.result())
        4.0
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or unique_name(to_snake_case(self.__class__.__name__))
        self._dtype = standardize_metric_dtype(dtype)
        self._torch_dtype = config.to_torch_dtype(self._dtype)
        self._variables = []
        self._metrics = []
        self._device = None

    # ----------------------------------------------------------------- state
    def add_variable(self, shape, initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state tensor (on the metric's device, CPU by default), record it, return it.

        Example (inside a subclass's `__init__`):
            `self.total = self.add_variable(shape=(), initializer="zeros", name="total")`
        """
        self._check_super_called()
        shape = tuple(int(d) for d in shape) if shape is not None else ()
        torch_dtype = config.to_torch_dtype(standardize_metric_dtype(dtype))
        data = _initial_value(initializer, shape, torch_dtype, self._device, self.name)
        variable = MetricVariable(data, name=name)
        variable._path = f"{self.name}/{variable.name}"
        variable.aggregation = aggregation
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """Alias of `add_variable` kept for tf.keras-era metrics."""
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self):
        """State tensors in creation order, then those of nested metrics."""
        out = list(self._variables)
        for metric in self._metrics:
            out.extend(metric.variables)
        return out

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        """Device of the states (CPU until `to()` moves them)."""
        return torch.device(self._device) if self._device is not None else torch.device("cpu")

    def reset_state(self):
        """Zero every state in place (called between epochs)."""
        variables = self.variables
        if variables:
            with torch.no_grad():
                torch._foreach_zero_(variables)

    def update_state(self, *args, **kwargs):
        """Accumulate statistics for the metric."""
        raise NotImplementedError(f"Metric {self.__class__.__name__} must implement `update_state()`.")

    def result(self):
        """The current value as a tensor (0-d, or a vector for per-class metrics)."""
        raise NotImplementedError(f"Metric {self.__class__.__name__} must implement `result()`.")

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def to(self, device):
        """Move every state (and constant tensor) of this metric to `device`; returns self.

        States keep their identity where torch allows it (CPU <-> CUDA), so `metric.variables`
        held elsewhere stays valid; later states are created on `device`.
        """
        self._device = torch.device(device)
        replaced = {}
        with torch.no_grad():
            for i, variable in enumerate(self._variables):
                moved = variable.data.to(self._device)
                if torch._has_compatible_shallow_copy_type(variable, moved):
                    variable.data = moved  # same object: references held elsewhere stay valid
                else:  # e.g. to/from "meta": a new state object, rebound below
                    new = MetricVariable(moved, name=variable.name)
                    new._path, new.aggregation = variable._path, getattr(variable, "aggregation", "sum")
                    replaced[id(variable)] = self._variables[i] = new
            for key, value in list(self.__dict__.items()):
                if id(value) in replaced:
                    self.__dict__[key] = replaced[id(value)]
                elif isinstance(value, torch.Tensor) and not isinstance(value, MetricVariable):
                    self.__dict__[key] = value.to(self._device)
                elif isinstance(value, dict) and any(id(v) in replaced for v in value.values()):
                    self.__dict__[key] = {k: replaced.get(id(v), v) for k, v in value.items()}
        for metric in self._metrics:
            metric.to(device)
        return self

    # --------------------------------------------------------------- config
    def get_config(self):
        """The serializable config of the metric."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __setattr__(self, name, value):
        if isinstance(value, Metric) and name != "_metrics" and "_metrics" in self.__dict__:
            if all(value is not m for m in self._metrics):
                self._metrics.append(value)
        super().__setattr__(name, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"You forgot to call `super().__init__()` in the `__init__()` method of {self.__class__.__name__}. Go add it!"
            )

    def __repr__(self):
        return f"<{self.__class__.__name__} name={self.name}>"

    __str__ = __repr__


def _initial_value(initializer, shape, dtype, device, owner):
    if initializer is None or initializer in ("zeros", "Zeros"):
        return torch.zeros(shape, dtype=dtype, device=device)
    if initializer in ("ones", "Ones"):
        return torch.ones(shape, dtype=dtype, device=device)
    if isinstance(initializer, (int, float)):
        return torch.full(shape, initializer, dtype=dtype, device=device)
    if callable(initializer):
        value = initializer(shape, dtype=dtype)
        return to_tensor(value, dtype=dtype, device=device).reshape(shape).clone()
    if isinstance(initializer, str):
        try:
            from lamina import initializers

            return _initial_value(initializers.get(initializer), shape, dtype, device, owner)
        except (ImportError, AttributeError, ValueError):
            pass
    raise ValueError(
        f"Metric {owner!r}: unknown `initializer` for `add_variable`. Expected 'zeros', 'ones', a number "
        f"or a callable `(shape, dtype) -> tensor`. Received: initializer={initializer!r}"
    )


def divide_no_nan(x, y):
    """`x / y`, with 0 wherever `y == 0`."""
    return torch.where(y == 0, 0.0, x / y)  # the masked quotients (inf/nan) are never used


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeeze or expand the last axis of one tensor when the ranks differ by exactly one (Keras's rule)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def get_mask(x):
    """The Keras mask a layer attached to tensor `x` (attribute `_keras_mask`), or None."""
    return getattr(x, "_keras_mask", None)
