"""`silhouette-cam train --images DIR --masks DIR [--model ...] [--classes N] [--epochs N] [--out FILE]`.

Fine-tunes a shipped selfie network or trains an S-Net from scratch (see docs/training.md). Writes the
kept weights (the last epoch when fine-tuning, the best by validation mean IoU for S-Net) to --out,
usable as `--weights` everywhere, and a resumable state beside them (NAME.train-state: safetensors
tensors + JSON, never unpickled, loadable on CPU or GPU; continue with --resume).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from silhouette_cam.segmenter import DEVICE_CHOICES
from silhouette_cam.training.config import BEST_BY_CHOICES, KEEP_CHOICES, MODEL_CHOICES, TrainConfig, parse_size


def size_argument(text: str) -> tuple[int, int]:
    try:
        return parse_size(text)
    except ValueError as exc:  # argparse shows ArgumentTypeError's own message
        raise argparse.ArgumentTypeError(str(exc)) from None


def temperature_argument(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--temperature must be a number > 0 or auto, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"--temperature must be a number > 0 or auto, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--images", type=Path, required=True, metavar="DIR", help="folder of training images")
    data.add_argument(
        "--masks",
        type=Path,
        required=True,
        metavar="DIR",
        help="PNG masks with the images' stems: 0/255 person masks, or class ids 0..C-1 "
        "(255 = ignore) with --classes N or a classes.json beside them",
    )
    data.add_argument("--classes", type=int, metavar="N", help="number of classes incl. background (default 2)")
    data.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share held back for validation (0 = validate on the training set: overfit check)",
    )
    data.add_argument("--no-augment", dest="augment", action="store_false", help="no random transforms")
    data.add_argument(
        "--no-flip",
        dest="flip",
        action="store_false",
        help="no horizontal flips (for label sets with left/right classes)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        choices=sorted(MODEL_CHOICES),
        default="selfie-general",
        help="fine-tune a shipped selfie network, or train an S-Net from scratch",
    )
    model.add_argument(
        "--init-weights",
        type=Path,
        metavar="FILE",
        help="start fine-tuning from this weights file instead of the shipped one",
    )
    model.add_argument("--size", type=size_argument, metavar="HxW", help="S-Net input size (multiples of 32; 256)")
    model.add_argument(
        "--encoder",
        choices=("mobilenet_v3_small", "mobilenet_v3_large"),
        default="mobilenet_v3_small",
        help="S-Net encoder",
    )
    model.add_argument(
        "--encoder-weights",
        type=Path,
        metavar="FILE",
        help="ImageNet weights for the S-Net encoder as .safetensors (turn a torchvision .pth into one with "
        "`silhouette-cam convert-weights --from-torchvision FILE.pth -o FILE.safetensors`; default: random init)",
    )
    model.add_argument("--freeze-encoder", action="store_true", help="train only the decoder and head")
    loss = parser.add_argument_group("loss")
    loss.add_argument(
        "--class-weights",
        metavar="METHOD|W1,W2,...",
        help="median (median-frequency balancing), inverse, none, or one number per class "
        "(default: median for snet, none when fine-tuning)",
    )
    loss.add_argument(
        "--border-weights",
        action=argparse.BooleanOptionalAction,
        help="the U-Net border term w0 * exp(-(d1 + d2)^2 / 2 sigma^2) (default: on for snet, off when fine-tuning)",
    )
    loss.add_argument("--w0", type=float, default=10.0, help="U-Net border term weight")
    loss.add_argument("--sigma", type=float, default=5.0, help="U-Net border term width in pixels")
    loss.add_argument("--dice", type=float, metavar="WEIGHT",
                      help="add WEIGHT x soft Dice loss (default: 0 for snet, 1 when fine-tuning)")
    loss.add_argument(
        "--temperature",
        type=temperature_argument,
        default=None,
        metavar="T|auto",
        help="the loss sees logits / T; auto (default): T that calibrates the starting weights when "
        "fine-tuning (~20 for the shipped networks), 1 for S-Net",
    )
    run_group = parser.add_argument_group("run")
    run_group.add_argument("--epochs", type=int, default=20, metavar="N",
                           help="passes over the training images (default 20)")
    run_group.add_argument("--batch-size", type=int, default=8, metavar="N",
                           help="images per optimizer step; needs at least N training images (default 8)")
    run_group.add_argument("--lr", type=float, help="peak learning rate (default 5e-5 fine-tuning, 5e-3 S-Net)")
    run_group.add_argument("--seed", type=int, default=0,
                           help="seeds the validation split, shuffling and augmentation: same seed, same run "
                           "(default 0)")
    run_group.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                           help="where training runs: auto uses a CUDA GPU when there is one, else the CPU "
                           "(default auto)")
    run_group.add_argument("--workers", type=int, default=0, metavar="N",
                           help="data loader processes; 0 loads images in the training process (default 0)")
    run_group.add_argument("--threads", type=int, help="CPU threads (default: torch's; 1 is fastest on a busy CPU)")
    run_group.add_argument("--time-limit", type=float, metavar="MIN", help="stop before an epoch would pass this")
    run_group.add_argument(
        "--out",
        type=Path,
        default=Path("weights/custom.safetensors"),
        metavar="FILE",
        help="where to write the kept weights (.safetensors; see --keep); the resume state goes beside it as "
        "NAME.train-state (default weights/custom.safetensors)",
    )
    run_group.add_argument(
        "--keep",
        choices=KEEP_CHOICES,
        help="which epoch's weights go to --out: the best by --best-by on the validation split, or the "
        "last (end of the schedule) (default: last when fine-tuning, best for snet)",
    )
    run_group.add_argument(
        "--best-by",
        choices=BEST_BY_CHOICES,
        default="miou",
        help="validation score that picks the epoch written to --out with --keep best",
    )
    run_group.add_argument("--resume", action="store_true",
                           help="continue from the state saved beside --out (NAME.train-state)")
    run_group.add_argument("--quiet", action="store_true", help="no progress bars")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    from silhouette_cam.training.dataset import read_label_spec
    from silhouette_cam.training.weightmaps import parse_class_weights

    num_classes = read_label_spec(args.masks, args.classes).num_classes
    return TrainConfig(
        images=args.images,
        masks=args.masks,
        out=args.out,
        model=args.model,
        init_weights=args.init_weights,
        classes=args.classes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        val_fraction=args.val_fraction,
        seed=args.seed,
        size=args.size,
        encoder=args.encoder,
        encoder_weights=args.encoder_weights,
        freeze_encoder=args.freeze_encoder,
        class_weights=None if args.class_weights is None else parse_class_weights(args.class_weights, num_classes),
        border_weights=args.border_weights,
        w0=args.w0,
        sigma_px=args.sigma,
        dice_weight=args.dice,
        temperature=args.temperature,
        augment=args.augment,
        flip=args.flip,
        device=args.device,
        workers=args.workers,
        threads=args.threads,
        time_limit_min=args.time_limit,
        resume=args.resume,
        keep=args.keep,
        best_by=args.best_by,
        progress=not args.quiet,
    )


def run(args: argparse.Namespace) -> int:
    from silhouette_cam.training.trainer import fit

    config = config_from_args(args)
    result = fit(config)
    print(
        f"kept epoch {result.best_epoch} ({config.keep}), validation mean IoU {result.best_miou:.4f}; "
        f"weights written to {result.out} (resume state {config.state_path})"
    )
    return 0
