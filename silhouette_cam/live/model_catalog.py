"""What the model choice offers: the shipped variants, then every trained / custom weights file found.

    find_weights()                       # [WeightsEntry] in weights_folders(), shipped files left out
    describe_weights("my.safetensors")   # .label "my (3 classes)"; .problem "" or why it is unusable

A choice is a string: a shipped variant (VARIANTS) or the absolute path of a weights file.
Free of Qt and torch on purpose: the GUI thread scans when the model list opens, and importing
torch there would freeze the window for a second. Facts come from the safetensors header alone
(silhouette_cam.weight_facts); the full check, checksum included, runs when the engine loads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from silhouette_cam.weight_facts import MODEL_CHOICES, SHIPPED_VARIANTS, default_weights_dir, read_facts

VARIANTS = MODEL_CHOICES  # the shipped choices, listed first
SHIPPED_FILES = tuple(SHIPPED_VARIANTS.values())
TRAIN_OUT_FOLDER = Path("weights")  # `silhouette-cam train` writes weights/custom.safetensors by default
SUFFIX = ".safetensors"


def weights_folders() -> list[Path]:
    """Where trained models are looked for: the weights folder, then ./weights (train's default --out)."""
    folders: list[Path] = []
    for folder in (default_weights_dir(), Path.cwd() / TRAIN_OUT_FOLDER):
        if all(folder.resolve() != known.resolve() for known in folders):
            folders.append(folder)
    return folders


def is_weights_choice(choice: str) -> bool:
    """True for a weights file path, False for a shipped variant."""
    return choice not in VARIANTS


def model_label(path: str | Path, num_classes: int) -> str:
    """How people see a weights file: its stem, with the class count when it has more than two."""
    stem = Path(path).stem
    return f"{stem} ({num_classes} classes)" if num_classes > 2 else stem


@dataclass(frozen=True)
class WeightsEntry:
    """One weights file as the model list shows it."""

    path: Path
    architecture: str = ""
    classes: tuple[str, ...] = ()
    input_size: tuple[int, int] = (0, 0)  # (height, width) the model was trained at
    problem: str = ""  # one line: why it cannot be used; "" when its facts were read

    @property
    def usable(self) -> bool:
        return not self.problem

    @property
    def label(self) -> str:
        return model_label(self.path, len(self.classes))

    @property
    def details(self) -> str:
        """A tooltip: the path, then the facts or the problem."""
        if self.problem:
            return f"{self.path}\nCannot be used: {self.problem}"
        height, width = self.input_size
        return (f"{self.path}\n{self.architecture}, {len(self.classes)} classes "
                f"({', '.join(self.classes)}), trained at {height}x{width}")


def describe_weights(path: str | Path) -> WeightsEntry:
    """The entry for `path`, reading only the file's header; never raises."""
    path = Path(path)
    if not path.is_file():
        return WeightsEntry(path, problem="file not found")
    try:
        facts = read_facts(path)
    except (OSError, ValueError) as exc:
        return WeightsEntry(path, problem=str(exc))
    return WeightsEntry(path, facts.architecture, facts.classes, (facts.input_height, facts.input_width))


def find_weights(folders: list[Path] | None = None) -> list[WeightsEntry]:
    """Every *.safetensors in `folders` (default weights_folders()), shipped files left out, by name."""
    entries: list[WeightsEntry] = []
    for folder in weights_folders() if folders is None else folders:
        try:
            files = sorted(p for p in folder.iterdir() if p.suffix == SUFFIX and p.name not in SHIPPED_FILES)
        except OSError:
            continue  # a missing or unreadable folder simply has nothing to offer
        entries.extend(describe_weights(path) for path in files if path.is_file())
    return entries


def choice_problem(choice: str) -> str:
    """Why a stored choice cannot be used ("" if it can): a file that is gone or unreadable."""
    if not is_weights_choice(choice):
        return ""
    return describe_weights(choice).problem


def check_model_choice(value: object) -> str:
    """A model choice: one of VARIANTS or the absolute path of a weights file (TypeError/ValueError naming it)."""
    if not isinstance(value, str):
        raise TypeError(f"model must be a str, got {type(value).__name__}")
    if is_weights_choice(value):
        if not Path(value).is_absolute():
            raise ValueError(f"model must be one of {', '.join(VARIANTS)} or the absolute path of a "
                             f"weights file, got {value!r}")
        return value
    if value not in VARIANTS:
        raise ValueError(f"model must be one of {', '.join(VARIANTS)}, got {value!r}")
    return value
