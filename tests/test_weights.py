"""Weight files: facts round-trip, and every kind of bad file is refused with one clear line."""

import dataclasses

import pytest
import torch
from safetensors.torch import save_file

from silhouette_cam.model import (
    SelfieSegmentationNet,
    WeightFacts,
    build_model,
    load_weights,
    save_weights,
    shipped_weights_path,
)

FACTS = WeightFacts(architecture="selfie", variant="test", input_height=64, input_width=64)


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "net.safetensors"
    save_weights(path, SelfieSegmentationNet().state_dict(), FACTS)
    return path


def test_round_trip_keeps_tensors_and_facts(weights_file):
    module, facts = build_model(weights=weights_file)
    assert dataclasses.replace(facts, sha256="") == FACTS
    assert len(facts.sha256) == 64
    assert not module.training


@pytest.mark.parametrize("variant,size", [("general", (256, 256)), ("landscape", (144, 256))])
def test_shipped_weights_carry_their_facts(variant, size):
    _, facts = load_weights(shipped_weights_path(variant))
    assert (facts.variant, (facts.input_height, facts.input_width)) == (variant, size)
    assert facts.channel_order == "RGB" and facts.value_range == "0..1"
    assert facts.classes == ("background", "person")
    assert len(facts.source_sha256) == 64 and "Apache-2.0" in facts.license


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_weights(tmp_path / "nope.safetensors")


def test_truncated_file(weights_file):
    data = weights_file.read_bytes()
    weights_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_weights(weights_file)


def test_foreign_safetensors_without_facts(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(ValueError, match="metadata field 'format'.*not a silhouette_cam weights file"):
        load_weights(path)


def test_pickle_file_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(SelfieSegmentationNet().state_dict(), path)
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_weights(path)


def test_tampered_tensor_fails_the_checksum(weights_file, tmp_path):
    tensors, facts = load_weights(weights_file)
    tensors["head.bias"] = tensors["head.bias"] + 1
    tampered = tmp_path / "tampered.safetensors"
    save_file(tensors, str(tampered), metadata=facts.to_metadata())
    with pytest.raises(ValueError, match="tensors hash to .* expected sha256"):
        load_weights(tampered)


def test_wrong_shape_names_the_tensor_and_both_shapes(tmp_path):
    state = SelfieSegmentationNet().state_dict()
    state["head.bias"] = torch.zeros(3)
    path = tmp_path / "bad.safetensors"
    save_weights(path, state, FACTS)
    with pytest.raises(ValueError, match=r"tensor 'head.bias' has shape \(3,\), expected \(1,\)"):
        build_model(weights=path)


def test_unknown_architecture_names_the_choices(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_weights(path, {"w": torch.zeros(1)}, dataclasses.replace(FACTS, architecture="resnet"))
    with pytest.raises(ValueError, match="unknown architecture 'resnet', expected one of"):
        build_model(weights=path)
