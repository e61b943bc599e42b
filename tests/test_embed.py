"""curate embed: tiny random-initialised transformers ViT on generated images (no downloads)."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from PIL import Image  # noqa: E402

from curate.engine.backbones import Preprocess, available_backbones, get_backbone, preprocess_from_hf  # noqa: E402
from curate.engine.embed import embed, preprocess_image  # noqa: E402
from curate.errors import InputError, UsageError  # noqa: E402


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("vit")
    torch.manual_seed(0)
    cfg = transformers.ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=64, image_size=32, patch_size=8)
    transformers.ViTModel(cfg).save_pretrained(d)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("imgs")
    (d / "sub").mkdir()
    rng = np.random.default_rng(0)
    names = []
    for i in range(7):
        rel = f"sub/im{i}.png" if i % 2 else f"im{i}.jpg" if i == 4 else f"im{i}.png"
        arr = rng.integers(0, 255, (40 + 3 * i, 48, 3), dtype=np.uint8)
        Image.fromarray(arr if i != 2 else arr[..., 0]).save(d / rel)  # one greyscale image
        names.append(rel)
    return d, sorted(names)


def test_ids_dim_deterministic_and_batch_invariant(vit_dir, images):
    d, names = images
    a = embed(d, backbone="hf", weights=vit_dir, batch_size=4).embeddings
    b = embed(d, backbone="hf", weights=vit_dir, batch_size=4).embeddings
    c = embed(d, backbone="hf", weights=vit_dir, batch_size=1).embeddings
    assert a.ids.tolist() == names  # one row per image, relative paths as ids, sorted
    assert a.vectors.shape == (7, 32) and a.vectors.dtype == np.float32
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_allclose(a.vectors, c.vectors, atol=1e-5)
    assert np.abs(a.vectors[0] - a.vectors[1]).max() > 1e-3  # different images, different vectors


def test_id_from_stem(images):
    d, names = images
    e = embed(d, backbone="pixels", id_from="stem").embeddings
    assert e.ids.tolist() == [n.rsplit(".", 1)[0] for n in names]


def test_equals_direct_automodel_forward(vit_dir, images):
    d, names = images
    res = embed(d, backbone="hf", weights=vit_dir, batch_size=3).embeddings
    model = transformers.AutoModel.from_pretrained(vit_dir).eval()
    proc = transformers.ViTImageProcessor.from_pretrained(vit_dir)
    prep = preprocess_from_hf(vit_dir)
    imgs = [Image.open(d / n).convert("RGB") for n in names]
    ours = torch.from_numpy(np.stack([preprocess_image(im, prep) for im in imgs]))
    theirs = torch.from_numpy(proc(imgs, return_tensors="np")["pixel_values"])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)  # same preprocessing as HF
    with torch.no_grad():
        cls = model(pixel_values=theirs).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(res.vectors, cls, atol=1e-5)


def test_shortest_edge_crop_matches_clip_processor(tmp_path, images):
    d, names = images
    proc = transformers.CLIPImageProcessor(size={"shortest_edge": 36}, crop_size={"height": 32, "width": 32})
    proc.save_pretrained(tmp_path)
    prep = preprocess_from_hf(tmp_path)
    assert prep.resize == 36 and prep.crop == (32, 32) and prep.resample == 3
    for n in names:
        img = Image.open(d / n)
        want = proc(img.convert("RGB"), return_tensors="np")["pixel_values"][0]
        np.testing.assert_allclose(preprocess_image(img, prep), want, atol=1e-5)


def test_preprocess_by_hand():
    # 2x4 image -> resize shortest edge to 2 (no-op) -> crop 2x2 from the centre -> (x/255 - 0.5) / 0.5
    arr = np.arange(24, dtype=np.uint8).reshape(2, 4, 3) * 10
    out = preprocess_image(Image.fromarray(arr), Preprocess(resize=2, crop=(2, 2), mean=(0.5,) * 3,
                                                            std=(0.5,) * 3))
    want = (arr[:, 1:3].astype(np.float32) / 255 - 0.5) / 0.5
    np.testing.assert_allclose(out, want.transpose(2, 0, 1), atol=1e-6)


def test_metadata_input_and_cli(vit_dir, images, tmp_path, cli):
    from curate.engine.embeddings import load_embeddings

    d, names = images
    meta = pd.DataFrame({"file": names[::-1], "image_id": [f"x{i}" for i in range(len(names))]})
    meta.to_csv(d / "meta.csv", index=False)
    out = tmp_path / "emb.parquet"
    r = cli("embed", d / "meta.csv", "--backbone", "hf", "--weights", vit_dir, "--image-col", "file",
            "--id-col", "image_id", "--batch-size", "2", "--out", out, "--quiet")
    assert r.exit_code == 0, r.stderr
    e = load_embeddings(out, normalize=False)
    assert e.ids.tolist() == meta["image_id"].tolist()  # metadata order kept
    direct = embed(d, backbone="hf", weights=vit_dir).embeddings
    by_name = dict(zip(direct.ids, direct.vectors))
    np.testing.assert_allclose(e.vectors, np.stack([by_name[f] for f in meta["file"]]), atol=1e-5)


def test_unreadable_image_error_and_skip_bad(vit_dir, images, tmp_path, cli):
    import shutil

    d = tmp_path / "imgs"
    shutil.copytree(images[0], d)
    (d / "broken.png").write_bytes(b"not an image at all")
    out = tmp_path / "e.parquet"
    r = cli("embed", d, "--backbone", "hf", "--weights", vit_dir, "--out", out, "--quiet")
    assert r.exit_code != 0 and "broken.png" in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists()
    r = cli("embed", d, "--backbone", "hf", "--weights", vit_dir, "--out", out, "--skip-bad", "--quiet")
    assert r.exit_code == 0 and "skipped 1 unreadable" in r.stdout
    from curate.engine.embeddings import load_embeddings

    assert len(load_embeddings(out)) == 7


def test_truncated_image_fails_during_decode(vit_dir, images, tmp_path):
    import shutil

    d = tmp_path / "imgs"
    shutil.copytree(images[0], d)
    raw = (d / "im0.png").read_bytes()
    (d / "im0.png").write_bytes(raw[: len(raw) // 2])  # header fine, pixels missing
    with pytest.raises(InputError, match="im0.png"):
        embed(d, backbone="hf", weights=vit_dir)
    res = embed(d, backbone="hf", weights=vit_dir, skip_bad=True)
    assert len(res.skipped) == 1 and "im0.png" not in res.embeddings.ids.tolist()


def test_bad_options(vit_dir, images, tmp_path, cli):
    d, _ = images
    with pytest.raises(UsageError, match="fp16 needs a CUDA"):
        embed(d, backbone="hf", weights=vit_dir, precision="fp16", device="cpu")
    with pytest.raises(UsageError, match="unknown backbone 'nope'"):
        embed(d, backbone="nope")
    with pytest.raises(UsageError, match="torchvision"):
        get_backbone("torchvision:resnet18")  # torchvision is not installed here: a clear message
    with pytest.raises(InputError, match="no images"):
        embed(tmp_path, backbone="pixels")
    r = cli("embed", d, "--backbone", "hf", "--weights", tmp_path / "nope", "--out", tmp_path / "o.parquet")
    assert r.exit_code != 0 and "does not exist" in r.stderr and "never downloads" in r.stderr
    r = cli("embed", d, "--backbone", "hf", "--weights", "facebook/dinov2-small",
            "--out", tmp_path / "o.parquet")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1
    assert "Hub model id: curate never downloads weights" in r.stderr and "save_pretrained" in r.stderr


def test_bf16_autocast_on_cpu_close_to_fp32(vit_dir, images):
    d, _ = images
    a = embed(d, backbone="hf", weights=vit_dir).embeddings.vectors
    b = embed(d, backbone="hf", weights=vit_dir, precision="bf16").embeddings.vectors
    assert b.dtype == np.float32
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.98


def test_pixels_backbone_is_pooled_thumbnail(images):
    d, names = images
    e = embed(d, backbone="pixels").embeddings
    assert e.vectors.shape == (7, 192)
    img = Image.open(d / names[0]).convert("RGB").resize((32, 32), Image.BILINEAR)
    arr = (np.asarray(img, np.float32) / 255 - 0.5) / 0.5
    want = arr.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3)).transpose(2, 0, 1).reshape(-1)  # 4x4 blocks
    np.testing.assert_allclose(e.vectors[0], want, atol=1e-5)


def test_sixteen_bit_greyscale_is_min_max_scaled():
    from curate.engine.embed import to_rgb

    arr = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    rgb = np.asarray(to_rgb(Image.fromarray(arr)))
    np.testing.assert_array_equal(rgb[..., 0], np.round(arr / 4000 * 255).astype(np.uint8))


def test_entry_point_backbone_discovery(tmp_path, images, monkeypatch):
    """A third-party distribution on sys.path registers a backbone via the `curate.backbones` group."""
    pkg = tmp_path / "mybackbones"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import torch
        from curate.engine.backbones import Backbone, Preprocess

        def mean_rgb(weights=None, **options):
            mod = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval()
            prep = Preprocess(resize=(16, 16), crop=None, normalize=False)
            return Backbone("mean-rgb", mod, prep, 3, mod, "mean colour")
    """))
    dist = tmp_path / "mybackbones-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mybackbones\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[curate.backbones]\nmean-rgb = mybackbones:mean_rgb\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert available_backbones()["mean-rgb"] == "entry point mybackbones:mean_rgb"
    d, names = images
    e = embed(d, backbone="mean-rgb").embeddings
    img = np.asarray(Image.open(d / names[0]).convert("RGB").resize((16, 16), Image.BICUBIC), np.float32)
    np.testing.assert_allclose(e.vectors[0], img.mean(axis=(0, 1)) / 255, atol=1e-5)
    sys.modules.pop("mybackbones", None)


def test_cli_stderr_clean_and_out_must_be_parquet(images, tmp_path, cli):
    """No stray blank line from stopping a progress bar that never started; --out must say .parquet."""
    d, _ = images
    out = tmp_path / "e.parquet"
    r = cli("embed", d, "--backbone", "pixels", "--out", out, "--quiet")
    assert r.exit_code == 0 and r.stderr == "" and out.exists()
    r = cli("embed", d, "--backbone", "nope", "--out", tmp_path / "f.parquet")  # fails before any batch
    assert r.exit_code != 0 and r.stderr.startswith("error:") and r.stderr.count("\n") == 1
    assert r.stderr.strip() == r.stderr.rstrip("\n")  # no blank line before the message
    for bad in ("e.txt", "e.csv", "e"):
        r = cli("embed", d, "--backbone", "pixels", "--out", tmp_path / bad, "--quiet")
        assert r.exit_code != 0 and "--out must end in .parquet" in r.stderr, bad
        assert not (tmp_path / bad).exists()


def test_gpu_is_an_alias_of_cuda():
    """`gpu` (the dedup/cluster spelling) behaves exactly as `cuda`, with or without a GPU here."""
    from curate.audits import probes
    from curate.engine.devices import resolve_device

    def resolve(d):
        return resolve_device(d, backend="torch")

    try:
        want = resolve("cuda")
    except UsageError:
        with pytest.raises(UsageError, match="no CUDA GPU"):
            resolve("gpu")
    else:
        assert resolve("gpu") == want == "cuda"
    with pytest.raises(UsageError, match="auto, cpu, cuda or gpu"):
        resolve("tpu")
    probes.ProbeConfig(device="gpu").validate()
    with pytest.raises(UsageError, match="device must be one of auto, cpu, cuda, gpu"):
        probes.ProbeConfig(device="tpu").validate()


@pytest.mark.parametrize("cmd", ["embed", "probe"])
def test_help_documents_gpu_alias(cli, cmd):
    r = cli(cmd, "--help")
    assert r.exit_code == 0 and "gpu is an alias of cuda" in " ".join(r.stdout.split())
