"""ONNX exports with dynamic axes, for @atoll/core's shape inference and reference interpreter.

The models are the ones Atoll's users bring: Hugging Face GPT-2 (tiny config, random weights), a
small ResNet (torchvision BasicBlock layout: Conv/BatchNorm/Relu/MaxPool/residual Add/global
average pool), and an MLP. Each is exported with the TorchScript exporter (dynamic_axes) and the
dynamo exporter (dynamic_shapes) at several opsets, with symbolic batch (and sequence) dims, so that
the tests exercise the shape arithmetic PyTorch emits (Shape → Gather → Concat → Reshape, Range,
Expand, Where on masks…). Only the .onnx files are kept: the tests run them with onnxruntime-node
and compare with Atoll's reference interpreter. manifest.json lists every variant tried, its op
types, and the error text of any that failed.

Run: python3 make_exports.py OUTDIR   (CPU is enough; the device machine has torch and transformers)
"""

import json
import math
import os
import sys
import traceback

import onnx
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)


class TinyResNet(nn.Module):
    """torchvision's ResNet stem and BasicBlocks at 1/8 width, so the file stays a few KB."""

    def __init__(self, classes=10, width=8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        down = nn.Sequential(nn.Conv2d(width, 2 * width, 1, 2, bias=False), nn.BatchNorm2d(2 * width))
        self.layer1 = BasicBlock(width, width)
        self.layer2 = BasicBlock(width, 2 * width, stride=2, downsample=down)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class NanoGPT(nn.Module):
    """nanoGPT's layout: a causal-mask buffer sliced to the run-time length (mask[:, :, :t, :t]) and
    views built from x.shape — the shape arithmetic the TorchScript exporter emits for dynamic axes."""

    def __init__(self, vocab=64, d=16, heads=2, ctx=16):
        super().__init__()
        self.heads = heads
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.ln = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.register_buffer("mask", torch.tril(torch.ones(ctx, ctx)).view(1, 1, ctx, ctx))

    def forward(self, idx):
        b, t = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(0, t, dtype=torch.long, device=idx.device))
        q, k, v = self.c_attn(self.ln(x)).split(x.size(-1), dim=2)
        hs = x.size(-1) // self.heads
        q, k, v = (z.view(b, t, self.heads, hs).transpose(1, 2) for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
        y = (torch.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(b, t, x.size(-1))
        x = x + self.c_proj(y)
        return x @ self.wte.weight.t()


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 5))

    def forward(self, x):
        return torch.log_softmax(self.net(x), dim=-1)


def gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=64, n_positions=32, n_embd=16, n_layer=2, n_head=2, use_cache=False)
    cfg._attn_implementation = "eager"
    model = GPT2LMHeadModel(cfg).eval()
    return model, torch.randint(0, 64, (2, 7)), {0: "batch", 1: "seq"}


def models():
    yield "gpt2", *gpt2(), False
    yield "nanogpt", NanoGPT().eval(), torch.randint(0, 64, (2, 7)), {0: "batch", 1: "seq"}, False
    yield "resnet", TinyResNet().eval(), torch.randn(2, 3, 32, 32), {0: "batch"}, False
    yield "resnettrain", TinyResNet().train(), torch.randn(2, 3, 32, 32), {0: "batch"}, True
    yield "mlp", MLP().eval(), torch.randn(3, 12), {0: "batch"}, False


class LogitsOnly(nn.Module):
    """HF models return a dict; exporters want a tensor."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        out = self.inner(x)
        return out.logits if hasattr(out, "logits") else out


def export(name, model, x, axes, train, exporter, opset):
    path = os.path.join(OUT, f"{name}.{exporter}{opset}.onnx")
    # the wrapper is a fresh module in training mode; torch.export would trace Dropout as training
    wrapped = LogitsOnly(model).train(train)
    if exporter == "ts":
        torch.onnx.export(
            wrapped, (x,), path, dynamo=False, opset_version=opset, input_names=["x"], output_names=["y"],
            dynamic_axes={"x": axes, "y": {0: axes[0]} | ({1: axes[1]} if 1 in axes else {})},
            training=torch.onnx.TrainingMode.TRAINING if train else torch.onnx.TrainingMode.EVAL,
            do_constant_folding=not train,
        )
    else:
        dims = {k: torch.export.Dim(v, min=2, max=16) for k, v in axes.items()}
        prog = torch.onnx.export(wrapped, (x,), dynamo=True, opset_version=opset, input_names=["x"],
                                 output_names=["y"], dynamic_shapes={"x": dims})
        prog.save(path)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return sorted({n.op_type for n in m.graph.node}), os.path.getsize(path)


def main():
    manifest = {"torch": torch.__version__, "variants": {}}
    for name, model, x, axes, train in models():
        for exporter, opset in [("ts", 13), ("ts", 17), ("dynamo", 18)]:
            if train and exporter == "dynamo":
                continue
            tag = f"{name}.{exporter}{opset}"
            try:
                ops, size = export(name, model, x, axes, train, exporter, opset)
                manifest["variants"][tag] = {"ok": True, "ops": ops, "bytes": size, "train": train}
            except Exception as e:  # an exporter failure is recorded, not fatal
                traceback.print_exc()
                manifest["variants"][tag] = {"ok": False, "error": f"{type(e).__name__}: {e}"[:500]}
            print(tag, manifest["variants"][tag], flush=True)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
