"""Multi-tensor building blocks shared by the optimizers.

Update rules receive their scalar coefficients (learning rate, bias corrections) either as
Python floats (the eager path: computed on the host, no device work) or as 0-d tensors (inside
`torch.compile`, where a changing Python number would recompile). The helpers here accept both
and pick the single fused `torch._foreach_*` kernel when the scalar is a Python number.

Example:
    >>> params, grads = [torch.ones(2)], [torch.ones(2)]
    >>> add_scaled_(params, grads, -0.1)
    >>> params[0]
    tensor([0.9000, 0.9000])
"""

import numpy as np
import torch


def add_scaled_(targets, tensors, scale):
    """`targets[i] += scale * tensors[i]` in place; `scale` a float or a 0-d tensor."""
    if isinstance(scale, torch.Tensor):
        torch._foreach_add_(targets, torch._foreach_mul(tensors, scale))
    else:
        torch._foreach_add_(targets, tensors, alpha=scale)


def add_scaled_ratio_(targets, numerators, denominators, scale):
    """`targets[i] += scale * numerators[i] / denominators[i]` in place."""
    if isinstance(scale, torch.Tensor):
        ratio = torch._foreach_div(numerators, denominators)
        torch._foreach_mul_(ratio, scale)
        torch._foreach_add_(targets, ratio)
    else:
        torch._foreach_addcdiv_(targets, numerators, denominators, value=scale)


def clip_by_norm(grads, clipnorm):
    """Each gradient rescaled to L2 norm at most `clipnorm`: `g * clipnorm / max(||g||, clipnorm)`."""
    norms = torch._foreach_norm(grads)
    torch._foreach_maximum_(norms, clipnorm)
    torch._foreach_reciprocal_(norms)
    torch._foreach_mul_(norms, clipnorm)
    return torch._foreach_mul(grads, norms)


def clip_by_global_norm(grads, clipnorm):
    """All gradients scaled by `clipnorm * min(1 / global_norm, 1 / clipnorm)` (NaN when the norm is not finite)."""
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    scale = clipnorm * torch.clamp(norm.reciprocal(), max=1.0 / clipnorm) + (norm - norm)
    return torch._foreach_mul(grads, scale)


def clip_by_value(grads, clipvalue):
    """Each gradient element clamped to `[-clipvalue, clipvalue]`."""
    clipped = torch._foreach_clamp_min(grads, -clipvalue)
    torch._foreach_clamp_max_(clipped, clipvalue)
    return clipped


class HostScalar:
    """A 0-d state tensor (saved with the optimizer) plus a host copy of its value.

    Eager steps read `value()` and never touch the device. Any in-place write to the tensor
    behind our back (loading weights, `copy_`, `fill_`, a compiled step) bumps its version
    counter, and the next `value()` re-reads it once.

    Example:
        >>> step = HostScalar(0, torch.int64)
        >>> step.add(1); step.value()
        1
    """

    __slots__ = ("tensor", "_value", "_version")

    def __init__(self, value, dtype, device=None):
        self.tensor = torch.tensor(value, dtype=dtype, device=device)
        self._value = self._read()
        self._version = self.tensor._version

    def _read(self):
        # Device sync on accelerators: only runs after an outside write to the tensor.
        return int(self.tensor) if not self.tensor.is_floating_point() else float(self.tensor)

    def value(self):
        if self.tensor._version != self._version:
            self._value = self._read()
            self._version = self.tensor._version
        return self._value

    def set(self, value):
        if isinstance(value, torch.Tensor):
            self.tensor.copy_(value)
            self._value = self._read()
        else:
            self.tensor.fill_(value)
            self._value = int(value) if not self.tensor.is_floating_point() else _round_like(value, self.tensor)
        self._version = self.tensor._version

    def add(self, amount):
        value = self.value()
        self.tensor.add_(amount)
        self._value = value + amount
        self._version = self.tensor._version

    def added_elsewhere(self, amount):
        """The tensor was just incremented by `amount` outside `add` (e.g. by a compiled graph): follow on the host
        without reading the tensor back."""
        self._value += amount
        self._version = self.tensor._version

    def to(self, device):
        if self.tensor.device != torch.device(device):
            self.tensor = self.tensor.to(device)
            self._version = self.tensor._version


def _round_like(value, tensor):
    """A Python float rounded to the tensor's floating dtype, as storing it would."""
    numpy_dtype = {torch.float16: np.float16, torch.float32: np.float32}.get(tensor.dtype)
    return float(numpy_dtype(value)) if numpy_dtype is not None else float(value)
