"""PyTorch replica of the recipe in config.ini with NiftyNet 0.6's semantics, written from NiftyNet's documented
behaviour (not NiftyTS's code): volume padding first (numpy 'minimum'), then whitening of the padded image; ToyNet
(conv 3^3 -> 10, batch norm (decay 0.9, eps 1e-5), ReLU; conv 1^3 -> classes, batch norm; no conv bias) with he_normal
weights (truncated normal, std sqrt(2/fan_in) after the 2-sigma cut); uniform 32^3 windows; per-window softmax Dice
(squared denominator, eps 1e-5) averaged over the batch; Adam; grid inference with NiftyNet's window starts
(inside the volume, last one snapped to the end, a middle one added when only two), border crop, later windows
overwrite, padding removed, argmax.

Usage: replica.py DATA_DIR OUT.json [--iters N] [--seed S] [--niftyts-checkpoint CKPT.safetensors]
                  [--niftyts-inferred DIR ...]
With a NiftyTS checkpoint it also runs those weights through this inference; with NiftyTS's inferred label maps it
reports their Dice and how many voxels differ from this inference of the same weights."""
import argparse
import json
import os
import struct

import nibabel as nib
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("data")
p.add_argument("out")
p.add_argument("--iters", type=int, default=300)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--lr", type=float, default=0.01)
p.add_argument("--niftyts-checkpoint")
p.add_argument("--niftyts-inferred", action="append", default=[],
               help="folder of NiftyTS's <subject>_niftynet_out.nii.gz (repeatable)")
p.add_argument("--save-maps")
args = p.parse_args()
torch.set_num_threads(2)
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
PAD, WIN, BORDER, BATCH, CLASSES = 4, 32, 4, 2, 2


def load(name):
    t1 = np.asarray(nib.load(os.path.join(args.data, f"{name}_T1.nii.gz")).dataobj, dtype=np.float32)
    lab = np.asarray(nib.load(os.path.join(args.data, f"{name}_label.nii.gz")).dataobj).astype(np.int64)
    return t1, lab


def preprocess(t1):
    padded = np.pad(t1, PAD, mode="minimum").astype(np.float64)
    return ((padded - padded.mean()) / max(padded.std(), 1e-5)).astype(np.float32)


class ToyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = torch.nn.Conv3d(1, 10, 3, padding=1, bias=False)
        self.bn_in = torch.nn.BatchNorm3d(10, eps=1e-5, momentum=0.1)
        self.conv_out = torch.nn.Conv3d(10, CLASSES, 1, bias=False)
        self.bn_out = torch.nn.BatchNorm3d(CLASSES, eps=1e-5, momentum=0.1)
        for conv in [self.conv_in, self.conv_out]:
            fan_in = conv.weight[0].numel()
            std = np.sqrt(2.0 / fan_in) / 0.87962566103423978
            torch.nn.init.trunc_normal_(conv.weight, 0.0, std, -2 * std, 2 * std)

    def forward(self, x):
        return self.bn_out(self.conv_out(torch.relu(self.bn_in(self.conv_in(x)))))


def dice_loss(logits, labels):
    probs = torch.softmax(logits, 1).flatten(2)  # [b, c, n]
    one_hot = torch.nn.functional.one_hot(labels.flatten(1), CLASSES).permute(0, 2, 1).float()
    num = 2 * (one_hot * probs).sum(2)
    den = (probs ** 2).sum(2) + one_hot.sum(2)
    return (1 - ((num + 1e-5) / (den + 1e-5)).mean(1)).mean()


def steps_1d(n, win, step):
    starts = list(range(0, n - win + 1, max(step, 1))) + [max(n - win, 0)]
    uniq = sorted(set(starts))
    if len(uniq) == 2:
        mid = int(np.round((uniq[0] + uniq[1]) / 2.0))
        if mid not in uniq:
            uniq.append(mid)
    return uniq


def infer(net, image):
    """NiftyNet grid inference on the padded, whitened image; returns the argmax label map without the padding."""
    net.eval()
    out = np.zeros((CLASSES,) + image.shape, dtype=np.float32)
    axes = [steps_1d(n, WIN, WIN - 2 * BORDER) for n in image.shape]
    with torch.no_grad():
        for y in axes[1]:
            for x in axes[0]:
                for z in axes[2]:
                    w = torch.from_numpy(image[x:x + WIN, y:y + WIN, z:z + WIN][None, None].copy())
                    o = net(w)[0].numpy()
                    b, e = BORDER, WIN - BORDER
                    out[:, x + b:x + e, y + b:y + e, z + b:z + e] = o[:, b:e, b:e, b:e]
    return out[:, PAD:-PAD, PAD:-PAD, PAD:-PAD].argmax(0)


def dice(seg, ref):
    return float(2 * np.logical_and(seg == 1, ref == 1).sum() / ((seg == 1).sum() + (ref == 1).sum()))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        a, b = meta["data_offsets"]
        out[name] = np.frombuffer(blob[a:b], dtype="<f4").reshape(meta["shape"])
    return out


def load_niftyts(net, path):
    v = read_safetensors(path)
    pre = "ToyNet/"
    with torch.no_grad():
        for conv, bn, scope in [(net.conv_in, net.bn_in, "conv_input_bn_relu"), (net.conv_out, net.bn_out,
                                                                              "conv_output_bn")]:
            conv.weight.copy_(torch.from_numpy(v[f"{pre}{scope}/conv_/w"].transpose(4, 3, 0, 1, 2).copy()))
            bn.weight.copy_(torch.from_numpy(v[f"{pre}{scope}/bn_/gamma"].copy()))
            bn.bias.copy_(torch.from_numpy(v[f"{pre}{scope}/bn_/beta"].copy()))
            bn.running_mean.copy_(torch.from_numpy(v[f"{pre}{scope}/bn_/moving_mean"].copy()))
            bn.running_var.copy_(torch.from_numpy(v[f"{pre}{scope}/bn_/moving_variance"].copy()))


subjects = {name: load(name) for name in ["a", "b"]}
images = {name: preprocess(t1) for name, (t1, _) in subjects.items()}
labels = {name: np.pad(lab, PAD, mode="minimum") for name, (_, lab) in subjects.items()}
result = {"iters": args.iters, "seed": args.seed}

net = ToyNet()
opt = torch.optim.Adam(net.parameters(), lr=args.lr)
img, lab = images["a"], labels["a"]
for it in range(args.iters):
    net.train()
    xs, ys = [], []
    for _ in range(BATCH):
        s = [int(rng.integers(0, n - WIN + 1)) for n in img.shape]
        xs.append(img[s[0]:s[0] + WIN, s[1]:s[1] + WIN, s[2]:s[2] + WIN][None])
        ys.append(lab[s[0]:s[0] + WIN, s[1]:s[1] + WIN, s[2]:s[2] + WIN])
    loss = dice_loss(net(torch.from_numpy(np.stack(xs))), torch.from_numpy(np.stack(ys)))
    opt.zero_grad()
    loss.backward()
    opt.step()
result["final_loss"] = float(loss)
maps = {}
for name in ["a", "b"]:
    maps[f"replica_{name}"] = infer(net, images[name])
    result[f"replica_dice_{name}"] = dice(maps[f"replica_{name}"], subjects[name][1])
if args.niftyts_checkpoint:
    load_niftyts(net, args.niftyts_checkpoint)
    for name in ["a", "b"]:
        maps[f"niftyts_weights_{name}"] = infer(net, images[name])
        result[f"niftyts_weights_dice_{name}"] = dice(maps[f"niftyts_weights_{name}"], subjects[name][1])
for folder in args.niftyts_inferred:
    for name in ["a", "b"]:
        path = os.path.join(folder, f"{name}_niftynet_out.nii.gz")
        if not os.path.exists(path):
            continue
        seg = np.asarray(nib.load(path).dataobj).reshape(subjects[name][1].shape).astype(np.int64)
        result[f"niftyts_dice_{name}"] = dice(seg, subjects[name][1])
        if f"niftyts_weights_{name}" in maps:
            result[f"voxels_differing_{name}"] = int((seg != maps[f"niftyts_weights_{name}"]).sum())
if args.save_maps:
    np.savez_compressed(args.save_maps, **maps)
with open(args.out, "w") as f:
    json.dump(result, f, indent=1)
print(json.dumps(result))
