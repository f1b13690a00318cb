"""PyTorch side of `deno task bench`: runs the cases of bench/cases.ts (given as JSON) with the same shapes, 2 threads,
fp32, batch 1, channels-first, and writes {"cases": [{"case", "pytorch_ms"}], "torch": version}.

`--device cuda` runs every case on the GPU (inputs and networks moved there, `torch.cuda.synchronize()` before each
time is taken); the default is the CPU.

Usage:
  python3 torch_bench.py CASES.json OUT.json [--threads 2] [--device cpu|cuda]
  python3 torch_bench.py --own-process CASE.json OUT.json [--threads 2]   # one case: {"pytorch_ms", "peak_rss_mib"}
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

DEVICE = torch.device("cpu")


def sync():
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, repeats, warmup=1):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def same_pad(k, d):
    return (k - 1) * d // 2  # TF "same" for stride 1, odd k; for stride 2 timings match up to one border row


def time_conv(c):
    k, g = c["kernel"], torch.Generator().manual_seed(1)
    x = torch.randn(1, c["cin"], c["size"], c["size"], c["size"], generator=g).to(DEVICE)
    w = (torch.randn(c["cout"], c["cin"], k, k, k, generator=g) * (2 / (k**3 * c["cin"])) ** 0.5).to(DEVICE)
    kw = dict(stride=c["stride"], dilation=c["dilation"], padding=same_pad(k, c["dilation"]))
    if c["kind"] == "conv_fwd":
        with torch.no_grad():
            return median_ms(lambda: F.conv3d(x, w, **kw), c["repeats"])
    x.requires_grad_(True)
    w.requires_grad_(True)
    dy = torch.randn(F.conv3d(x.detach(), w.detach(), **kw).shape, generator=g).to(DEVICE)

    def step():
        x.grad = None
        w.grad = None
        F.conv3d(x, w, **kw).backward(dy)

    return median_ms(step, c["repeats"])


def time_conv_transpose(c):
    k, g = c["kernel"], torch.Generator().manual_seed(1)
    x = torch.randn(1, c["cin"], c["size"], c["size"], c["size"], generator=g).to(DEVICE)
    w = (torch.randn(c["cin"], c["cout"], k, k, k, generator=g) * (2 / (k**3 * c["cin"])) ** 0.5).to(DEVICE)
    kw = dict(stride=2, padding=0, output_padding=0) if k == 2 else dict(stride=2, padding=1, output_padding=1)
    if c["kind"] == "conv_transpose_fwd":
        with torch.no_grad():
            return median_ms(lambda: F.conv_transpose3d(x, w, **kw), c["repeats"])
    x.requires_grad_(True)
    w.requires_grad_(True)
    dy = torch.randn(F.conv_transpose3d(x.detach(), w.detach(), **kw).shape, generator=g).to(DEVICE)

    def step():
        x.grad = None
        w.grad = None
        F.conv_transpose3d(x, w, **kw).backward(dy)

    return median_ms(step, c["repeats"])


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout, momentum=0.1), nn.ReLU(),
            nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm3d(cout, momentum=0.1), nn.ReLU())


class BenchUNet3D(nn.Module):
    """Same layers as bench/unet3d.ts."""

    def __init__(self, num_classes=2, base=8):
        super().__init__()
        self.enc1 = DoubleConv(1, base)
        self.enc2 = DoubleConv(base, base * 2)
        self.bottom = DoubleConv(base * 2, base * 4)
        self.up2 = nn.ConvTranspose3d(base * 4, base * 2, 2, stride=2, bias=False)
        self.dec2 = DoubleConv(base * 4, base * 2)
        self.dec1 = DoubleConv(base * 3, base)
        self.head = nn.Conv3d(base, num_classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool3d(e1, 2))
        b = self.bottom(F.max_pool3d(e2, 2))
        d2 = self.dec2(torch.cat([e2, self.up2(b)], 1))
        u1 = F.interpolate(d2, size=e1.shape[2:], mode="trilinear", align_corners=False)
        return self.head(self.dec1(torch.cat([e1, u1], 1)))


class HighResBlock(nn.Module):
    """NiftyTS/NiftyNet HighRes3DNet residual block: (bn, relu, dilated conv) x 2 + input (channels zero-padded)."""

    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.bn0, self.bn1 = nn.BatchNorm3d(cin), nn.BatchNorm3d(cout)
        self.conv0 = nn.Conv3d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False)
        self.conv1 = nn.Conv3d(cout, cout, 3, padding=dilation, dilation=dilation, bias=False)

    def forward(self, x):
        t = self.conv1(F.relu(self.bn1(self.conv0(F.relu(self.bn0(x))))))
        extra = t.shape[1] - x.shape[1]
        if extra > 0:
            x = F.pad(x, (0, 0, 0, 0, 0, 0, extra // 2, extra - extra // 2))
        return t + x


class HighRes3DNet(nn.Module):
    """networks/highres3dnet.ts, base variant with ReLU: 16 (3³) -> 3x res 16 d1 -> 3x res 32 d2 -> 3x res 64 d4
    -> 80 (1³) -> classes (1³), conv-BN(-ReLU) outside the blocks."""

    def __init__(self, num_classes=2):
        super().__init__()
        cbr = lambda cin, cout, k, relu=True: nn.Sequential(
            nn.Conv3d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm3d(cout),
            *([nn.ReLU()] if relu else []))
        self.head = cbr(1, 16, 3)
        blocks, cin = [], 16
        for cout, d in ((16, 1), (32, 2), (64, 4)):
            for _ in range(3):
                blocks.append(HighResBlock(cin, cout, d))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.tail = nn.Sequential(cbr(64, 80, 1), cbr(80, num_classes, 1, relu=False))

    def forward(self, x):
        return self.tail(self.blocks(self.head(x)))


class ToyNet(nn.Module):
    """networks/toynet.ts: conv 3³ 1→10 + BN + ReLU, conv 1³ 10→classes + BN (no biases)."""

    def __init__(self, num_classes):
        super().__init__()
        self.net = nn.Sequential(nn.Conv3d(1, 10, 3, padding=1, bias=False), nn.BatchNorm3d(10), nn.ReLU(),
                                 nn.Conv3d(10, num_classes, 1, bias=False), nn.BatchNorm3d(num_classes))

    def forward(self, x):
        return self.net(x)


def unet_setup(size, network=None, batch=1, shape=None, classes=2):
    torch.manual_seed(1)
    net = (network if network is not None else BenchUNet3D()).to(DEVICE)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    shape = list(shape or (size, size, size))
    x = torch.randn(batch, 1, *shape).to(DEVICE)
    labels = ((torch.randn(batch, *shape) > 0).long() * (classes - 1)).to(DEVICE)

    def step():
        net.train()
        opt.zero_grad()
        loss = F.cross_entropy(net(x), labels)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def time_sliding_window(c):
    torch.manual_seed(1)
    net = (HighRes3DNet() if c.get("network") == "highres3dnet" else BenchUNet3D()).eval().to(DEVICE)
    n, win = c["size"], c["window"]
    volume = torch.randn(1, 1, n, n, n).to(DEVICE)
    out = torch.empty(1, 2, n, n, n)

    def infer():
        with torch.no_grad():
            for z in range(0, n, win):
                for y in range(0, n, win):
                    for x in range(0, n, win):
                        patch = volume[:, :, z:z + win, y:y + win, x:x + win]
                        out[:, :, z:z + win, y:y + win, x:x + win] = torch.softmax(net(patch), 1).cpu()

    with torch.no_grad():
        net(volume[:, :, :win, :win, :win])
    return median_ms(infer, c["repeats"], warmup=0)


def time_meshnet_volume(c):
    """brainchop's MeshNet on a whole volume, no_grad, labels out (argmax): what NiftyTS's predictVolume computes."""
    torch.manual_seed(1)
    layers, cin = [], 1
    for d in (1, 2, 4, 8, 16, 8, 4, 2, 1):
        layers += [nn.Conv3d(cin, c["channels"], 3, padding=d, dilation=d),
                   nn.ReLU() if c["activation"] == "relu" else nn.ELU()]
        cin = c["channels"]
    layers.append(nn.Conv3d(cin, c["cout"], 1))
    net = nn.Sequential(*layers).eval().to(DEVICE)
    x = torch.rand(1, 1, c["size"], c["size"], c["size"]).to(DEVICE)
    sync()
    t0 = time.perf_counter()
    with torch.no_grad():
        labels = net(x).argmax(1).cpu()
    del labels
    return (time.perf_counter() - t0) * 1000


def time_zoo_run(c):
    """A zoo entry end to end on the real 256³ T1: tests/reference/zoo_pipeline.py's full pipeline, output written."""
    import os
    import tempfile
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
    import zoo_pipeline
    with tempfile.TemporaryDirectory(prefix="niftyts_bench_zoo_") as tmp:
        t0 = time.perf_counter()
        zoo_pipeline.full(c["zoo"], os.path.join(tmp, "out.nii.gz"))
        return (time.perf_counter() - t0) * 1000


def peak_rss_mib():
    # VmHWM belongs to this process image; ru_maxrss would carry over the peak of the (Deno) parent that
    # spawned us, since Linux keeps it across fork + exec
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def run_case(c):
    kind = c["kind"]
    if kind in ("conv_fwd", "conv_fwd_bwd"):
        return time_conv(c)
    if kind in ("conv_transpose_fwd", "conv_transpose_fwd_bwd"):
        return time_conv_transpose(c)
    if kind == "unet_step":
        return median_ms(unet_setup(c["size"]), c["repeats"], warmup=2)
    if kind == "highres3dnet_step":
        return median_ms(unet_setup(c["size"], HighRes3DNet()), c["repeats"], warmup=1)
    if kind == "sliding_window":
        return time_sliding_window(c)
    if kind == "toynet_step":
        step = unet_setup(c["size"], ToyNet(c["cout"]), batch=2, shape=c["windowShape"], classes=c["cout"])
        return median_ms(step, c["repeats"], warmup=3)
    if kind == "meshnet_volume":
        return time_meshnet_volume(c)
    if kind == "zoo_run":
        return time_zoo_run(c)
    raise ValueError(f"unknown bench kind {kind!r}")


def main(argv):
    threads = 2
    if "--threads" in argv:
        i = argv.index("--threads")
        threads = int(argv[i + 1])
        del argv[i:i + 2]
    torch.set_num_threads(threads)
    global DEVICE
    if "--device" in argv:
        i = argv.index("--device")
        DEVICE = torch.device(argv[i + 1])
        del argv[i:i + 2]
    if argv[0] == "--own-process":
        with open(argv[1]) as f:
            case = json.load(f)
        result = {"torch": torch.__version__, "pytorch_ms": run_case(case), "peak_rss_mib": peak_rss_mib()}
        out = argv[2]
    else:
        with open(argv[0]) as f:
            cases = json.load(f)
        result = {"torch": torch.__version__, "threads": threads, "device": DEVICE.type,
                  "cases": [{"case": c["case"], "pytorch_ms": run_case(c)} for c in cases]}
        out = argv[1]
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1:])
