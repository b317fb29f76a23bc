#!/usr/bin/env python3
"""PyTorch peer of bench_nn's Deep-STORM cases: same network, same shapes, 2 threads.

    /usr/bin/python3 benchmarks/torch_compare.py [--repeats 5]

Prints wall ms and process CPU ms (medians of the repeats after two warm-up runs) and GFLOP/s (convolution FLOPs, counted
exactly as bench_nn counts them) for both memory layouts; channels_last is the faster one with
Debian's oneDNN build. Batch norm is in eval mode for the forward cases, training mode for the
training step (forward, Deep-STORM loss, backward, Adam).
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def deep_storm():
    up = lambda: nn.Upsample(scale_factor=2, mode="nearest")
    layers = (block(1, 32) + [nn.MaxPool2d(2)] + block(32, 64) + [nn.MaxPool2d(2)] + block(64, 128)
              + [nn.MaxPool2d(2)] + block(128, 512) + [up()] + block(512, 128) + [up()] + block(128, 64)
              + [up()] + block(64, 32) + [nn.Conv2d(32, 1, 1, bias=False)])
    return nn.Sequential(*layers)


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
    print(f"{label:40s} {wall * 1e3:8.1f} ms  {f / wall * 1e-9:6.1f} GFLOP/s   cpu {cpu * 1e3:8.1f} ms  "
          f"{f / cpu * 1e-9:6.1f} GFLOP per CPU-s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    r = torch.arange(7, dtype=torch.float32) - 3
    g = torch.exp(-(r**2) / 2)
    kernel = g[:, None] * g[None, :]
    kernel = (2 * kernel / kernel.sum()).reshape(1, 1, 7, 7)
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
