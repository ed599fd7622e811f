"""The network's architecture: shapes, TF 'SAME' padding, learned upsampling, class logits."""

import pytest
import torch
from torch.nn import functional as F

from silhouette_cam.model import SelfieSegmentationNet, to_class_logits
from silhouette_cam.model.layers import SameConv2d


@pytest.mark.parametrize("height,width", [(256, 256), (144, 256), (64, 96)])
def test_forward_maps_rgb_to_one_logit_per_pixel(height, width):
    net = SelfieSegmentationNet().eval()
    with torch.no_grad():
        logits = net(torch.rand(2, 3, height, width))
    assert logits.shape == (2, 1, height, width)
    assert logits.dtype == torch.float32


def test_parameter_count_matches_mediapipe_selfie_models():
    assert sum(p.numel() for p in SelfieSegmentationNet().parameters()) == 106401


def test_same_padding_puts_the_extra_row_and_column_at_bottom_right():
    conv = SameConv2d(1, 1, 3, stride=2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.zero_()
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # TF SAME for 4 -> 2 with k=3, s=2: total padding 1, all of it after (bottom/right).
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), torch.ones(1, 1, 3, 3), stride=2)
    assert torch.equal(conv(x), expected)
    assert expected[0, 0, 0, 0] == x[0, 0, :3, :3].sum()


def test_head_is_a_non_overlapping_transposed_convolution():
    head = SelfieSegmentationNet().head
    assert head.kernel_size == head.stride == (2, 2)  # kernel = stride: no checkerboard overlap
    with torch.no_grad():
        head.weight.zero_()
        head.bias.zero_()
        head.weight[0, 0, 1, 0] = 1.0                 # tap (row 1, col 0)
        x = torch.zeros(1, head.in_channels, 2, 2)
        x[0, 0, 1, 1] = 5.0
        out = head(x)[0, 0]
    assert out.nonzero().tolist() == [[3, 2]]         # input (1, 1) -> output (2*1 + 1, 2*1 + 0)
    assert out[3, 2] == 5.0


def test_to_class_logits_gives_sigmoid_as_softmax():
    z = torch.randn(1, 1, 4, 5)
    two = to_class_logits(z)
    assert two.shape == (1, 2, 4, 5)
    assert torch.allclose(torch.softmax(two, dim=1)[:, 1:], torch.sigmoid(z), atol=1e-6)
    multi = torch.randn(1, 4, 3, 3)
    assert to_class_logits(multi) is multi


def test_to_class_logits_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"expected \[B, C, H, W\]"):
        to_class_logits(torch.zeros(3, 4))
