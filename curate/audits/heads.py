"""Probe heads: the torch modules, their training loop and prediction (one run per seed).

- ``mlp``: the bahre2025 head ("Models and Training"): two hidden layers of 768 and 256 units, each with
  ReLU, batch normalisation and dropout 0.3; Adam (lr 1e-4, weight decay 1e-5), cosine learning-rate
  decay, batch size 48, early stopping after 5 epochs without improvement of the validation loss. With
  small embeddings (d < 768) the hidden sizes shrink to ``(d, max(8, d // 3))``.
- ``linear``: germani2025 §2 "Feature Extraction and Classification": ``sigmoid(W φ(x) + b)`` trained with
  a weighted cross-entropy whose weights are inverse class percentages.
- mitigation ``reweight``: every sensitive group gets the same total weight; ``groupdro``: GroupDRO
  (Sagawa et al. 2020; germani2025 Table 1), exponentiated-gradient weights ``q_g ← q_g · exp(η L_g)``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.engine.devices import resolve_device
from curate.errors import UsageError
from curate.validation import Interval, Options, ParameterError, validate_params

MODELS = ("linear", "mlp")
MITIGATIONS = ("none", "reweight", "groupdro")

@dataclass
class ProbeConfig:
    """Training settings; the defaults are bahre2025's."""

    model: str = "mlp"
    mitigation: str = "none"
    epochs: int = 100
    batch_size: int = 48
    lr: float = 1e-4
    weight_decay: float = 1e-5
    dropout: float = 0.3
    patience: int = 5
    dro_eta: float = 0.01
    device: str = "auto"

    def validate(self) -> None:
        """Every field checked once against :data:`CONSTRAINTS` (errors name the parameter)."""
        import math

        validate_params(vars(self), CONSTRAINTS)
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise ParameterError("lr", f"must be a finite number > 0 (got {self.lr})")
        bounds = (("weight_decay", 0.0, math.inf), ("dropout", 0.0, 1.0), ("dro_eta", 0.0, math.inf))
        for name, low, high in bounds:
            v = getattr(self, name)
            if not (math.isfinite(v) and low <= v and (v < high or high == math.inf)):
                raise ParameterError(name, f"must be a finite number in [{low:g}, {high:g}) (got {v})")


#: the probe's parameter constraints, as data (scikit-learn's ``_parameter_constraints``)
CONSTRAINTS = {
    "model": Options(MODELS), "mitigation": Options(MITIGATIONS), "epochs": Interval(1, 10_000),
    "batch_size": Interval(1, 65_536), "patience": Interval(1, None),
    "device": Options(("auto", "cpu", "cuda", "gpu")),
}


def hidden_sizes(d: int) -> tuple[int, int]:
    """bahre2025's (768, 256), shrunk for small embeddings: (min(768, d), min(256, max(8, h1 // 3)))."""
    h1 = min(768, max(8, d))
    return h1, min(256, max(8, h1 // 3))


def build_head(d: int, n_out: int, model: str, dropout: float = 0.3):
    """The torch module for ``model`` ('mlp' or 'linear') mapping d inputs to n_out logits."""
    from torch import nn

    if model == "linear":
        return nn.Linear(d, n_out)
    h1, h2 = hidden_sizes(d)
    return nn.Sequential(
        nn.Linear(d, h1), nn.ReLU(), nn.BatchNorm1d(h1), nn.Dropout(dropout),
        nn.Linear(h1, h2), nn.ReLU(), nn.BatchNorm1d(h2), nn.Dropout(dropout),
        nn.Linear(h2, n_out),
    )


def _tensors(X_train, Y_train, X_val, Y_val, task: str, device: str):
    """Inputs and targets on ``device`` (class indices for multiclass, 0/1 floats otherwise); outputs."""
    import torch

    Xt = torch.as_tensor(X_train, dtype=torch.float32, device=device)
    Xv = torch.as_tensor(X_val, dtype=torch.float32, device=device)
    if task == "multiclass":
        n_out = int(max(Y_train.max(), Y_val.max() if len(Y_val) else 0)) + 1
        kind = torch.long
    else:
        n_out = Y_train.shape[1]
        kind = torch.float32
    Yt = torch.as_tensor(Y_train, dtype=kind, device=device)
    Yv = torch.as_tensor(Y_val, dtype=kind, device=device)
    return Xt, Xv, Yt, Yv, n_out


def _class_weights(Yt, n_out: int, task: str):
    """germani2025 weighted cross-entropy for the linear probe: weights = inverse class percentages,
    scaled so that balanced classes get weight 1 (multilabel: (2, L), the weight for y=0 and y=1)."""
    import torch

    if task == "multiclass":
        freq = torch.bincount(Yt, minlength=n_out).float().clamp(min=1) / len(Yt)
        return 1.0 / (n_out * freq)
    p = Yt.mean(0).clamp(1e-6, 1 - 1e-6)
    return torch.stack([0.5 / (1 - p), 0.5 / p])


def _group_weights(groups_train, n: int, mitigation: str, device: str):
    """(group per training row, number of groups, per-row weights): reweight gives every group the same
    total weight; otherwise every row weighs 1."""
    import torch

    sample_w = torch.ones(n, device=device)
    if groups_train is None:
        return None, 0, sample_w
    gt = torch.as_tensor(groups_train, dtype=torch.long, device=device)
    n_groups = int(gt.max()) + 1
    counts = torch.bincount(gt, minlength=n_groups).float()
    if mitigation == "reweight":
        sample_w = (len(gt) / (n_groups * counts.clamp(min=1)))[gt]
    return gt, n_groups, sample_w


@contextlib.contextmanager
def _deterministic(seed: int, device: str):
    """Seed torch/numpy and switch on deterministic kernels for the duration of one run."""
    import torch

    if device == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    prev = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev)


def _batches(n: int, size: int, gen) -> list:
    """Shuffled mini-batches; a last batch of one row is merged (batch norm needs ≥ 2 rows)."""
    import torch

    perm = torch.randperm(n, generator=gen)
    out = list(perm.split(size))
    if len(out) > 1 and len(out[-1]) == 1:
        out[-2] = torch.cat([out[-2], out.pop()])
    return out


def _group_means(loss, g, n_groups: int):
    """Mean loss per group and which groups are present in the batch (for groupDRO)."""
    import torch

    s = torch.zeros(n_groups, device=loss.device).index_add_(0, g, loss)
    c = torch.zeros(n_groups, device=loss.device).index_add_(0, g, torch.ones_like(loss))
    return s / c.clamp(min=1), c > 0


class _EarlyStopping:
    """Keeps the weights of the best validation loss; says stop after ``patience`` epochs without a gain."""

    def __init__(self, patience: int) -> None:
        self.best, self.state, self.stale, self.patience = float("inf"), None, 0, patience

    def update(self, loss: float, model) -> bool:
        if loss < self.best - 1e-7:
            self.best, self.stale = loss, 0
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.stale += 1
        return self.stale >= self.patience


def train_head(
    X_train: np.ndarray, Y_train: np.ndarray, X_val: np.ndarray, Y_val: np.ndarray, *,
    task: str, config: ProbeConfig, seed: int = 0,
    groups_train: np.ndarray | None = None, groups_val: np.ndarray | None = None, on_epoch=None,
) -> tuple[Any, dict[str, Any]]:
    """Train one head; returns (model in eval mode on CPU/GPU, info with epochs, val loss, q weights).

    ``on_epoch(done, total)`` is called after every epoch (and once more with ``done == total`` when early
    stopping ends the run), for a progress bar.

    ``task`` is "multilabel" (Y: (n, L) of 0/1) or "multiclass" (Y: (n,) class indices).
    ``groups_*``: integer group per row, needed by the reweight and groupdro mitigations.
    """
    import torch
    import torch.nn.functional as F

    config.validate()
    device = resolve_device(config.device, backend="torch")
    if config.mitigation != "none" and groups_train is None:
        raise UsageError(f"--mitigation {config.mitigation} needs --group-col")
    with _deterministic(seed, device):
        gen = torch.Generator().manual_seed(seed)
        Xt, Xv, Yt, Yv, n_out = _tensors(X_train, Y_train, X_val, Y_val, task, device)
        model = build_head(Xt.shape[1], n_out, config.model, config.dropout).to(device)
        class_w = _class_weights(Yt, n_out, task) if config.model == "linear" else None

        def per_sample_loss(logits, y):
            if task == "multiclass":
                return F.cross_entropy(logits, y, weight=class_w, reduction="none")
            loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            if class_w is not None:
                loss = loss * (y * class_w[1] + (1 - y) * class_w[0])
            return loss.mean(1)

        gt, n_groups, sample_w = _group_weights(groups_train, len(Xt), config.mitigation, device)
        gv = None if groups_val is None else torch.as_tensor(groups_val, dtype=torch.long, device=device)
        q = torch.full((max(n_groups, 1),), 1.0 / max(n_groups, 1), device=device)

        def val_loss() -> float:
            model.eval()
            with torch.no_grad():
                loss = per_sample_loss(model(Xv), Yv)
                if config.mitigation == "groupdro" and gv is not None:
                    m, present = _group_means(loss, gv, n_groups)
                    return float(m[present].max())  # worst-group validation loss (Sagawa et al.)
                return float(loss.mean())

        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
        stop, epochs_run = _EarlyStopping(config.patience), 0
        for _epoch in range(config.epochs):
            model.train()
            for idx in _batches(len(Xt), config.batch_size, gen):
                idx = idx.to(device)
                loss = per_sample_loss(model(Xt[idx]), Yt[idx])
                if config.mitigation == "groupdro":
                    gm, present = _group_means(loss, gt[idx], n_groups)
                    with torch.no_grad():
                        q = q * torch.exp(config.dro_eta * gm.detach() * present)
                        q = q / q.sum()
                    total = (q * gm).sum()
                else:
                    total = (loss * sample_w[idx]).mean()
                opt.zero_grad()
                total.backward()
                opt.step()
            sched.step()
            epochs_run += 1
            if on_epoch is not None:
                on_epoch(epochs_run, config.epochs)
            if stop.update(val_loss() if len(Xv) else float(total.detach()), model):
                break
        if on_epoch is not None and epochs_run < config.epochs:
            on_epoch(config.epochs, config.epochs)  # early stopping: this seed is done
        if stop.state is not None:
            model.load_state_dict(stop.state)
        model.eval()
    info = {"epochs_run": epochs_run, "best_val_loss": stop.best, "device": device}
    if config.mitigation == "groupdro":
        info["group_weights"] = q.detach().cpu().numpy().tolist()
    return model, info


def predict_proba(model, X: np.ndarray, task: str) -> np.ndarray:
    """Probabilities: sigmoid per label (multi-label) or softmax over classes (multi-class)."""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.as_tensor(X, dtype=torch.float32, device=device))
        p = torch.softmax(logits, 1) if task == "multiclass" else torch.sigmoid(logits)
    return p.cpu().numpy().astype(float)
