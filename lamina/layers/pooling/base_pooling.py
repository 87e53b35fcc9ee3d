"""`BasePooling`: max/average pooling over 1-3 spatial axes with Keras's "valid"/"same" semantics.

"same" is TF-style: windows start `left = total_pad // 2` before the input and the extra pad goes on the
right; max pooling ignores padding (as if padded with -inf) and average pooling divides by the number of
real inputs in the window. Both run as one torch pooling call with no padded copy of the input: torch's
implicit padding with `ceil_mode=True` reproduces the asymmetric window, except at stride 1 where a pad of
`left + 1` is used and the first output dropped (a view).
"""

import torch
import torch.nn.functional as F

from lamina.backend.config import standardize_data_format
from lamina.layers.convolution import _utils
from lamina.layers.pooling import compiled_max_pool
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer

_TORCH_POOL = {
    ("max", 1): F.max_pool1d, ("max", 2): F.max_pool2d, ("max", 3): F.max_pool3d,
    ("average", 1): F.avg_pool1d, ("average", 2): F.avg_pool2d, ("average", 3): F.avg_pool3d,
}


def same_pool_arguments(spatial, pool_size, strides):
    """torch arguments for TF "same" pooling: `(padding, ceil_mode, drop_first)` (per-axis drop flags)."""
    padding, drop, ceil_mode = [], [], False
    for n, k, s in zip(spatial, pool_size, strides):
        left, right = _utils.same_padding(n, k, s)
        if left == right:
            padding.append(left)
            drop.append(False)
        elif s == 1:  # pad left + 1 on both sides, then drop the first window
            padding.append(right)
            drop.append(True)
            ceil_mode = True
        else:  # windows past the right edge are clipped by ceil_mode
            padding.append(left)
            drop.append(False)
            ceil_mode = True
    return tuple(padding), ceil_mode, tuple(drop) if any(drop) else None


class BasePooling(Layer):
    """Shared base of `MaxPooling1D/2D/3D` and `AveragePooling1D/2D/3D`.

    Args:
        pool_size: An int or `pool_dimensions` ints: the window size.
        strides: An int, `pool_dimensions` ints, or None (default: `pool_size`).
        pool_dimensions: Number of spatial axes.
        pool_mode: `"max"` or `"average"`.
        padding: `"valid"` or `"same"` (case-insensitive).
        data_format: `"channels_last"` (default from `image_data_format()`) or `"channels_first"`.

    Example:
        >>> lamina.layers.MaxPooling2D(2, padding="same")(np.ones((1, 5, 5, 3))).shape
        torch.Size([1, 3, 3, 3])
    """

    def __init__(self, pool_size, strides, pool_dimensions, pool_mode="max", padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = _utils.standardize_tuple(pool_size, pool_dimensions, "pool_size", self.name)
        strides = pool_size if strides is None else strides
        self.strides = _utils.standardize_tuple(strides, pool_dimensions, "strides", self.name)
        if pool_mode not in ("max", "average"):
            raise ValueError(f"`pool_mode` of layer '{self.name}' must be either 'max' or 'average'. Received: {pool_mode!r}.")
        self.pool_mode = pool_mode
        self.padding = _utils.standardize_padding(padding, self.name)
        self.data_format = standardize_data_format(data_format)
        self._rank = pool_dimensions
        self._ndim = pool_dimensions + 2
        self._channels_last = self.data_format == "channels_last"
        self._pool = _TORCH_POOL[(pool_mode, pool_dimensions)]
        self._extra = {"count_include_pad": False} if pool_mode == "average" else {}
        self._same_cache = {}
        self.input_spec = InputSpec(ndim=self._ndim)
        self.built = True  # no weights: built at construction, as in Keras

    def call(self, inputs):
        if inputs.dim() != self._ndim:
            self._check_input_spec(inputs)
        x = _utils.to_channels_first(inputs, self._rank) if self._channels_last else inputs
        pool = self._pool
        if pool is F.max_pool2d and torch.compiler.is_compiling() and not torch.compiler.is_exporting():
            pool = compiled_max_pool.max_pool2d  # opaque to inductor (see compiled_max_pool.py); exports keep aten
        if self.padding == "valid":
            out = pool(x, self.pool_size, self.strides, 0, **self._extra)
        else:
            spatial = tuple(x.shape[2:])
            entry = self._same_cache.get(spatial)
            if entry is None:
                entry = self._same_cache[spatial] = same_pool_arguments(spatial, self.pool_size, self.strides)
            padding, ceil_mode, drop = entry
            out = pool(x, self.pool_size, self.strides, padding, ceil_mode=ceil_mode, **self._extra)
            if drop is not None:
                for axis, flag in enumerate(drop):
                    if flag:
                        out = out.narrow(axis + 2, 1, out.shape[axis + 2] - 1)
        return _utils.to_channels_last(out, self._rank) if self._channels_last else out

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        return _utils.spatial_output_shape(self, input_shape, self._rank, channels, self.pool_size, self.strides,
                                           self.padding, (1,) * self._rank, self.data_format)

    def get_config(self):
        base = Layer.get_config(self)
        return {"name": base["name"], "trainable": base["trainable"], "dtype": base["dtype"],
                "pool_size": self.pool_size, "padding": self.padding, "strides": self.strides,
                "data_format": self.data_format}
