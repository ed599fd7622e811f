"""train_one_epoch / evaluate on a tiny model: the loss falls, predictions line up with labels."""

from __future__ import annotations

import pytest
import torch

from silhouette_cam.training.loops import evaluate, train_one_epoch
from silhouette_cam.training.losses import SegmentationLoss


def batch_of_squares() -> dict[str, torch.Tensor]:
    """Class 1 where the image's red channel is bright, class 2 where its green is bright."""
    mask = torch.zeros(4, 16, 16, dtype=torch.long)
    mask[:, 2:8, 2:8] = 1
    mask[:, 9:14, 6:15] = 2
    image = torch.stack([(mask == 1).float(), (mask == 2).float(), torch.zeros(4, 16, 16)], dim=1)
    return {"image": image, "mask": mask, "border": torch.zeros(4, 16, 16)}


def test_training_lowers_the_loss_and_evaluate_scores_the_result():
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 1)
    batch = batch_of_squares()
    optimizer = torch.optim.SGD(model.parameters(), lr=2.0)
    criterion = SegmentationLoss()
    first = train_one_epoch(model, [batch], criterion, optimizer, torch.device("cpu"))
    seen = []
    for _ in range(40):
        last = train_one_epoch(model, [batch], criterion, optimizer, torch.device("cpu"), on_step=seen.append)
    assert len(seen) == 40 and seen[-1] == last
    assert last < 0.2 * first
    result = evaluate(model, [batch], 3, torch.device("cpu"))
    assert result.mean_iou == 1.0 and result.boundary_f == 1.0
    assert result.confusion.sum() == batch["mask"].numel()


def test_binary_models_train_through_two_class_logits():
    model = torch.nn.Conv2d(3, 1, 1)  # one person logit, like the selfie network
    batch = batch_of_squares()
    batch["mask"] = (batch["mask"] > 0).long()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loss = train_one_epoch(model, [batch], SegmentationLoss(), optimizer, torch.device("cpu"))
    assert loss > 0
    assert evaluate(model, [batch], 2, torch.device("cpu")).confusion.shape == (2, 2)


def test_evaluate_counts_a_perfect_model_as_one():
    class Oracle(torch.nn.Module):
        def forward(self, image):  # the "image" carries the truth as its first channel
            return torch.nn.functional.one_hot(image[:, 0].long(), 3).permute(0, 3, 1, 2).float()

    mask = torch.zeros(2, 16, 16, dtype=torch.long)
    mask[:, 4:8, 4:10] = 1
    mask[1, 10:14, 2:6] = 2
    batch = {"image": mask[:, None].float().expand(-1, 3, -1, -1), "mask": mask}
    result = evaluate(Oracle(), [batch], 3, torch.device("cpu"))
    assert result.mean_iou == 1.0 and result.boundary_f == 1.0


def test_a_diverging_loss_stops_with_a_clear_error():
    model = torch.nn.Conv2d(3, 3, 1)
    batch = batch_of_squares()
    batch["image"] = batch["image"] * float("nan")
    with pytest.raises(FloatingPointError, match="lower --lr"):
        train_one_epoch(
            model, [batch], SegmentationLoss(), torch.optim.SGD(model.parameters(), lr=1.0), torch.device("cpu")
        )
    with pytest.raises(ValueError, match="no batches"):
        train_one_epoch(model, [], SegmentationLoss(), torch.optim.SGD(model.parameters(), lr=1.0), torch.device("cpu"))
