"""`Dense`: `activation(inputs @ kernel + bias)`, kernel stored `(in, out)` as in Keras."""

import torch
import torch.nn.functional as F

from lamina import activations, constraints, initializers, regularizers
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.registry import register_builtin


@register_builtin("layers", "Dense")
class Dense(Layer):
    """Densely-connected layer: `activation(inputs @ kernel + bias)`.

    Args:
        units: Dimensionality of the output space.
        activation: Activation name or callable. Default: none (linear).
        use_bias: Whether to add a bias vector.
        kernel_initializer, bias_initializer: Default `"glorot_uniform"`, `"zeros"`.
        kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint.

    Example:
        >>> layer = lamina.layers.Dense(4, activation="relu")
        >>> layer(np.ones((2, 3))).shape
        torch.Size([2, 4])
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: units={units}")
        self.units = units
        self.activation = activations.get(activation)
        self._linear_activation = self.activation is activations.linear
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        if self._input_shape_arg is not None:
            self.build((self._batch_size_arg,) + self._input_shape_arg)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to layer '{self.name}' should be defined. Found None. Full input shape received: {input_shape}")
        self.kernel = self.add_weight(shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint, name="kernel")
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint, name="bias")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs):
        params = self._parameters  # read directly: `self.kernel` goes through nn.Module.__getattr__ (~1 µs each)
        kernel, bias = params.get("kernel"), params.get("bias")
        if kernel is None:  # a subclass keeping its kernel outside the registered parameters
            kernel = self.kernel
        if bias is None:
            bias = self.bias
        if inputs.dtype != kernel.dtype:  # e.g. int64 one-hot from a lookup layer: matmul promotes, as in Keras
            inputs = inputs.to(kernel.dtype)
        if inputs.dim() == 2 and bias is not None:
            out = torch.addmm(bias, inputs, kernel)
        else:
            out = torch.matmul(inputs, kernel)
            if bias is not None:
                out = out + bias
        return out if self._linear_activation else self.activation(out)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # Keras's Dense config leaves it out
        return config
