"""`Variable`: a `torch.nn.Parameter` with Keras's Variable API (`assign`, `numpy()`, `name`, `path`, ...).

Torch ops on a Variable return plain tensors and cost nothing extra: the class adds methods,
not a `__torch_function__` override.

Example:
    >>> v = Variable(torch.zeros(2), name="bias")
    >>> v.assign([1.0, 2.0]); v.numpy()
    array([1., 2.], dtype=float32)
"""

import numpy as np
import torch


class Variable(torch.nn.Parameter):
    """A layer weight: torch Parameter plus Keras's `Variable` methods and attributes."""

    def __new__(cls, data, trainable=True, name=None, constraint=None, regularizer=None):
        requires_grad = bool(trainable) and (data.is_floating_point() or data.is_complex())
        self = torch.Tensor._make_subclass(cls, data, requires_grad)
        self._keras_name = name
        self.path = name
        self.constraint = constraint
        self.regularizer = regularizer
        self._keras_trainable = bool(trainable)
        return self

    def __init__(self, *args, **kwargs):  # everything happens in __new__
        pass

    def __reduce_ex__(self, proto):  # pickles (and `torch.save`s) as a Variable, Keras attributes included
        return (_rebuild_variable, (self.data, self._keras_trainable, self._keras_name, self.path, self.constraint,
                                    self.regularizer, self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = Variable(self.data.clone(), self._keras_trainable, self.name, self.constraint, self.regularizer)
        out.path = self.path
        out.requires_grad_(self.requires_grad)
        memo[id(self)] = out
        return out

    @property
    def name(self):
        """The variable's short name, e.g. `"kernel"`."""
        return self._keras_name

    @name.setter
    def name(self, value):
        self._keras_name = value

    @property
    def trainable(self):
        """Whether the optimizer updates this variable (torch: `requires_grad`)."""
        return self._keras_trainable

    @trainable.setter
    def trainable(self, value):
        self._keras_trainable = bool(value)
        if self.is_floating_point() or self.is_complex():
            self.requires_grad_(bool(value))

    @property
    def value(self):
        """The variable itself as a torch tensor (so `v.value.grad` is the gradient, as on Keras's torch backend)."""
        return self

    def numpy(self, force=False):
        """A numpy copy of the value (`force` is accepted for `torch.Tensor.numpy` compatibility)."""
        return self.detach().cpu().numpy().copy()

    def _check_shape(self, value):
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in `variable.assign(value)` "
                f"must match. variable.shape={tuple(self.shape)}, Received: value.shape={tuple(value.shape)}. "
                f"Target variable: {self.name}"
            )

    def _as_tensor(self, value):
        if isinstance(value, np.ndarray) or not torch.is_tensor(value):
            value = torch.as_tensor(np.asarray(value))
        return value.to(dtype=self.dtype, device=self.device)

    def assign(self, value):
        """Set the value in place (shape must match). Returns the variable."""
        value = self._as_tensor(value)
        self._check_shape(value)
        with torch.no_grad():  # in place on the Parameter itself: bumps `_version`, so version-keyed caches see it
            self.copy_(value)
        return self

    def assign_add(self, delta):
        """`v += delta` in place."""
        with torch.no_grad():
            self.add_(self._as_tensor(delta))
        return self

    def assign_sub(self, delta):
        """`v -= delta` in place."""
        with torch.no_grad():
            self.sub_(self._as_tensor(delta))
        return self

    def __repr__(self):
        return f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={str(self.dtype).replace('torch.', '')}, value={self.detach().cpu().numpy()}>"


def _rebuild_variable(data, trainable, name, path, constraint, regularizer, requires_grad):
    variable = Variable(data, trainable, name, constraint, regularizer)
    variable.path = path
    variable.requires_grad_(requires_grad)
    return variable
