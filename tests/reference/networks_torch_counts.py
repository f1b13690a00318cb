"""Independent PyTorch re-implementations of NiftyNet's deepmedic, resnet, se_resnet, dense_vnet, holisticnet,
scalenet, vae, simple_gan and simulator_gan, written from the papers' and NiftyNet's architecture descriptions
(layer widths, kernels, strides, which blocks carry batch norm / bias / PReLU), not from the TypeScript code.

For each network and input shape it records: the number of trainable parameters, the total number of stored
values (trainable + batch-norm running mean/variance, which NiftyNet keeps as non-trainable variables) and the
output shape(s) of a forward pass on zeros (channels-last, as the TypeScript side reports them).
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)


def conv_nd(rank):
    return nn.Conv3d if rank == 3 else nn.Conv2d


def bn_nd(rank):
    return nn.BatchNorm3d if rank == 3 else nn.BatchNorm2d


def deconv_nd(rank):
    return nn.ConvTranspose3d if rank == 3 else nn.ConvTranspose2d


def counts(module):
    trainable = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for name, b in module.named_buffers() if name.endswith(("running_mean", "running_var")))
    return trainable, trainable + stats


def channels_last(t):
    return [t.shape[0], *t.shape[2:], t.shape[1]]


def same_pad(k):
    return (k - 1) // 2


class Act(nn.Module):
    """relu / prelu (per channel) / elu / selu / sigmoid / none."""

    def __init__(self, kind, ch):
        super().__init__()
        self.kind = kind
        self.prelu = nn.PReLU(ch, init=0.0) if kind == "prelu" else None

    def forward(self, x):
        if self.kind is None:
            return x
        if self.kind == "prelu":
            return self.prelu(x)
        return torch.sigmoid(x) if self.kind == "sigmoid" else getattr(F, self.kind)(x)


class ConvBlock(nn.Module):
    """NiftyNet ConvolutionalLayer: conv (bias optional) -> bn (optional) -> activation; or the pre-activation order."""

    def __init__(self, rank, cin, cout, k, stride=1, bn=True, act=None, bias=False, padding="same", dilation=1,
                 pre=False):
        super().__init__()
        pad = same_pad(k) * dilation if padding == "same" else 0
        self.pre = pre
        self.conv = conv_nd(rank)(cin, cout, k, stride=stride, padding=pad, bias=bias, dilation=dilation)
        nch = cin if pre else cout
        self.bn = bn_nd(rank)(nch) if bn else None
        self.act = Act(act, nch)

    def post(self, x):
        if self.bn is not None:
            x = self.bn(x)
        return self.act(x)

    def forward(self, x):
        return self.conv(self.post(x)) if self.pre else self.post(self.conv(x))


class DeconvBlock(nn.Module):
    """NiftyNet DeconvolutionalLayer with 'same' output size in*stride (k >= stride)."""

    def __init__(self, rank, cin, cout, k, stride, bn=True, act=None, bias=False):
        super().__init__()
        pad = (k - stride + 1) // 2
        out_pad = (k - stride) % 2 if k > stride else 0
        self.conv = deconv_nd(rank)(cin, cout, k, stride=stride, padding=pad, output_padding=out_pad, bias=bias)
        self.bn = bn_nd(rank)(cout) if bn else None
        self.act = Act(act, cout)

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return self.act(x)


# --- DeepMedic ------------------------------------------------------------------------------------------------------


class DeepMedic(nn.Module):
    def __init__(self, rank, cin, classes, d=3):
        super().__init__()
        self.d = d
        feats = [30, 30, 40, 40, 40, 40, 50, 50]
        self.normal = nn.Sequential(*[ConvBlock(rank, a, b, 3, act="prelu", padding="valid")
                                      for a, b in zip([cin] + feats[:-1], feats)])
        self.down = nn.Sequential(*[ConvBlock(rank, a, b, 3, act="prelu", padding="valid")
                                    for a, b in zip([cin] + feats[:-1], feats)])
        fc = [150, 150, classes]
        self.head = nn.Sequential(*[ConvBlock(rank, a, b, 1, act="prelu") for a, b in zip([100] + fc[:-1], fc)])

    def forward(self, x):
        d, border = self.d, 8 * (self.d - 1)
        crop = tuple(slice(border, -border) for _ in x.shape[2:])
        normal = self.normal(x[(slice(None), slice(None), *crop)])
        sub = tuple(slice(d // 2, None, d) for _ in x.shape[2:])
        down = self.down(x[(slice(None), slice(None), *sub)])
        for axis in range(2, x.dim()):
            down = down.repeat_interleave(d, dim=axis)
        return self.head(torch.cat([normal, down], 1))


# --- ResNet / SE-ResNet ---------------------------------------------------------------------------------------------


class SE(nn.Module):
    def __init__(self, ch, ratio=16):
        super().__init__()
        self.fc1 = nn.Linear(ch, ch // ratio, bias=False)
        self.fc2 = nn.Linear(ch // ratio, ch, bias=False)

    def forward(self, x):
        s = x.mean(dim=tuple(range(2, x.dim())))
        e = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * e.view(*e.shape, *([1] * (x.dim() - 2)))


class Bottleneck(nn.Module):
    def __init__(self, rank, cin, cout, stride, se):
        super().__init__()
        w = cout // 4
        self.same = cin == cout
        pre = dict(pre=True, act="relu")
        if self.same:
            self.convs = nn.Sequential(ConvBlock(rank, cin, w, 1, stride, **pre), ConvBlock(rank, w, w, 3, **pre),
                                       ConvBlock(rank, w, cout, 1, **pre))
        else:
            self.bn = bn_nd(rank)(cin)
            self.convs = nn.Sequential(ConvBlock(rank, cin, w, 1, stride, bn=False, pre=True),
                                       ConvBlock(rank, w, w, 3, **pre), ConvBlock(rank, w, cout, 1, **pre))
            self.shortcut = ConvBlock(rank, cin, cout, 1, stride, bn=False, pre=True)
        self.se = SE(cout) if se else None

    def forward(self, x):
        if self.same:
            out = self.convs(x)
            return (self.se(out) if self.se else out) + x
        t = F.relu(self.bn(x))
        out = self.convs(t)
        return self.shortcut(t) + (self.se(out) if self.se else out)


class ResNet(nn.Module):
    def __init__(self, rank, cin, classes, feats, nblocks, se):
        super().__init__()
        self.conv1 = ConvBlock(rank, cin, feats[0], 3, bn=False, pre=True)
        blocks, prev = [], feats[0]
        for i, n in enumerate(feats[1:]):
            for j in range(nblocks):
                blocks.append(Bottleneck(rank, prev, n, (1 if i == 0 else 2) if j == 0 else 1, se))
                prev = n
        self.blocks = nn.Sequential(*blocks)
        self.bn = bn_nd(rank)(prev)
        self.fc = nn.Linear(prev, classes)

    def forward(self, x):
        out = F.relu(self.bn(self.blocks(self.conv1(x))))
        return self.fc(out.mean(dim=tuple(range(2, x.dim()))))


# --- HighRes3DNet blocks, HolisticNet, ScaleNet ---------------------------------------------------------------------


class HighResBlock(nn.Module):
    def __init__(self, rank, ch, kernels=(3, 3), act="relu", dilation=1):
        super().__init__()
        layers = []
        for k in kernels:
            layers += [bn_nd(rank)(ch), Act(act, ch),
                       conv_nd(rank)(ch, ch, k, padding=same_pad(k) * dilation, dilation=dilation, bias=False)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x) + x


class HighRes3DNet(nn.Module):
    def __init__(self, cin, classes, act="prelu"):
        super().__init__()
        layers = [ConvBlock(3, cin, 16, 3, act=act)]
        for ch, dil, prev in [(16, 1, 16), (32, 2, 16), (64, 4, 32)]:
            for j in range(3):
                cin_block = prev if j == 0 else ch
                # NiftyNet zero-pads the residual's channels when the block widens (elementwise SUM).
                layers.append(WideningHighResBlock(cin_block, ch, act, dil))
        layers += [ConvBlock(3, 64, 80, 1, act=act), ConvBlock(3, 80, classes, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class WideningHighResBlock(nn.Module):
    def __init__(self, cin, cout, act, dilation):
        super().__init__()
        self.cout = cout
        self.body = nn.Sequential(bn_nd(3)(cin), Act(act, cin),
                                  nn.Conv3d(cin, cout, 3, padding=dilation, dilation=dilation, bias=False),
                                  bn_nd(3)(cout), Act(act, cout),
                                  nn.Conv3d(cout, cout, 3, padding=dilation, dilation=dilation, bias=False))

    def forward(self, x):
        out = self.body(x)
        if x.shape[1] < self.cout:
            x = F.pad(x, (0, 0, 0, 0, 0, 0, 0, self.cout - x.shape[1]))
        return out + x


class ScoreLayer(nn.Module):
    def __init__(self, rank, cin, hidden, classes):
        super().__init__()
        self.net = nn.Sequential(ConvBlock(rank, cin, hidden, 3, act="elu"), ConvBlock(rank, hidden, classes, 1))

    def forward(self, x):
        return self.net(x)


class HolisticNet(nn.Module):
    def __init__(self, rank, cin, classes, feats=70, hidden=140, nres=3):
        super().__init__()
        self.rank = rank
        self.conv = ConvBlock(rank, cin, feats, 3, act="elu")
        self.scales = nn.ModuleList([nn.Sequential(*[HighResBlock(rank, feats, act="elu", dilation=d)
                                                     for _ in range(nres)]) for d in (1, 2, 1, 2)])
        self.scores = nn.ModuleList([ScoreLayer(rank, feats, hidden, classes) for _ in range(4)])
        # channel-wise deconvolutions: one single-channel kernel per class (kernel 2 and kernel 1, stride 2)
        self.up3 = nn.ParameterList([nn.Parameter(torch.ones(1, 1, *[2] * rank)) for _ in range(classes)])
        self.up4 = nn.ParameterList([nn.Parameter(torch.ones(1, 1, *[1] * rank)) for _ in range(classes)])
        self.merge = nn.ModuleList([conv_nd(rank)(4, 1, 1, bias=False) for _ in range(classes)])

    def upsample(self, x, kernels):
        convt = F.conv_transpose3d if self.rank == 3 else F.conv_transpose2d
        parts = []
        for c, w in enumerate(kernels):
            y = convt(x[:, c:c + 1], w, stride=2)
            short = [2 * n - m for n, m in zip(x.shape[2:], y.shape[2:])]
            y = F.pad(y, [v for d in reversed(short) for v in (0, max(d, 0))])
            parts.append(y[(slice(None), slice(None), *[slice(0, 2 * n) for n in x.shape[2:]])])
        return torch.cat(parts, 1)

    def forward(self, x):
        flow = self.scales[0](self.conv(x))
        s1 = self.scores[0](flow)
        flow = self.scales[1](flow)
        s2 = self.scores[1](flow)
        pool = F.avg_pool3d if self.rank == 3 else F.avg_pool2d
        flow = self.scales[2](pool(flow, 2))
        s3 = self.upsample(self.scores[2](flow), self.up3)
        flow = self.scales[3](flow)
        s4 = self.upsample(self.scores[3](flow), self.up4)
        probs = torch.stack([F.softmax(s, 1) for s in (s1, s2, s3, s4)], 2)  # [N, C, 4, ...]
        return torch.cat([m(probs[:, c]) for c, m in enumerate(self.merge)], 1)


class ScaleNet(nn.Module):
    def __init__(self, modalities, classes):
        super().__init__()
        self.convs = nn.ModuleList([ConvBlock(3, 1, 16, 3, act="prelu") for _ in range(modalities)])
        self.mf = nn.ModuleList([HighResBlock(3, modalities, kernels=(3, 1)) for _ in range(16)])
        self.fm = nn.ModuleList([HighResBlock(3, 16, kernels=(3, 1)) for _ in range(modalities)])
        self.front = HighRes3DNet(16, classes)

    def forward(self, x):
        roots = torch.stack([conv(x[:, m:m + 1]) for m, conv in enumerate(self.convs)], 2)  # [N, F, M, ...]
        per_feature = torch.stack([blk(roots[:, f]) for f, blk in enumerate(self.mf)], 1)  # [N, F, M, ...]
        per_mod = torch.stack([blk(per_feature[:, :, m]) for m, blk in enumerate(self.fm)], 2)
        return self.front(per_mod.mean(2))


# --- Dense V-Net ----------------------------------------------------------------------------------------------------


class DenseVNet(nn.Module):
    def __init__(self, rank, cin, classes, prior=False, dense=(4, 8, 16), seg=(12, 24, 24), inp=(24, 24, 24),
                 layers=(5, 10, 10)):
        super().__init__()
        self.rank = rank
        self.bn = bn_nd(rank)(cin)
        self.initial = ConvBlock(rank, cin, inp[0], 5, stride=2)
        self.blocks = nn.ModuleList()
        prev = cin + inp[0]
        for i in range(len(dense)):
            stack, ch = nn.ModuleList(), prev
            for _ in range(layers[i]):
                stack.append(ConvBlock(rank, ch, dense[i], 3, act="relu"))
                ch += dense[i]
            skip = ConvBlock(rank, ch, seg[i], 3, act="relu")
            down = ConvBlock(rank, ch, inp[i + 1], 3, stride=2, act="relu") if i + 1 < len(dense) else None
            self.blocks.append(nn.ModuleDict(dict(stack=stack, skip=skip, **({"down": down} if down else {}))))
            prev = inp[i + 1] if i + 1 < len(dense) else None
        self.seg = ConvBlock(rank, cin + sum(seg), classes, 3, bn=False, bias=True)
        self.prior = nn.Parameter(torch.ones(classes, *[12] * rank)) if prior else None

    def forward(self, x):
        pool = F.avg_pool3d if self.rank == 3 else F.avg_pool2d
        # TF "same" average pooling, k 3 stride 2, even sizes: pad 0 before and 1 after, padding not counted
        ones = torch.ones_like(x[:, :1])
        num = pool(F.pad(x, [0, 1] * self.rank), 3, 2)
        den = pool(F.pad(ones, [0, 1] * self.rank), 3, 2)
        down_img = self.bn(num / den)
        size = down_img.shape[2:]
        feats = [down_img]
        down = torch.cat([down_img, self.initial(x)], 1)
        mode = "trilinear" if self.rank == 3 else "bilinear"
        for blk in self.blocks:
            stack = [down]
            for conv in blk["stack"]:
                stack.append(conv(torch.cat(stack, 1)))
            allf = torch.cat(stack, 1)
            skip = blk["skip"](allf)
            if skip.shape[2:] != size:
                skip = F.interpolate(skip, size=size, mode=mode, align_corners=False)
            feats.append(skip)
            down = blk["down"](allf) if "down" in blk else None
        out = self.seg(torch.cat(feats, 1))
        if self.prior is not None:
            out = out + torch.log(F.interpolate(self.prior[None], size=size, mode=mode, align_corners=False))
        return F.interpolate(out, size=x.shape[2:], mode=mode, align_corners=False)


# --- VAE ------------------------------------------------------------------------------------------------------------


class VAE(nn.Module):
    def __init__(self, rank, cin, spatial, conv=(32, 64, 96), kernels=(3, 3, 3), pools=(2, 2, 2), enc=(256, 128),
                 latent=64, shared=(128,)):
        super().__init__()
        pool = 1
        for p in pools:
            pool *= p
        self.down_shape = [conv[-1], *[s // pool for s in spatial]]
        serial = 1
        for s in self.down_shape:
            serial *= s
        layers, prev = [], cin
        for c, k, p in zip(conv, kernels, pools):
            layers += [ConvBlock(rank, prev, c, k, act="selu", bias=True), ConvBlock(rank, c, c, p, stride=p,
                                                                                     act="selu", padding="valid")]
            prev = c
        self.encoder_conv = nn.Sequential(*layers)
        fcs, prev = [], serial
        for n in enc:
            fcs += [nn.Linear(prev, n), nn.BatchNorm1d(n), nn.SELU()]
            prev = n
        self.encoder_fc = nn.Sequential(*fcs)
        self.means = nn.Linear(prev, latent)
        self.logvars = nn.Linear(prev, latent)
        fcs, prev = [], latent
        for n in shared:
            fcs += [nn.Linear(prev, n), nn.BatchNorm1d(n), nn.SELU()]
            prev = n
        self.shared = nn.Sequential(*fcs)
        self.dec_means = self.decoder(rank, prev, serial, conv, kernels, pools, cin, enc, "sigmoid")
        self.dec_logvars = self.decoder(rank, latent, serial, conv, kernels, pools, cin, enc, None)

    @staticmethod
    def decoder(rank, cin_fc, serial, conv, kernels, pools, cin, enc, last):
        fcs, prev = [], cin_fc
        for n in list(enc[::-1]) + [serial]:
            fcs += [nn.Linear(prev, n), nn.BatchNorm1d(n), nn.SELU()]
            prev = n
        chans = list(conv[-2::-1]) + [cin]
        actis = ["selu"] * (len(chans) - 1) + [last]
        layers, prev = [], conv[-1]
        for c, k, p, a in zip(chans, kernels[::-1], pools[::-1], actis):
            layers += [DeconvBlock(rank, prev, c, p, p, bias=True), DeconvBlock(rank, c, c, k, 1, act=a, bias=True)]
            prev = c
        return nn.ModuleDict(dict(fc=nn.Sequential(*fcs), conv=nn.Sequential(*layers)))

    def decode(self, dec, z):
        return dec["conv"](dec["fc"](z).view(z.shape[0], *self.down_shape))

    def forward(self, x):
        h = self.encoder_fc(self.encoder_conv(x).flatten(1))
        mu, logvar = self.means(h), self.logvars(h).clamp(-50, 50)
        z = mu
        return [mu, logvar, self.decode(self.dec_means, self.shared(z)), self.decode(self.dec_logvars, z)]


# --- GANs -----------------------------------------------------------------------------------------------------------


class BetaBN(nn.Module):
    """TensorFlow contrib batch_norm defaults: learned shift only, running statistics."""

    def __init__(self, rank, ch):
        super().__init__()
        self.bn = bn_nd(rank)(ch, affine=False, eps=1e-3)
        self.beta = nn.Parameter(torch.zeros(ch))

    def forward(self, x):
        return self.bn(x) + self.beta.view(1, -1, *([1] * (x.dim() - 2)))


class SimpleGAN(nn.Module):
    def __init__(self, rank, noise, image_shape, gch=(128, 64, 32, 16), dch=(16, 32, 64, 128)):
        super().__init__()
        self.rank = rank
        spatial, c = list(image_shape[:-1]), image_shape[-1]
        sizes = [None] * len(gch) + [spatial]
        for it in range(len(gch), 0, -1):
            sizes[it - 1] = [int(round(n / 2)) for n in sizes[it]]
        self.sizes = sizes
        chans = list(gch) + [c]
        self.gch = gch
        p = gch[0]
        for s in sizes[0]:
            p *= s
        self.fc = nn.Linear(noise, p)
        conv = conv_nd(rank)
        self.g = nn.ModuleList()
        for it in range(len(gch)):
            last = it == len(gch) - 1
            self.g.append(nn.ModuleDict(dict(
                wt=conv(chans[it], chans[it + 1], 3, padding=1, bias=False), bn1=BetaBN(rank, chans[it + 1]),
                w=conv(chans[it + 1], chans[it + 1], 3, padding=1, bias=False),
                **({} if last else {"bn2": BetaBN(rank, chans[it + 1])}))))
        self.scale = nn.Parameter(torch.full((c,), 0.1))
        self.shift = nn.Parameter(torch.zeros(c, *spatial))
        self.d = nn.ModuleList()
        prev = c
        for it in range(len(dch) - 1):
            self.d.append(nn.ModuleDict(dict(w=conv(prev, dch[it], 3, padding=1, bias=False), bn1=BetaBN(rank, dch[it]),
                                             ws=conv(dch[it], dch[it + 1], 3, padding=1, bias=False),
                                             bn2=BetaBN(rank, dch[it + 1]))))
            prev = dch[it + 1]
        feats = dch[-1]
        for s in spatial:
            for _ in range(len(dch) - 1):
                s //= 2
            feats *= s
        self.dense = nn.Linear(feats, 1)

    def resize(self, x, size):
        return F.interpolate(x, size=size, mode="trilinear" if self.rank == 3 else "bilinear", align_corners=False)

    def generate(self, z):
        x = self.fc(z).view(z.shape[0], self.gch[0], *self.sizes[0])
        for it, blk in enumerate(self.g):
            x = F.relu(blk["bn1"](blk["wt"](self.resize(x, self.sizes[it + 1]))))
            x = blk["w"](x)
            if "bn2" in blk:
                x = F.relu(blk["bn2"](x))
        return torch.tanh(x * self.scale.view(1, -1, *([1] * self.rank)) + self.shift[None])

    def discriminate(self, x):
        for blk in self.d:
            x = F.relu(blk["bn1"](blk["w"](x)))
            x = F.relu(blk["bn2"](blk["ws"](self.resize(x, [n // 2 for n in x.shape[2:]]))))
        return self.dense(x.flatten(1))

    def forward(self, z, images):
        image = self.generate(z)
        return [image, self.discriminate(images / 2), self.discriminate(image)]


class SimulatorGAN(nn.Module):
    def __init__(self, rank, noise, spatial, cond=0, dch=(32, 64, 128, 256, 512, 1024)):
        super().__init__()
        self.rank, self.cond_ch = rank, cond
        shortcuts = [True, True, True, True, False]
        ch = [noise + cond * shortcuts[0]]
        for i in range(4):
            ch.append(ch[-1] // 2 + cond * shortcuts[i + 1])
        self.ch, self.shortcuts = ch, shortcuts
        self.sz0 = [s // 16 for s in spatial]
        p = ch[0]
        for s in self.sz0:
            p *= s
        self.fc = nn.Linear(noise, p)
        extra = lambda i: cond if shortcuts[i] else 0  # noqa: E731
        self.conv0 = ConvBlock(rank, ch[0] + extra(0), ch[0], 3)
        self.ups = nn.ModuleList([DeconvBlock(rank, ch[i - 1], ch[i], 3, 2) for i in range(1, 5)])
        self.convs = nn.ModuleList([ConvBlock(rank, ch[i] + extra(i), ch[i], 3) for i in range(1, 5)])
        self.final = ConvBlock(rank, ch[4], 1, 3, bn=False)
        d = [ConvBlock(rank, 1 + cond, dch[0], 5, bn=False, bias=True), ConvBlock(rank, dch[0], dch[0], 3),
             ConvBlock(rank, dch[0], dch[0], 3)]
        for a, b in zip(dch[:-1], dch[1:]):
            d += [ConvBlock(rank, a, b, 3, stride=2), ConvBlock(rank, b, b, 3), ConvBlock(rank, b, b, 3)]
        self.d = nn.ModuleList(d)
        feats = dch[-1]
        for s in spatial:
            for _ in range(len(dch) - 1):
                s = -(-s // 2)
            feats *= s
        self.out = nn.Linear(feats, 1)

    def resize(self, x, size):
        return F.interpolate(x, size=size, mode="trilinear" if self.rank == 3 else "bilinear", align_corners=False)

    def cat_cond(self, x, cond, i):
        return torch.cat([x, self.resize(cond, list(x.shape[2:]))], 1) if cond is not None and self.shortcuts[i] else x

    def generate(self, z, cond):
        h = F.relu(self.fc(z)).view(z.shape[0], self.ch[0], *self.sz0)
        h = F.relu(self.conv0(self.cat_cond(h, cond, 0)))
        for i in range(4):
            h = F.relu(self.convs[i](self.cat_cond(F.relu(self.ups[i](h)), cond, i + 1)))
        return 2 * torch.tanh(self.final(h))

    def discriminate(self, x, cond):
        lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
        if cond is not None:
            x = torch.cat([x, cond], 1)
        h = None
        for j in range(0, len(self.d), 3):
            s = lrelu(self.d[j](x if j == 0 else h))
            r = lrelu(self.d[j + 1](s))
            h = lrelu(self.d[j + 2](r) + s)
        return self.out(h.flatten(1))

    def forward(self, z, images, cond=None):
        fake = self.generate(z, cond)
        return [fake, self.discriminate(images, cond), self.discriminate(fake, cond)]


# --- cases ----------------------------------------------------------------------------------------------------------


def nchw(shape):
    """Zeros in PyTorch layout for a channels-last shape."""
    return torch.zeros(shape[0], shape[-1], *shape[1:-1])


def record(net, inputs, extra_inputs=()):
    net.eval()
    with torch.no_grad():
        out = net(*[nchw(s) for s in inputs], *extra_inputs)
    outs = out if isinstance(out, list) else [out]
    trainable, total = counts(net)
    return {
        "inputs": [list(s) for s in inputs],
        "trainable": trainable,
        "total": total,
        "outputs": [channels_last(o) if o.dim() > 2 else list(o.shape) for o in outs],
    }


def main(path):
    r = {}
    r["deepmedic_3d"] = record(DeepMedic(3, 1, 4), [[1, 51, 51, 51, 1]])
    r["deepmedic_2d"] = record(DeepMedic(2, 2, 4), [[1, 57, 57, 2]])
    r["resnet_3d"] = record(ResNet(3, 1, 3, [16, 64, 128, 256], 10, False), [[1, 16, 16, 16, 1]])
    r["resnet_2d_small"] = record(ResNet(2, 2, 3, [8, 16, 32], 2, False), [[2, 12, 12, 2]])
    r["se_resnet_3d"] = record(ResNet(3, 1, 3, [16, 64, 128], 1, True), [[1, 16, 16, 16, 1]])
    r["dense_vnet_3d"] = record(DenseVNet(3, 1, 3), [[1, 16, 16, 16, 1]])
    r["dense_vnet_3d_prior"] = record(DenseVNet(3, 1, 3, prior=True), [[1, 16, 16, 16, 1]])
    r["dense_vnet_2d"] = record(DenseVNet(2, 1, 2), [[1, 16, 24, 1]])
    r["holisticnet_3d"] = record(HolisticNet(3, 1, 3), [[1, 8, 8, 8, 1]])
    r["holisticnet_2d_small"] = record(HolisticNet(2, 2, 2, feats=8, hidden=12, nres=1), [[1, 10, 12, 2]])
    r["scalenet_3d"] = record(ScaleNet(2, 3), [[1, 8, 8, 8, 2]])
    r["vae_3d"] = record(VAE(3, 1, [16, 16, 16]), [[2, 16, 16, 16, 1]])
    r["vae_2d_small"] = record(VAE(2, 1, [8, 8], conv=(4, 8), kernels=(3, 3), pools=(2, 2), enc=(16,), latent=4,
                                   shared=(8,)), [[2, 8, 8, 1]])
    gan = SimpleGAN(3, 10, [16, 16, 16, 1])
    gan.eval()
    with torch.no_grad():
        image, real, fake = gan(torch.zeros(2, 10), torch.zeros(2, 1, 16, 16, 16))
    r["simple_gan_3d"] = {"inputs": [[2, 10], [2, 16, 16, 16, 1]], "trainable": counts(gan)[0], "total": counts(gan)[1],
                          "outputs": [channels_last(image), list(real.shape), list(fake.shape)]}
    sim = SimulatorGAN(3, 100, [16, 16, 16], dch=(32, 64, 128))
    sim.eval()
    with torch.no_grad():
        image, real, fake = sim(torch.zeros(2, 100), torch.zeros(2, 1, 16, 16, 16))
    r["simulator_gan_3d"] = {"inputs": [[2, 100], [2, 16, 16, 16, 1]], "trainable": counts(sim)[0],
                             "total": counts(sim)[1], "outputs": [channels_last(image), list(real.shape),
                                                                  list(fake.shape)]}
    sim2 = SimulatorGAN(2, 16, [16, 16], cond=2, dch=(4, 8))
    sim2.eval()
    with torch.no_grad():
        image, real, fake = sim2(torch.zeros(2, 16), torch.zeros(2, 1, 16, 16), torch.zeros(2, 2, 16, 16))
    r["simulator_gan_2d_cond"] = {"inputs": [[2, 16], [2, 16, 16, 1], [2, 16, 16, 2]], "trainable": counts(sim2)[0],
                                  "total": counts(sim2)[1], "outputs": [channels_last(image), list(real.shape),
                                                                        list(fake.shape)]}
    with open(path, "w") as f:
        json.dump(r, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
