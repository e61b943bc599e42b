"""Backbone registry for ``curate embed``: name -> factory that builds a model plus its preprocessing.

Built in:

- ``hf`` — any Hugging Face ``transformers`` vision model saved in a local folder (``--weights DIR``:
  ViT, DINOv2, CLIP / SigLIP vision towers, RETFound or CXR models converted to ``transformers``).
  Preprocessing comes from the folder's ``preprocessor_config.json`` (size, crop, mean, std, resample)
  when present, else ImageNet defaults at the config's ``image_size``.
- ``pixels`` — no weights: an 8 x 8 average-pooled RGB thumbnail (192 numbers). A cheap baseline that
  picks up camera, exposure and site differences; useful to check a pipeline end to end. Not for cosine
  dedup (brightness dominates the cosine): use ``pixels-centred`` or ``curate dedup --images``.
- ``pixels-centred`` — the same thumbnail minus its per-image channel means, scaled to unit norm, so
  cosine is the correlation of the thumbnails' structure (finds resized, re-encoded, brightened copies).
- ``torchvision:<arch>`` (e.g. ``torchvision:resnet50``) — only when ``torchvision`` happens to be
  importable (it is never a dependency); ``--weights`` is a state-dict file; the classifier head is removed.

Third parties add backbones through the entry-point group ``curate.backbones``: the entry point's name
is the backbone name and its object a factory ``factory(weights: str | None, **options) -> Backbone``::

    # pyproject.toml of your package
    [project.entry-points."curate.backbones"]
    retfound = "my_pkg.curate_plugin:retfound"

Nothing here downloads weights: every model is loaded from a local path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curate.errors import InputError, UsageError
from curate.validation import ParameterError

ENTRY_POINT_GROUP = "curate.backbones"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# PIL resampling codes (the numbers transformers stores in preprocessor_config.json)
NEAREST, BILINEAR, BICUBIC = 0, 2, 3


@dataclass(frozen=True)
class Preprocess:
    """Deterministic image -> tensor recipe (PIL resize, centre crop, rescale, normalise; no torchvision).

    ``resize``: an int resizes the shortest edge to that length keeping the aspect ratio (long edge
    truncated like ``transformers``' ``get_resize_output_image_size``); a ``(height, width)`` pair resizes
    to exactly that size; ``None`` keeps the image size. ``crop``: ``(height, width)`` centre crop (padded
    with zeros when the image is smaller), or ``None``.
    """

    resize: int | tuple[int, int] | None = 256
    crop: tuple[int, int] | None = (224, 224)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    rescale: float = 1 / 255
    resample: int = BICUBIC
    normalize: bool = True

    @property
    def out_size(self) -> tuple[int, int] | None:
        if self.crop is not None:
            return self.crop
        return self.resize if isinstance(self.resize, tuple) else None


@dataclass
class Backbone:
    """A model ready to embed: ``forward(pixels (B, 3, H, W) float tensor) -> (B, dim) tensor``."""

    name: str
    module: Any  # torch.nn.Module (moved to the device by the embedder)
    preprocess: Preprocess
    dim: int
    forward: Callable[[Any], Any]
    description: str = ""


Factory = Callable[..., Backbone]
_BUILTIN: dict[str, Factory] = {}


def register_backbone(name: str) -> Callable[[Factory], Factory]:
    """Decorator: register ``factory`` under ``name`` for this Python session (plugins use entry points)."""

    def deco(factory: Factory) -> Factory:
        _BUILTIN[name] = factory
        return factory

    return deco


def _entry_points() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_backbones() -> dict[str, str]:
    """Backbone names -> where they come from (``built-in`` or the entry point's ``module:attr``)."""
    names = {name: "built-in" for name in _BUILTIN}
    names["torchvision:<arch>"] = "built-in (needs torchvision installed)"
    for name, ep in _entry_points().items():
        names.setdefault(name, f"entry point {ep.value}")
    return names


def get_backbone(name: str, weights: str | os.PathLike | None = None, **options: Any) -> Backbone:
    """Build backbone ``name`` (built-in, ``torchvision:<arch>`` or a ``curate.backbones`` entry point)."""
    options = {k: v for k, v in options.items() if v is not None}
    if weights is not None and not os.path.exists(weights):
        hub_like = "/" in str(weights) and not str(weights).startswith((".", "/", "~"))
        hint = (" (it looks like a Hub model id: curate never downloads weights; save the model with "
                "`save_pretrained(DIR)` on a machine with network access and pass --weights DIR)"
                if hub_like else " (curate loads weights from local paths only; it never downloads them)")
        raise InputError(f"--weights '{weights}' does not exist{hint}")
    if name in _BUILTIN:
        return _BUILTIN[name](weights, **options)
    if name.startswith("torchvision:"):
        return _torchvision_backbone(name.split(":", 1)[1], weights, **options)
    eps = _entry_points()
    if name in eps:
        try:
            factory = eps[name].load()
        except Exception as exc:
            raise InputError(f"backbone '{name}' ({eps[name].value}) failed to load: {exc}") from None
        bb = factory(None if weights is None else str(weights), **options)
        if not isinstance(bb, Backbone):
            raise InputError(f"backbone plugin '{name}' returned {type(bb).__name__}, not a Backbone")
        return bb
    known = ", ".join(sorted(available_backbones()))
    raise UsageError(f"unknown backbone '{name}' (available: {known})")


# ----------------------------------------------------------------------------------------- built-ins
@register_backbone("pixels")
def _pixels_backbone(weights: str | None = None, *, grid: int = 8, centre: bool = False,
                     **_: Any) -> Backbone:
    """Average-pooled RGB thumbnail: no weights, a baseline for acquisition (camera / site) signal.

    Uncentred thumbnails of photographs all point roughly the same way (brightness and colour cast
    dominate), so their cosine says little about content: do not deduplicate them. ``centre=True``
    (the ``pixels-centred`` backbone) subtracts each image's per-channel means (brightness and colour cast)
    and scales it to unit norm, so the cosine is the correlation of two thumbnails' structure; a flat
    image maps to the constant
    unit vector (orthogonal to every centred image).
    """
    import torch

    if weights is not None:
        raise UsageError("the 'pixels' backbone has no weights; drop --weights")
    dim = 3 * grid * grid
    layers: list[Any] = [torch.nn.AdaptiveAvgPool2d(grid), torch.nn.Flatten()]
    if centre:
        class _Centre(torch.nn.Module):
            def forward(self, v: torch.Tensor) -> torch.Tensor:
                ch = v.reshape(len(v), 3, -1)  # Flatten keeps (channel, row, col) order
                z = (ch - ch.mean(dim=2, keepdim=True)).reshape(len(v), -1)
                norm = z.norm(dim=1, keepdim=True)
                flat = norm <= 1e-6 * dim
                return torch.where(flat, torch.full_like(z, dim ** -0.5), z / norm.clamp_min(1e-12))

        layers.append(_Centre())
    module = torch.nn.Sequential(*layers).eval()
    prep = Preprocess(resize=(grid * 4, grid * 4), crop=None, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                      resample=BILINEAR)
    name, what = ("pixels-centred", "per-image centred, unit-norm") if centre else ("pixels", "RGB")
    return Backbone(name, module, prep, dim, module, f"{grid}x{grid} {what} thumbnail")


@register_backbone("pixels-centred")
def _pixels_centred_backbone(weights: str | None = None, *, grid: int = 8, **_: Any) -> Backbone:
    """The ``pixels`` thumbnail centred and normalised per image: cosine reflects structure (for dedup)."""
    return _pixels_backbone(weights, grid=grid, centre=True)


def preprocess_from_hf(folder: str | os.PathLike, image_size: int | None = None) -> Preprocess:
    """Read ``preprocessor_config.json`` (as ``AutoImageProcessor`` would) into a :class:`Preprocess`.

    Without that file: resize the shortest edge to ``image_size / 0.875``, centre crop ``image_size``,
    ImageNet mean/std (the usual evaluation transform).
    """
    path = Path(folder) / "preprocessor_config.json"
    size = int(image_size or 224)
    if not path.exists():
        return Preprocess(resize=round(size / 0.875), crop=(size, size))
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read '{path}': {exc}") from None

    def hw(v: Any) -> tuple[int, int]:
        if isinstance(v, dict):
            if "height" in v and "width" in v:
                return int(v["height"]), int(v["width"])
            raise InputError(f"'{path}': unsupported size {v}")
        return int(v), int(v)

    resize: int | tuple[int, int] | None = None
    if cfg.get("do_resize", True) and cfg.get("size") is not None:
        s = cfg["size"]
        resize = int(s["shortest_edge"]) if isinstance(s, dict) and "shortest_edge" in s else hw(s)
    crop = hw(cfg["crop_size"]) if cfg.get("do_center_crop", False) and cfg.get("crop_size") else None
    norm = bool(cfg.get("do_normalize", True))
    return Preprocess(
        resize=resize, crop=crop,
        mean=tuple(float(x) for x in cfg.get("image_mean", IMAGENET_MEAN)),
        std=tuple(float(x) for x in cfg.get("image_std", IMAGENET_STD)),
        rescale=float(cfg.get("rescale_factor", 1 / 255)) if cfg.get("do_rescale", True) else 1.0,
        resample=int(cfg.get("resample", BILINEAR)), normalize=norm,
    )


@register_backbone("hf")
def _hf_backbone(weights: str | None = None, *, pool: str = "auto", **_: Any) -> Backbone:
    """``transformers.AutoModel`` from a local folder; ``pool``: auto | cls | pooler | mean.

    ``auto``: CLIP-style models (with ``get_image_features``) give the projected image embedding; models
    whose ``pooler_output`` is the normalised CLS token (DINOv2) give it; other models (ViT, whose pooler
    is an often untrained dense layer) give the CLS token of ``last_hidden_state``.
    """
    import torch

    from curate.errors import require

    transformers = require("transformers", "embed")
    if weights is None:
        raise UsageError("the 'hf' backbone needs --weights DIR (a local transformers model folder)")
    if not Path(weights).is_dir() or not (Path(weights) / "config.json").exists():
        raise InputError(f"--weights '{weights}' is not a transformers model folder (no config.json)")
    if pool not in ("auto", "cls", "pooler", "mean"):
        raise ParameterError("pool", f"must be auto, cls, pooler or mean (got '{pool}')")
    tf_logging = transformers.utils.logging
    bars = tf_logging.is_progress_bar_enabled()
    tf_logging.disable_progress_bar()  # no "Loading weights" bar inside our own progress display
    try:
        model = transformers.AutoModel.from_pretrained(str(weights), local_files_only=True).eval()
    except Exception as exc:
        raise InputError(f"cannot load a transformers model from '{weights}': {exc}") from None
    finally:
        if bars:
            tf_logging.enable_progress_bar()
    cfg = model.config
    vcfg = getattr(cfg, "vision_config", None) or cfg
    image_size = getattr(vcfg, "image_size", 224)
    image_size = image_size[0] if isinstance(image_size, (list, tuple)) else image_size
    prep = preprocess_from_hf(weights, image_size)
    clip_like = hasattr(model, "get_image_features")
    mode = pool
    if pool == "auto":
        cls_pooler = cfg.model_type in ("dinov2", "dinov3_vit")  # pooler_output = normalised CLS
        mode = "features" if clip_like else ("pooler" if cls_pooler else "cls")

    def forward(pixels: torch.Tensor) -> torch.Tensor:
        if clip_like:
            out = model.get_image_features(pixel_values=pixels)
            if mode == "features":
                return out if isinstance(out, torch.Tensor) else out.pooler_output
            raise UsageError("--pool cls|pooler|mean is not available for CLIP-style models; use auto")
        out = model(pixel_values=pixels)
        if mode == "pooler":
            if getattr(out, "pooler_output", None) is None:
                raise UsageError(f"{type(model).__name__} has no pooled output; use --pool cls or mean")
            return out.pooler_output
        hidden = out.last_hidden_state
        if hidden.ndim == 4:  # convolutional models: (B, C, H, W)
            return hidden.mean(dim=(2, 3))
        return hidden[:, 0] if mode == "cls" else hidden[:, 1:].mean(dim=1)

    with torch.no_grad():
        h, w = prep.out_size or (image_size, image_size)
        dim = int(forward(torch.zeros(1, 3, h, w)).shape[-1])
    return Backbone(f"hf:{Path(weights).name}", model, prep, dim, forward,
                    f"{type(model).__name__} ({mode} pooling)")


def _torchvision_backbone(arch: str, weights: str | None = None, **_: Any) -> Backbone:
    """A torchvision architecture with a state-dict file; only when torchvision is already installed."""
    import importlib

    import torch

    try:
        tvm = importlib.import_module("torchvision.models")
    except ImportError:
        raise UsageError(
            f"backbone 'torchvision:{arch}' needs torchvision, which curate does not install; install it "
            "yourself or use --backbone hf with a transformers model folder"
        ) from None
    try:
        model = tvm.get_model(arch, weights=None)
    except Exception as exc:
        raise UsageError(f"unknown torchvision architecture '{arch}': {exc}") from None
    if weights is not None:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state.get("model", state)) if isinstance(state, dict) else state
        missing, unexpected = model.load_state_dict(state, strict=False)
        if len(missing) == len(model.state_dict()):
            raise InputError(f"no parameter in '{weights}' matches torchvision {arch}")
    for head in ("fc", "classifier", "heads", "head"):
        if hasattr(model, head):
            setattr(model, head, torch.nn.Identity())
            break
    model.eval()
    prep = Preprocess()
    with torch.no_grad():
        dim = int(model(torch.zeros(1, 3, 224, 224)).reshape(1, -1).shape[1])
    return Backbone(f"torchvision:{arch}", model, prep, dim, lambda x: model(x).flatten(1),
                    f"torchvision {arch} (head removed)")
