"""2-D max pooling as one opaque op inside `torch.compile` graphs (`jit_compile=True`).

Inductor (torch 2.13, CPU) lowers `max_pool2d_with_indices_backward` into generated loops that it fuses with the
neighbouring ReLU backward and the optimizer update; on the channels-last activations of a Keras convnet that
fused kernel ran ~3x slower than torch's own pooling kernels (the MNIST convnet's compiled step was 0.83x
eager). Wrapped as custom ops, the forward and backward pooling run torch's kernels while everything around
them still compiles. Eager calls keep using `F.max_pool2d` directly (custom ops add dispatch cost).

Example:
    >>> out = max_pool2d(x, (2, 2), (2, 2), (0, 0), False)   # inside a compiled step
"""

import torch
from torch import Tensor


@torch.library.custom_op("lamina::max_pool2d_with_indices", mutates_args=())
def _forward(x: Tensor, kernel_size: list[int], stride: list[int], padding: list[int],
             ceil_mode: bool) -> tuple[Tensor, Tensor]:
    out, indices = torch.ops.aten.max_pool2d_with_indices(x, kernel_size, stride, padding, [1, 1], ceil_mode)
    return out, indices


@_forward.register_fake
def _forward_fake(x, kernel_size, stride, padding, ceil_mode):
    return torch.ops.aten.max_pool2d_with_indices(x, kernel_size, stride, padding, [1, 1], ceil_mode)


@torch.library.custom_op("lamina::max_pool2d_with_indices_backward", mutates_args=())
def _backward(grad: Tensor, x: Tensor, indices: Tensor, kernel_size: list[int], stride: list[int],
              padding: list[int], ceil_mode: bool) -> Tensor:
    out = torch.ops.aten.max_pool2d_with_indices_backward(grad, x, kernel_size, stride, padding, [1, 1], ceil_mode,
                                                          indices)
    return out.contiguous(memory_format=_memory_format(x))


@_backward.register_fake
def _backward_fake(grad, x, indices, kernel_size, stride, padding, ceil_mode):
    return torch.empty(x.shape, dtype=grad.dtype, device=grad.device, memory_format=_memory_format(x))


def _setup_context(ctx, inputs, output):
    x, kernel_size, stride, padding, ceil_mode = inputs
    ctx.save_for_backward(x, output[1])
    ctx.arguments = (kernel_size, stride, padding, ceil_mode)


def _backward_rule(ctx, grad, _grad_indices):
    x, indices = ctx.saved_tensors
    return _backward(grad.contiguous(memory_format=_memory_format(x)), x, indices, *ctx.arguments), None, None, None, None


def _memory_format(x):
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    return torch.channels_last if channels_last else torch.contiguous_format


_forward.register_autograd(_backward_rule, setup_context=_setup_context)


def max_pool2d(x, kernel_size, stride, padding=0, ceil_mode=False):
    """`F.max_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode)` as an opaque op for compiled graphs."""
    padding = [padding, padding] if isinstance(padding, int) else list(padding)
    return _forward(x, list(kernel_size), list(stride), padding, bool(ceil_mode))[0]
