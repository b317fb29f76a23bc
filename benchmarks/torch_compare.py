#!/usr/bin/env python3
"""PyTorch peer of bench_nn's Deep-STORM cases and U-Net preset cases: same networks, same shapes,
2 threads.

    /usr/bin/python3 benchmarks/torch_compare.py [--repeats 5] [--which all|deep_storm|presets|phone]

Prints wall ms and process CPU ms (medians of the repeats after two warm-up runs) and GFLOP/s (convolution FLOPs, counted
exactly as bench_nn counts them) for both memory layouts; channels_last is the faster one with
Debian's oneDNN build. Batch norm is in eval mode for the forward cases, training mode for the
training step (forward, Deep-STORM loss, backward, Adam).

The presets are nn::DeepStorm and nn::SubPixel of include/smlm/nn/unet.hpp at r = 8, layer for
layer (bias only on convolutions without batch norm after them, i.e. the head); their parameter
counts are checked against UNet::parameter_count(). Cases as bench_nn's BM_preset_train_step
(batch 16: deep_storm 1x16x16 camera pixels enlarged to 128x128, sub_pixel 1x32x32 -> 256x256;
loss = MSE(G*y, G*target) + mean|y| with G the 7x7 sigma-1 Gaussian of sum 2, target spikes of
100 on 1 % of the pixels, Adam) and BM_preset_inference_64 (batches of 4 frames of 64x64,
eval mode, no grad), reported as steps/s and frames/s.

--which phone: bench_nn's BM_phone_inference_128 cases, a phone's video at cellSTORM's r = 4:
nn::SubPixel, nn::CellStormShuffle and nn::CellStorm (the last one with the frame enlarged x4 to
512x512 inside the network, as the preset does), one 1x1x128x128 frame per forward pass, eval mode,
no grad, reported as frames/s. cellSTORM's stride-2 3x3 down-sampling convolutions pad by 1 on
each side here (PyTorch's usual padding=1); smlmkit's 'same' padding puts the one padding row and
column at the bottom and right instead (TensorFlow's rule): the same output size and arithmetic,
the sampling grid shifted by one input pixel.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


def block(cin, cout, act=nn.ReLU, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), act()]


def deep_storm():
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")
    layers = (block(1, 32) + [nn.MaxPool2d(2)] + block(32, 64) + [nn.MaxPool2d(2)] + block(64, 128)
              + [nn.MaxPool2d(2)] + block(128, 512) + [up()] + block(512, 128) + [up()] + block(128, 64)
              + [up()] + block(64, 32) + [nn.Conv2d(32, 1, 1, bias=False)])
    return nn.Sequential(*layers)


def preset_deep_storm(r=8):
    """nn::DeepStorm: nearest xr, Deep-STORM's encoder-decoder, 1x1 head with bias."""
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")
    layers = ([nn.Upsample(scale_factor=r, mode="nearest")] + block(1, 32) + [nn.MaxPool2d(2)] + block(32, 64)
              + [nn.MaxPool2d(2)] + block(64, 128) + [nn.MaxPool2d(2)] + block(128, 512) + [up()] + block(512, 128)
              + [up()] + block(128, 64) + [up()] + block(64, 32) + [nn.Conv2d(32, 1, 1, bias=True)])
    return nn.Sequential(*layers)


class SubPixel(nn.Module):
    """nn::SubPixel: two conv blocks per level (32, 64, bottleneck 128), 2x2 max pooling, nearest x2 +
    conv block up, skips concatenated (the level's input first) and merged by one conv block, head
    3x3 conv 32 -> r^2 with bias, pixel shuffle xr."""

    def __init__(self, r=8):
        super().__init__()
        seq = lambda *blocks: nn.Sequential(*[m for b in blocks for m in b])
        up = lambda: [nn.Upsample(scale_factor=2, mode="nearest")]
        self.enc0 = seq(block(1, 32), block(32, 32))
        self.enc1 = seq(block(32, 64), block(64, 64))
        self.mid = seq(block(64, 128), block(128, 128))
        self.up1 = seq(up(), block(128, 64))
        self.dec1 = seq(block(128, 64))
        self.up0 = seq(up(), block(64, 32))
        self.dec0 = seq(block(64, 32))
        self.head = nn.Conv2d(32, r * r, 3, padding=1, bias=True)
        self.shuffle = nn.PixelShuffle(r)

    def forward(self, x):
        a = self.enc0(x)
        b = self.enc1(F.max_pool2d(a, 2))
        m = self.mid(F.max_pool2d(b, 2))
        b = self.dec1(torch.cat([b, self.up1(m)], 1))
        a = self.dec0(torch.cat([a, self.up0(b)], 1))
        return self.shuffle(self.head(a))


class CellStorm(nn.Module):
    """nn::CellStorm (shuffle=False) and nn::CellStormShuffle (shuffle=True): a U-Net of depth 3,
    widths 32-64-128 and a 128-channel bottleneck, one conv block per encoder level (LeakyReLU(0.2)),
    down-sampling by a stride-2 3x3 conv block (LeakyReLU(0.2)), up-sampling by nearest x2 + conv
    block (ReLU), skips concatenated (the level's input first) and merged by one conv block (ReLU),
    tanh output. cell_storm enlarges the frame xr (nearest) first and ends in a 1x1 conv 32 -> 1
    with bias; cell_storm_shuffle works at camera resolution and ends in a 3x3 conv 32 -> r^2 with
    bias and pixel shuffle xr."""

    def __init__(self, r=4, shuffle=False):
        super().__init__()
        widths = [32, 64, 128, 128]
        self.depth = 3
        leaky = lambda: nn.LeakyReLU(0.2)
        seq = lambda layers: nn.Sequential(*layers)
        self.enlarge = nn.Identity() if shuffle else nn.Upsample(scale_factor=r, mode="nearest")
        self.enc = nn.ModuleList(
            seq(block(1 if lv == 0 else widths[lv - 1], widths[lv], leaky)) for lv in range(self.depth + 1))
        self.down = nn.ModuleList(seq(block(widths[lv], widths[lv], leaky, stride=2)) for lv in range(self.depth))
        self.up = nn.ModuleList(seq([nn.Upsample(scale_factor=2, mode="nearest")] + block(widths[lv + 1], widths[lv]))
                                for lv in range(self.depth))
        self.dec = nn.ModuleList(seq(block(2 * widths[lv], widths[lv])) for lv in range(self.depth))
        if shuffle:
            self.head = nn.Sequential(nn.Conv2d(32, r * r, 3, padding=1, bias=True), nn.PixelShuffle(r))
        else:
            self.head = nn.Conv2d(32, 1, 1, bias=True)

    def level(self, lv, x):
        x = self.enc[lv](x)
        if lv == self.depth:
            return x
        inner = self.up[lv](self.level(lv + 1, self.down[lv](x)))
        return self.dec[lv](torch.cat([x, inner], 1))

    def forward(self, x):
        return torch.tanh(self.head(self.level(0, self.enlarge(x))))


# UNet::parameter_count() of the presets at r = 8 (tests/nn/unet_test.cpp; bench_nn's "params").
PRESET_PARAMETERS = {"deep_storm": 1_366_209, "sub_pixel": 490_080}
# The same at cellSTORM's r = 4 (tests/nn/patchgan_test.cpp; bench_nn's BM_phone_* "params").
PHONE_PARAMETERS = {"sub_pixel": 476_208, "cell_storm_shuffle": 1_066_800, "cell_storm": 1_062_209}


def preset_flops(name, h, w, r=8):
    """Convolution FLOPs of one sample of h x w camera pixels, counted as bench_nn's preset_flops
    (a stride-2 conv at the plane it writes)."""
    if name == "deep_storm":
        layers = [(1, 32, 3, 1), (32, 64, 3, 2), (64, 128, 3, 4), (128, 512, 3, 8), (512, 128, 3, 4), (128, 64, 3, 2),
                  (64, 32, 3, 1), (32, 1, 1, 1)]
        h, w = h * r, w * r
    elif name in ("cell_storm", "cell_storm_shuffle"):
        layers = [(1, 32, 3, 1), (32, 32, 3, 2), (32, 64, 3, 2), (64, 64, 3, 4), (64, 128, 3, 4), (128, 128, 3, 8),
                  (128, 128, 3, 8), (128, 128, 3, 4), (256, 128, 3, 4), (128, 64, 3, 2), (128, 64, 3, 2),
                  (64, 32, 3, 1), (64, 32, 3, 1)]
        if name == "cell_storm":
            layers.append((32, 1, 1, 1))
            h, w = h * r, w * r
        else:
            layers.append((32, r * r, 3, 1))
    else:
        layers = [(1, 32, 3, 1), (32, 32, 3, 1), (32, 64, 3, 2), (64, 64, 3, 2), (64, 128, 3, 4), (128, 128, 3, 4),
                  (128, 64, 3, 2), (128, 64, 3, 2), (64, 32, 3, 1), (64, 32, 3, 1), (32, r * r, 3, 1)]
    fwd = bwd = 0.0
    for i, (ci, co, k, s) in enumerate(layers):
        c = 2.0 * ci * co * k * k * (h // s) * (w // s)
        fwd += c
        bwd += c if i == 0 else 2 * c
    return fwd, bwd


def flops(h, w):
    layers = [(1, 32, 3, 1), (32, 64, 3, 2), (64, 128, 3, 4), (128, 512, 3, 8), (512, 128, 3, 4), (128, 64, 3, 2),
              (64, 32, 3, 1), (32, 1, 1, 1)]
    fwd = bwd = 0.0
    for i, (ci, co, k, s) in enumerate(layers):
        c = 2.0 * ci * co * k * k * (h // s) * (w // s)
        fwd += c
        bwd += c if i == 0 else 2 * c
    return fwd, bwd


def timeit(fn, repeats):
    """(median wall seconds, median process CPU seconds) over `repeats` runs after 2 warm-ups."""
    for _ in range(2):
        fn()
    ts, cs = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return statistics.median(ts), statistics.median(cs)


def report(label, t, f):
    wall, cpu = t
    print(f"{label:56s} {wall * 1e3:8.1f} ms  {f / wall * 1e-9:6.1f} GFLOP/s   cpu {cpu * 1e3:8.1f} ms  "
          f"{f / cpu * 1e-9:6.1f} GFLOP per CPU-s")


def report_rate(label, t, f, items, unit):
    """As report, with items per call (frames, steps) as a rate."""
    wall, cpu = t
    print(f"{label:56s} {wall * 1e3:8.1f} ms  {items / wall:7.2f} {unit}  {f / wall * 1e-9:6.1f} GFLOP/s   "
          f"cpu {cpu * 1e3:8.1f} ms  {f / cpu * 1e-9:6.1f} GFLOP per CPU-s")


def presets(args, kernel):
    r = 8
    for name, make in (("deep_storm", lambda: preset_deep_storm(r)), ("sub_pixel", lambda: SubPixel(r))):
        count = sum(p.numel() for p in make().parameters())
        status = "ok" if count == PRESET_PARAMETERS[name] else f"MISMATCH, smlmkit has {PRESET_PARAMETERS[name]}"
        print(f"{name}: {count} parameters ({status})")
        for fmt_name, fmt in (("contiguous", torch.contiguous_format), ("channels_last", torch.channels_last)):
            torch.manual_seed(0)
            net = make().to(memory_format=fmt)
            k = kernel.to(memory_format=fmt)

            net.eval()
            x = torch.randn(4, 1, 64, 64).to(memory_format=fmt)
            with torch.no_grad():
                t = timeit(lambda: net(x), args.repeats)
            report_rate(f"{name} {fmt_name} inference 4x1x64x64", t, preset_flops(name, 64, 64)[0] * 4, 4, "frames/s")

            net.train()
            patch = 16 if name == "deep_storm" else 32
            xt = torch.rand(16, 1, patch, patch).to(memory_format=fmt)
            target = 100 * (torch.rand(16, 1, patch * r, patch * r) < 0.01).float()
            target = target.to(memory_format=fmt)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)

            def step():
                opt.zero_grad()
                y = net(xt)
                blurred = F.conv2d(target, k, padding=3)
                loss = F.mse_loss(F.conv2d(y, k, padding=3), blurred) + y.abs().mean()
                loss.backward()
                opt.step()

            t = timeit(step, args.repeats)
            fw, bw = preset_flops(name, patch, patch)
            report_rate(f"{name} {fmt_name} train step 16x1x{patch}x{patch}", t, (fw + bw) * 16, 1, "steps/s")


def phone(args):
    r, size = 4, 128
    for name, make in (("sub_pixel", lambda: SubPixel(r)), ("cell_storm_shuffle", lambda: CellStorm(r, shuffle=True)),
                       ("cell_storm", lambda: CellStorm(r))):
        count = sum(p.numel() for p in make().parameters())
        assert count == PHONE_PARAMETERS[name], f"{name}: {count} parameters, smlmkit has {PHONE_PARAMETERS[name]}"
        f = preset_flops(name, size, size, r)[0]
        print(f"{name} r={r}: {count} parameters (ok), {f * 1e-9:.3f} GFLOP per {size}x{size} frame")
        for fmt_name, fmt in (("contiguous", torch.contiguous_format), ("channels_last", torch.channels_last)):
            torch.manual_seed(0)
            net = make().to(memory_format=fmt)
            net.eval()
            x = torch.randn(1, 1, size, size).to(memory_format=fmt)
            with torch.no_grad():
                assert net(x).shape == (1, 1, size * r, size * r)
                t = timeit(lambda: net(x), args.repeats)
            report_rate(f"{name} {fmt_name} inference 1x1x{size}x{size}", t, f, 1, "frames/s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--which", choices=("all", "deep_storm", "presets", "phone"), default="all")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    r = torch.arange(7, dtype=torch.float32) - 3
    g = torch.exp(-(r**2) / 2)
    kernel = g[:, None] * g[None, :]
    kernel = (2 * kernel / kernel.sum()).reshape(1, 1, 7, 7)
    if args.which in ("all", "presets"):
        presets(args, kernel)
    if args.which in ("all", "phone"):
        phone(args)
    if args.which not in ("all", "deep_storm"):
        return
    for fmt_name, fmt in (("contiguous", torch.contiguous_format), ("channels_last", torch.channels_last)):
        torch.manual_seed(0)
        net = deep_storm().to(memory_format=fmt)
        k = kernel.to(memory_format=fmt)

        net.eval()
        x = torch.full((1, 1, 512, 512), 0.5).to(memory_format=fmt)
        with torch.no_grad():
            t = timeit(lambda: net(x), args.repeats)
        report(f"{fmt_name} forward 1x1x512x512", t, flops(512, 512)[0])

        x16 = torch.full((16, 1, 128, 128), 0.5).to(memory_format=fmt)
        with torch.no_grad():
            t = timeit(lambda: net(x16), args.repeats)
        report(f"{fmt_name} forward 16x1x128x128", t, flops(128, 128)[0] * 16)

        net.train()
        xt = torch.rand(16, 1, 128, 128).to(memory_format=fmt)
        target = (torch.rand(16, 1, 128, 128) < 0.01).float().to(memory_format=fmt)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            y = net(xt)
            loss = F.mse_loss(F.conv2d(y, k, padding=3), target) + y.abs().mean()
            loss.backward()
            opt.step()

        t = timeit(step, args.repeats)
        fw, bw = flops(128, 128)
        report(f"{fmt_name} train step 16x1x128x128", t, (fw + bw) * 16)


if __name__ == "__main__":
    main()
