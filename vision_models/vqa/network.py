"""The VQA network: MEVF-style image encoder, GRU question encoder, BAN and SAN fused MILQT-style.

* Image: a small convolutional branch and the encoder of a convolutional denoising auto-encoder
  (pretrained on unlabelled medical images), concatenated into a grid of region features with a
  learned position embedding. The auto-encoder's decoder stays in the network so fine-tuning can
  add its reconstruction loss.
* Question: learned word embeddings and a GRU (token states and the state at the last token).
* Fusion: bilinear attention (BAN, several glimpses) and stacked attention (SAN); each produces
  answer logits. A question-type head gives q(t); learnable weights ``w[type, mechanism]`` mix the
  mechanisms' answer distributions with weights ``softmax(Σ_t q(t) w[t])``. A second small head
  predicts the answer type (CLOSED/OPEN).
* Optionally a case memory (:mod:`vision_models.vqa.memory`) of training questions, stored with the weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional as F

from vision_models.networks import register_architecture
from vision_models.vqa.memory import CaseMemory

ARCHITECTURE = "mevf-ban-san-milqt"  # the name VQA bundles record
MECHANISMS = ("ban", "san")


@dataclass
class NetConfig:
    """Factory parameters of :class:`VQANet` (stored in the bundle config's ``params``)."""

    vocab_size: int
    n_answers: int
    n_types: int = 11
    image_size: int = 96
    conv_channels: tuple[int, ...] = (16, 32, 64, 64)
    dae_channels: tuple[int, ...] = (16, 32, 64)
    grid: int = 6
    embed_dim: int = 128
    hidden: int = 192
    fusion_dim: int = 192
    ban_glimpses: int = 2
    san_layers: int = 2
    dropout: float = 0.3
    mechanisms: tuple[str, ...] = field(default_factory=lambda: MECHANISMS)
    memory: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetConfig:
        fields = dict(data)
        for key in ("conv_channels", "dae_channels", "mechanisms"):
            if key in fields:
                fields[key] = tuple(fields[key])
        return cls(**fields)


def _conv(cin: int, cout: int, stride: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ConvBranch(nn.Module):
    """Small CNN: stride-2 convolutions down to 1/8 of the input, then one more 3×3 layer."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        layers, cin = [], 1
        for i, cout in enumerate(channels):
            layers.append(_conv(cin, cout, stride=2 if i < 3 else 1))
            cin = cout
        self.body = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class DenoisingAutoEncoder(nn.Module):
    """Convolutional auto-encoder: three stride-2 convolutions and three transposed ones."""

    def __init__(self, channels: tuple[int, ...]) -> None:
        super().__init__()
        enc, cin = [], 1
        for cout in channels:
            enc.append(_conv(cin, cout, stride=2, norm=False))
            cin = cout
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        for cout in list(reversed(channels))[1:] + [1]:
            dec.append(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1))
            dec.append(nn.ReLU(inplace=True) if cout != 1 else nn.Sigmoid())
            cin = cout
        self.decoder = nn.Sequential(*dec)
        self.out_channels = channels[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        code = self.encoder(x)
        return code, self.decoder(code)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code alone (no reconstruction), for inference."""
        return self.encoder(x)


class ImageEncoder(nn.Module):
    """Both branches on a grayscale image -> (B, grid², D) region features and the reconstruction."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.conv = ConvBranch(cfg.conv_channels)
        self.dae = DenoisingAutoEncoder(cfg.dae_channels)
        self.grid = cfg.grid
        self.dim = self.conv.out_channels + self.dae.out_channels
        self.position = nn.Parameter(torch.zeros(1, cfg.grid * cfg.grid, self.dim))

    def forward(self, images: torch.Tensor, reconstruct: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        code, recon = self.dae(images) if reconstruct else (self.dae.encode(images), None)
        feats = torch.cat([self.conv(images), code], dim=1)
        feats = F.adaptive_avg_pool2d(feats, self.grid)
        regions = feats.flatten(2).transpose(1, 2) + self.position
        return regions, recon


class QuestionEncoder(nn.Module):
    """Word embeddings + GRU: token states (B, T, H) and the last valid token's state (B, H)."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim, padding_idx=0)
        self.gru = nn.GRU(cfg.embed_dim, cfg.hidden, batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states, _ = self.gru(self.drop(self.embed(tokens)))
        last = states[torch.arange(tokens.shape[0]), lengths - 1]
        return states, last


def _classifier(dim_in: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim_in, dim_in * 2), nn.ReLU(inplace=True), nn.Dropout(dropout),
                         nn.Linear(dim_in * 2, n_out))


class BilinearAttentionNet(nn.Module):
    """BAN: low-rank bilinear attention over (region, token) pairs, one residual update per glimpse."""

    def __init__(self, v_dim: int, q_dim: int, cfg: NetConfig) -> None:
        super().__init__()
        h, g = cfg.fusion_dim, cfg.ban_glimpses
        self.v_att, self.q_att = nn.Linear(v_dim, h), nn.Linear(q_dim, h)
        self.h_mat = nn.Parameter(torch.randn(g, h) * h ** -0.5)
        self.h_bias = nn.Parameter(torch.zeros(g))
        self.v_nets = nn.ModuleList(nn.Linear(v_dim, h) for _ in range(g))
        self.q_nets = nn.ModuleList(nn.Linear(q_dim, h) for _ in range(g))
        self.q_proj = nn.ModuleList(nn.Linear(h, q_dim) for _ in range(g))
        self.drop = nn.Dropout(cfg.dropout)
        self.classifier = _classifier(q_dim, cfg.n_answers, cfg.dropout)

    def forward(self, v: torch.Tensor, index: torch.Tensor, q: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``v`` (N, R, Dv) per image, ``index`` (B,) image of each question, ``q`` (B, T, Dq) token states."""
        va, qa = F.relu(self.v_att(v))[index], F.relu(self.q_att(q))
        logits = torch.matmul(va[:, None] * self.h_mat[None, :, None, :], qa[:, None].transpose(2, 3))
        logits = logits + self.h_bias[None, :, None, None]
        logits = logits.masked_fill(~mask[:, None, None, :], float("-inf"))
        b, g, r, t = logits.shape
        att = torch.softmax(logits.reshape(b, g, r * t), dim=-1).reshape(b, g, r, t)
        for i in range(g):
            vg, qg = F.relu(self.v_nets[i](v))[index], F.relu(self.q_nets[i](q))
            joint = (vg * torch.bmm(att[:, i], qg)).sum(1)
            q = q + self.q_proj[i](self.drop(joint))[:, None, :]
        pooled = (q * mask[..., None]).sum(1)
        return self.classifier(pooled)


class StackedAttentionNet(nn.Module):
    """SAN: the question vector queries the regions in several stacked attention layers."""

    def __init__(self, v_dim: int, q_dim: int, cfg: NetConfig) -> None:
        super().__init__()
        k = cfg.fusion_dim
        self.v_in = nn.Linear(v_dim, q_dim)
        self.layers = nn.ModuleList(
            nn.ModuleDict({"v": nn.Linear(q_dim, k), "u": nn.Linear(q_dim, k), "p": nn.Linear(k, 1)})
            for _ in range(cfg.san_layers)
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.classifier = _classifier(q_dim, cfg.n_answers, cfg.dropout)

    def forward(self, v: torch.Tensor, index: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``v`` (N, R, Dv) per image, ``index`` (B,) image of each question, ``u`` (B, Dq) question vector."""
        vp = torch.tanh(self.v_in(v))
        layers = [cast(nn.ModuleDict, layer) for layer in self.layers]
        keys = [layer["v"](vp)[index] for layer in layers]
        vp = vp[index]
        for layer, key in zip(layers, keys):
            h = torch.tanh(key + layer["u"](u)[:, None, :])
            p = torch.softmax(layer["p"](self.drop(h)).squeeze(-1), dim=-1)
            u = u + (p[..., None] * vp).sum(1)
        return self.classifier(u)


class VQANet(nn.Module):
    """The full network; :meth:`forward` returns a dict of logits and the reconstruction."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.image = ImageEncoder(cfg)
        self.question = QuestionEncoder(cfg)
        v_dim, q_dim = self.image.dim, cfg.hidden
        heads: dict[str, nn.Module] = {}
        for name in cfg.mechanisms:
            if name == "ban":
                heads[name] = BilinearAttentionNet(v_dim, q_dim, cfg)
            elif name == "san":
                heads[name] = StackedAttentionNet(v_dim, q_dim, cfg)
            else:
                raise ValueError(f"Unknown attention mechanism {name!r}")
        self.heads = nn.ModuleDict(heads)
        self.type_head = nn.Sequential(nn.Linear(q_dim, q_dim), nn.ReLU(inplace=True), nn.Linear(q_dim, cfg.n_types))
        self.answer_type_head = nn.Linear(q_dim, 2)
        self.mix = nn.Parameter(torch.zeros(cfg.n_types, len(cfg.mechanisms)))
        self.memory = CaseMemory() if cfg.memory else None

    def encode_images(
        self, images: torch.Tensor, reconstruct: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Region features and (unless ``reconstruct`` is false) reconstructions of (N, 1, S, S) images in [0, 1]."""
        return self.image(images * 2.0 - 1.0, reconstruct)

    def forward(
        self, regions: torch.Tensor, index: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Answer logits per mechanism (B, M, A), type logits (B, T) and answer-type logits (B, 2).

        ``regions`` is (N, R, D) per image and ``index`` (B,) the image of each question.
        """
        states, last = self.question(tokens, lengths)
        mask = torch.arange(tokens.shape[1], device=tokens.device)[None, :] < lengths[:, None]
        outputs = []
        for name, head in self.heads.items():
            outputs.append(head(regions, index, states, mask) if name == "ban" else head(regions, index, last))
        return {
            "answer_logits": torch.stack(outputs, dim=1),
            "type_logits": self.type_head(last),
            "answer_type_logits": self.answer_type_head(last),
        }

    def mixed_log_probs(self, answer_logits: torch.Tensor, q: torch.Tensor, only: int | None = None) -> torch.Tensor:
        """log Σ_m α_m softmax(logits_m) with α = softmax(q @ w); ``only`` selects one mechanism."""
        log_probs = torch.log_softmax(answer_logits, dim=-1)
        if only is not None:
            return log_probs[:, only]
        alpha = torch.log_softmax(q @ self.mix, dim=-1)
        return torch.logsumexp(log_probs + alpha[..., None], dim=1)


@register_architecture(ARCHITECTURE)
def build_vqa_net(params: dict[str, Any]) -> VQANet:
    """Bundle factory: the VQA network whose :class:`NetConfig` is ``params``."""
    return VQANet(NetConfig.from_dict(params))
