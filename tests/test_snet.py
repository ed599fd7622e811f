"""S-Net: shapes at any size, learned upsampling with skips, builder checks, weights round trip."""

from __future__ import annotations

import pytest
import torch
import torchvision

from silhouette_cam.model import build_model, save_weights
from silhouette_cam.model.snet import SNet, build_from_facts, build_snet
from tests.make_shapes_dataset import SHAPES_SNET_FACTS


@pytest.fixture(scope="module")
def snet() -> SNet:
    torch.manual_seed(0)
    return build_snet(num_classes=3).eval()


@pytest.mark.parametrize("size", [(64, 64), (50, 70)])
def test_logits_have_c_channels_at_input_size(snet, size):
    with torch.no_grad():
        logits = snet(torch.rand(2, 3, *size))
    assert logits.shape == (2, 3, *size) and logits.dtype == torch.float32


def test_decoder_is_transposed_convs_with_a_skip_per_scale(snet):
    ups = [m for m in snet.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(ups) == 5 and all(m.kernel_size == (2, 2) and m.stride == (2, 2) for m in ups)
    assert len(snet.taps) == 5 and len(snet.decoder) == 4  # skips at 1/16, 1/8, 1/4, 1/2 (1/32 is the input)


def test_normalization_is_inside_and_gradients_reach_the_encoder():
    torch.manual_seed(0)
    model = build_snet(num_classes=2)
    loss = model(torch.rand(1, 3, 64, 64)).mean()
    loss.backward()
    assert model.encoder[0][0].weight.grad.abs().sum() > 0
    assert "mean" not in model.state_dict()  # normalization constants are not weights


def test_builder_validates():
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        build_snet(num_classes=1)
    with pytest.raises(TypeError, match="num_classes must be an int"):
        build_snet(num_classes=2.0)
    with pytest.raises(ValueError, match="unknown S-Net encoder"):
        build_snet(num_classes=2, encoder="resnet")


def test_imagenet_encoder_weights_load_from_converted_safetensors(tmp_path):
    from silhouette_cam.cli.convert import convert_torchvision

    torch.manual_seed(1)
    classifier = torchvision.models.mobilenet_v3_small()
    torch.save(classifier.state_dict(), tmp_path / "mnv3s.pth")
    convert_torchvision(tmp_path / "mnv3s.pth", tmp_path / "mnv3s.safetensors")
    model = build_snet(num_classes=2, encoder_weights=tmp_path / "mnv3s.safetensors")
    assert torch.equal(model.encoder[0][0].weight, classifier.features[0][0].weight)
    torch.save(torchvision.models.mobilenet_v3_large().state_dict(), tmp_path / "large.pth")
    convert_torchvision(tmp_path / "large.pth", tmp_path / "large.safetensors")
    with pytest.raises(ValueError, match="encoder weights .*large.safetensors: (missing|.*has shape)"):
        build_snet(num_classes=2, encoder_weights=tmp_path / "large.safetensors")
    with pytest.raises(FileNotFoundError):
        build_snet(num_classes=2, encoder_weights=tmp_path / "missing.safetensors")


def test_encoder_weights_are_never_unpickled(tmp_path):
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), tmp_path / "mnv3s.pth")
    with pytest.raises(ValueError, match=r"mnv3s.pth: expected a .safetensors file .*--from-torchvision"):
        build_snet(num_classes=2, encoder_weights=tmp_path / "mnv3s.pth")
    (tmp_path / "pickle.safetensors").write_bytes((tmp_path / "mnv3s.pth").read_bytes())
    with pytest.raises(ValueError, match="pickle.safetensors is not a readable safetensors file"):
        build_snet(num_classes=2, encoder_weights=tmp_path / "pickle.safetensors")


def test_saved_snet_loads_through_the_model_registry(tmp_path, snet):
    save_weights(tmp_path / "s.safetensors", snet.state_dict(), SHAPES_SNET_FACTS)
    module, loaded = build_model(weights=tmp_path / "s.safetensors")
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(module(x), snet(x))
    assert loaded.classes == SHAPES_SNET_FACTS.classes
    assert isinstance(build_from_facts(loaded), SNet)
