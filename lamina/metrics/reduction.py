"""Reduction metrics: `Sum`, `Mean`, and `MeanMetricWrapper` (a per-sample function averaged over batches).

Example:
    >>> m = Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    >>> float(m.result())
    2.0
"""

import torch

from lamina.backend import config
from lamina.metrics.metric import Metric, divide_no_nan, get_mask, squeeze_or_expand_to_same_rank, to_tensor


def apply_mask(sample_weight, mask, dtype, reduction="sum"):
    """Fold a Keras mask into `sample_weight` (Keras's rule for "sum"/"sum_over_batch_size")."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = float(mask.numel())
        valid = mask.to(dtype).sum()
        float_mask = torch.where(mask.bool(), divide_no_nan(torch.full_like(valid, total), valid), 0.0)
    else:
        float_mask = mask.to(dtype)
    if sample_weight is None:
        return float_mask
    sample_weight = to_tensor(sample_weight, dtype, device=float_mask.device)
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
    return sample_weight * float_mask


def _reduce(values, dims, reduce_fn):
    return reduce_fn(values, dim=dims) if dims else values


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weight `values` and reduce them to one value per sample, as Keras's reduction metrics do.

    Returns `(values, sample_weight)` where `values` has rank <= 1 and `sample_weight` is None
    or broadcast to the samples. `dtype` is a dtype name or a `torch.dtype`.
    """
    torch_dtype = dtype if isinstance(dtype, torch.dtype) else config.to_torch_dtype(dtype)
    mask = get_mask(values)
    values = to_tensor(values, torch_dtype)
    if sample_weight is not None:
        sample_weight = to_tensor(sample_weight, torch_dtype, device=values.device)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, torch_dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim, values_ndim = sample_weight.dim(), values.dim()
        if values_ndim > weight_ndim:
            values = reduce_fn(values, dim=tuple(range(weight_ndim, values_ndim)))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, dim=tuple(range(1, weight_ndim)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the given values. State: `total`.

    Example:
        >>> m = Sum()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(_on(values, self), sample_weight, torch.sum, self._torch_dtype)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """The (weighted) mean of the given values: `total / count`. States: `total`, `count`.

    Example:
        >>> m = Mean()
        >>> m.update_state([1.0, 3.0, 5.0, 7.0])
        >>> float(m.result())
        4.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(_on(values, self), sample_weight, torch.mean, self._torch_dtype)
        self.total.add_(values.sum())
        if sample_weight is not None:
            self.count.add_(sample_weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def update_scalar(self, value, weight):
        """Fast path for the trainer's running loss: `total += value * weight; count += weight`.

        `value` is a 0-d tensor on the states' device, `weight` a Python number (the batch size).
        """
        total = self.total
        total.add_(value if value.dtype == total.dtype else value.to(total.dtype), alpha=weight)
        self.count.add_(weight)

    def update_block(self, values, weights):
        """`update_scalar` for many values at once: `total += sum(values[i] * weights[i]); count += sum(weights)`.

        `values` are 0-d tensors on the states' device, `weights` Python numbers (batch sizes).

        Example:
            >>> m = Mean()
            >>> m.update_block([torch.tensor(1.0), torch.tensor(4.0)], [3, 1])
            >>> float(m.result())
            1.75
        """
        total = self.total
        stacked = torch.stack(values).to(total.dtype)
        total.add_(torch.dot(stacked, torch.tensor(weights, dtype=total.dtype, device=total.device)))
        self.count.add_(sum(weights))

    def result(self):
        return divide_no_nan(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Wrap a per-sample function `fn(y_true, y_pred, **kwargs)` into a `Mean` over samples.

    Args:
        fn: the function; it returns one value per sample (or per element).
        name: metric name (default: the snake-cased class name).
        dtype: dtype of the states.
        **kwargs: keyword arguments passed on to `fn`.

    Example:
        >>> def squared(y_true, y_pred):
        ...     return (y_true - y_pred) ** 2
        >>> m = MeanMetricWrapper(fn=squared, name="sq")
        >>> float(m(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0])))
        0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper {self.name!r}: `fn` must be callable. Received: fn={fn!r}")
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = get_mask(y_pred)
        device = self._device
        values = self._fn(to_tensor(y_true, device=device), to_tensor(y_pred, device=device), **self._fn_kwargs)
        sample_weight = apply_mask(sample_weight, mask, self._torch_dtype, reduction="sum")
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        from lamina.metrics import serialize

        config_ = {**super().get_config(), "fn": serialize(self._fn)}
        config_.update({k: _plain(v) for k, v in self._fn_kwargs.items()})
        return config_

    @classmethod
    def from_config(cls, config_):
        config_ = dict(config_)
        if "fn" in config_:
            from lamina.metrics import deserialize

            config_["fn"] = deserialize(config_["fn"])
        return cls(**config_)


def _on(values, metric):
    """Numpy/list inputs go to the metric's device; tensors stay where they are."""
    return values if isinstance(values, torch.Tensor) else to_tensor(values, device=metric._device)


def _plain(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    return value

