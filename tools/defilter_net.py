"""The de-filter network (docs/method.md section 1, FIG. 2), in PyTorch: template -> guessed original.

Encoder units a/b/c with instance norm (unit c with its residual connection), a decoder of two units with
nearest-neighbour 2x up-sampling, input pre-processed to a preset size. Two changes (docs/decisions.md,
'de-filter architecture'):
- instance norm removes the global brightness, contrast and colour cast a de-filter needs, so global colour
  statistics of the template condition the bottleneck (FiLM: per-channel scale and bias from a small MLP);
- the output is a bounded residual over the template whose last layer starts at zero, so an untrained or unsure
  network returns the template itself ("do nothing"), never an invented cast.
"""

from __future__ import annotations

from _train_extra import require

require("torch")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
N_STATS = 3 * 2 + 3 * 7 + 3 * 3 + 2  # means, stds, 7 quantiles, covariance (6) + 3 means of chroma, sat stats


def colour_stats(x: torch.Tensor) -> torch.Tensor:
    """Global colour statistics of RGB images (B, 3, H, W) in [0, 1] -> (B, N_STATS)."""
    b = x.shape[0]
    flat = x.reshape(b, 3, -1)
    mean = flat.mean(-1)
    std = flat.std(-1)
    # quantiles by sorting (torch.quantile does not export to ONNX): the value at floor(q * (n - 1))
    srt = flat.sort(-1).values
    n = flat.shape[-1]
    idx = (torch.tensor(QUANTILES, device=x.device) * (n - 1)).long()
    q = srt.index_select(-1, idx).reshape(b, -1)
    c = flat - mean[..., None]
    cov = torch.einsum("bin,bjn->bij", c, c) / flat.shape[-1]
    iu = torch.triu_indices(3, 3)
    covv = cov[:, iu[0], iu[1]] * 10
    grey = flat.mean(1, keepdim=True)
    chroma = (flat - grey).abs().mean(-1)  # per channel distance from grey
    sat = flat.max(1).values - flat.min(1).values
    return torch.cat([mean, std, q, covv, chroma, sat.mean(-1, keepdim=True), sat.std(-1, keepdim=True)], 1)


def conv(ci, co, k=3):
    return nn.Conv2d(ci, co, k, padding=k // 2)


class DefilterNet(nn.Module):
    def __init__(self, width: int = 32, size: int = 128):
        super().__init__()
        c, c2 = width, 2 * width
        self.size = size
        n = lambda ch: nn.InstanceNorm2d(ch, affine=True)  # noqa: E731
        self.enc_a = nn.Sequential(conv(3, c, 7), n(c), nn.ReLU(True), conv(c, c), n(c), nn.ReLU(True),
                                   nn.MaxPool2d(2))
        self.enc_b = nn.Sequential(conv(c, c2), n(c2), nn.ReLU(True), conv(c2, c2), n(c2), nn.ReLU(True),
                                   nn.MaxPool2d(2))
        self.enc_c = nn.Sequential(conv(c2, c2), n(c2), nn.ReLU(True), conv(c2, c2), n(c2), nn.ReLU(True),
                                   conv(c2, c2), n(c2))
        self.film = nn.Sequential(nn.Linear(N_STATS, 128), nn.ReLU(True), nn.Linear(128, 2 * c2))
        self.dec_a = nn.Sequential(conv(c2, c), nn.ReLU(True), conv(c, c), nn.ReLU(True))
        self.dec_b = nn.Sequential(conv(c, c), nn.ReLU(True), conv(c, c), nn.ReLU(True), conv(c, c), nn.ReLU(True))
        self.out = conv(c, 3)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        nn.init.zeros_(self.film[-1].weight)
        nn.init.zeros_(self.film[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, S, S) RGB in [0, 1] at the preset size -> guessed original, same shape."""
        a = self.enc_a(x)
        b = self.enc_b(a)
        h = F.relu(b + self.enc_c(b))  # unit c's residual connection
        gamma, beta = self.film(colour_stats(x)).chunk(2, dim=1)
        h = h * (1 + gamma[..., None, None]) + beta[..., None, None]
        h = self.dec_a(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.dec_b(F.interpolate(h, scale_factor=2, mode="nearest"))
        return (x + 0.5 * torch.tanh(self.out(h))).clamp(0, 1)


def person_stats(x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Colour statistics of the person region: (B, 3, H, W) RGB, (B, 1, H, W) soft mask -> (B, 7): the mask's share,
    the person's mean colour and the background's, each relative to the whole image's (a skin cue, not the scene's)."""
    share = m.mean((2, 3))
    w = m / (m.sum((2, 3), keepdim=True) + 1e-3)
    wb = (1 - m) / ((1 - m).sum((2, 3), keepdim=True) + 1e-3)
    mean = x.mean((2, 3))
    return torch.cat([share, (x * w).sum((2, 3)) - mean, (x * wb).sum((2, 3)) - mean], 1)


class SegDefilterNet(DefilterNet):
    """The FIG. 3 network: the FIG. 2 network with the soft person mask concatenated to the input, same-scale skips
    in the decoder (the first encoder unit's features into the first decoder unit, the input and mask into the
    second) and the person's colour statistics in the conditioning. Every added weight starts at zero, so a
    network initialised from a FIG. 2 checkpoint returns exactly that checkpoint's guess until it is trained."""

    def __init__(self, width: int = 32, size: int = 128):
        super().__init__(width, size)
        c = width
        self.mask_in = conv(1, c, 7)  # the mask's part of the first convolution
        self.skip_a = conv(c, c)  # enc_a's features -> dec_a's first convolution
        self.skip_b = conv(4, c)  # input + mask -> dec_b's first convolution
        self.film_person = nn.Linear(7, 128)
        for m in (self.mask_in, self.skip_a, self.skip_b, self.film_person):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def load_fig2(self, state: dict) -> None:
        missing, unexpected = self.load_state_dict(state, strict=False)
        assert not unexpected and all(k.split(".")[0] in ("mask_in", "skip_a", "skip_b", "film_person")
                                      for k in missing), (missing, unexpected)

    def forward(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """x: (B, 3, S, S) RGB in [0, 1]; m: (B, 1, S, S) soft person mask in [0, 1] -> guessed original."""
        a = self.enc_a[0](x) + self.mask_in(m)
        for layer in list(self.enc_a)[1:-1]:
            a = layer(a)
        pooled = self.enc_a[-1](a)
        b = self.enc_b(pooled)
        h = F.relu(b + self.enc_c(b))
        f = self.film[0](colour_stats(x)) + self.film_person(person_stats(x, m))
        gamma, beta = self.film[2](self.film[1](f)).chunk(2, dim=1)
        h = h * (1 + gamma[..., None, None]) + beta[..., None, None]
        u = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.dec_a[0](u) + self.skip_a(pooled)
        h = self.dec_a[2](self.dec_a[1](h))
        h = self.dec_a[3](h)
        u = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.dec_b[0](u) + self.skip_b(torch.cat([x, m], 1))
        for layer in list(self.dec_b)[1:]:
            h = layer(h)
        return (x + 0.5 * torch.tanh(self.out(h))).clamp(0, 1)
