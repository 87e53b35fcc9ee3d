"""Nadam: Adam with Nesterov momentum (Keras's momentum-schedule formulation)."""

import torch

from lamina.optimizers._foreach import HostScalar, add_scaled_, add_scaled_ratio_
from lamina.optimizers.base_optimizer import Optimizer, _select
from lamina.registry import register_builtin


@register_builtin("optimizers")
class Nadam(Optimizer):
    """Nadam, Keras's formulation.

    Update rule at step `t` (1-based) for parameter `w` with gradient `g`:
    `u_t = beta_1 * (1 - 0.5 * 0.96**t)`, `u_t1 = beta_1 * (1 - 0.5 * 0.96**(t + 1))`,
    `P_t = P_{t-1} * u_t` (the `u_product` state, starting at 1), `P_t1 = P_t * u_t1`;
    `m = m + (g - m) * (1 - beta_1)`, `v = v + (g**2 - v) * (1 - beta_2)`,
    `m_hat = u_t1 * m / (1 - P_t1) + (1 - u_t) * g / (1 - P_t)`, `v_hat = v / (1 - beta_2**t)`,
    `w = w - lr * m_hat / (sqrt(v_hat) + epsilon)`.

    Args:
        learning_rate: Float, `LearningRateSchedule` or callable. Defaults to 0.001.
        beta_1: Defaults to 0.9.
        beta_2: Defaults to 0.999.
        epsilon: Defaults to 1e-7.
        **kwargs: The base `Optimizer` arguments.

    Example:
        >>> opt = lamina.optimizers.Nadam(learning_rate=1e-3)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])
        dtype = var_list[0].dtype if var_list else torch.float32
        self._u_product = HostScalar(1.0, dtype, self._device)
        self._variables.append(self._u_product.tensor)

    def _host_scalars(self, lr, step):
        """This step's coefficients from the momentum schedule `u_t` (host numbers, so a compiled step reads
        them as inputs instead of recomputing `0.96 ** t` per element). The schedule's running product moves on
        when the step is taken: here for eager steps (`_update`), in `count_graph_step` for compiled ones."""
        beta_1 = self.beta_1
        u_t = beta_1 * (1.0 - 0.5 * 0.96**step)
        u_t1 = beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        product = self._u_product.value() * u_t
        self._next_u_product = product
        return u_t1 / (1 - product * u_t1), (1 - u_t) / (1 - product), (1 - self.beta_2**step) ** -0.5

    def count_graph_step(self):
        super().count_graph_step()
        self._u_product.set(self._next_u_product)

    def _update(self, grads, params, lr, step, idx, scalars=None):
        beta_1, beta_2 = self.beta_1, self.beta_2
        if scalars:
            m_scale, g_scale, v_scale = scalars
        elif isinstance(step, torch.Tensor):  # compiled without host inputs: the schedule in the graph
            u_t = beta_1 * (1.0 - 0.5 * 0.96**step)
            u_t1 = beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
            product = self._u_product.tensor * u_t
            self._u_product.tensor.copy_(product)
            m_scale, g_scale, v_scale = u_t1 / (1 - product * u_t1), (1 - u_t) / (1 - product), (1 - beta_2**step) ** -0.5
        else:
            m_scale, g_scale, v_scale = self._host_scalars(lr, step)
            self._u_product.set(self._next_u_product)
        m, v = _select(self._momentums, idx), _select(self._velocities, idx)
        torch._foreach_lerp_(m, grads, 1 - beta_1)
        torch._foreach_mul_(v, beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - beta_2)
        m_hat = torch._foreach_mul(m, m_scale)
        add_scaled_(m_hat, grads, g_scale)
        denominators = torch._foreach_sqrt(v)
        torch._foreach_mul_(denominators, v_scale)
        torch._foreach_add_(denominators, self.epsilon)
        add_scaled_ratio_(params, m_hat, denominators, -lr)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
