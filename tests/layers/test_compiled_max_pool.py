"""The compiled-graph form of 2-D max pooling (lamina/layers/pooling/compiled_max_pool.py) matches `F.max_pool2d`."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lamina
from lamina.layers.pooling.compiled_max_pool import max_pool2d


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("padding, ceil_mode", [(0, False), ((1, 0), True)])
def test_values_and_gradients_match_torch_max_pool(channels_last, padding, ceil_mode):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 6)
    x[0, 0, :2, :2] = 1.0  # ties: the gradient goes to the first maximum, as torch (and Keras) do
    if channels_last:
        x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)
    ours_x, ref_x = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = max_pool2d(ours_x, (2, 2), (2, 2), padding, ceil_mode)
    ref = F.max_pool2d(ref_x, (2, 2), (2, 2), padding, ceil_mode=ceil_mode)
    torch.testing.assert_close(ours, ref)
    grad = torch.randn_like(ref)
    ours.backward(grad)
    ref.backward(grad)
    torch.testing.assert_close(ours_x.grad, ref_x.grad)
    torch.library.opcheck(torch.ops.lamina.max_pool2d_with_indices, (x, [2, 2], [2, 2], [0, 0], False))


def test_compiled_convnet_step_with_max_pooling_matches_eager():
    rs = np.random.RandomState(0)
    x, y = rs.randn(16, 8, 8, 2).astype("float32"), rs.randint(0, 3, 16)

    def run(jit):
        torch.manual_seed(0)
        model = lamina.Sequential([lamina.Input((8, 8, 2)), lamina.layers.Conv2D(4, 3, activation="relu"),
                                   lamina.layers.MaxPooling2D(padding="same"), lamina.layers.Flatten(),
                                   lamina.layers.Dense(3)])
        model.compile(lamina.optimizers.Adam(0.01), lamina.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return model

    eager, compiled = run(False), run(True)
    assert not compiled._compiled_step.failed
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_traced_max_pooling_layer_calls_the_custom_op():
    layer = lamina.layers.MaxPooling2D()
    explanation = torch._dynamo.explain(layer.call)(torch.randn(2, 6, 6, 3))
    code = "".join(g.code for g in explanation.graphs)
    assert "lamina.max_pool2d_with_indices" in code and explanation.graph_break_count == 0


def test_exported_max_pooling_keeps_the_aten_op():
    model = lamina.Sequential([lamina.Input((6, 6, 3)), lamina.layers.MaxPooling2D()])
    exported = torch.export.export(model, (torch.randn(2, 6, 6, 3),))
    code = exported.graph_module.code
    assert "lamina" not in code and "max_pool2d" in code
