"""The .tflite converter reproduces the shipped weights exactly and refuses anything else loudly."""

import pytest

# The converter reads .tflite flatbuffers with the `tflite` package: the [convert] extra.
pytest.importorskip("tflite", reason="needs the [convert] extra: pip install -e '.[convert]'")

from silhouette_cam.cli import main  # noqa: E402
from silhouette_cam.model import load_weights, shipped_weights_path  # noqa: E402
from silhouette_cam.model.tflite_convert import convert_tflite, convert_tflite_file  # noqa: E402
from tests.conftest import FIXTURES, REPO_ROOT  # noqa: E402

SOURCES = REPO_ROOT / "weights" / "source"


@pytest.mark.parametrize("tflite,variant", [("selfie_segmentation.tflite", "general"),
                                            ("selfie_segmentation_landscape.tflite", "landscape")])
def test_conversion_reproduces_the_shipped_weights(tmp_path, tflite, variant):
    facts = convert_tflite_file(SOURCES / tflite, tmp_path / "out.safetensors")
    _, shipped = load_weights(shipped_weights_path(variant))
    assert facts.sha256 == shipped.sha256
    assert facts.source_sha256 == shipped.source_sha256
    assert facts.variant == variant


def test_every_parameter_is_mapped():
    state, _ = convert_tflite(SOURCES / "selfie_segmentation.tflite")
    assert sum(t.numel() for t in state.values()) == 106401


def test_tflite_of_another_model_is_refused():
    with pytest.raises(ValueError, match="op 1 is PRELU.*another model"):
        convert_tflite(FIXTURES / "tflite" / "hand_recrop.tflite")


@pytest.mark.parametrize("keep", [8, 5000, 248_000])
def test_truncated_tflite_is_refused(tmp_path, keep):
    path = tmp_path / "cut.tflite"
    path.write_bytes((SOURCES / "selfie_segmentation.tflite").read_bytes()[:keep])
    with pytest.raises(ValueError, match="truncated or corrupt TFLite file"):
        convert_tflite(path)


def test_non_tflite_file_is_refused():
    with pytest.raises(ValueError, match="not a TFLite flatbuffer"):
        convert_tflite(FIXTURES / "golden" / "inputs" / "astronaut.jpg")


def test_cli_reports_bad_input_in_one_line_and_exits_2(tmp_path, capsys):
    code = main(["convert-weights", str(tmp_path / "missing.tflite"), "-o", str(tmp_path / "x.safetensors")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "missing.tflite does not exist" in err


def test_cli_writes_weights_and_prints_facts(tmp_path, capsys):
    out = tmp_path / "general.safetensors"
    assert main(["convert-weights", str(SOURCES / "selfie_segmentation.tflite"), "-o", str(out)]) == 0
    assert "selfie/general, input 256x256 RGB 0..1" in capsys.readouterr().out
    assert load_weights(out)[1].sha256 == load_weights(shipped_weights_path("general"))[1].sha256
