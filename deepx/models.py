"""Small reference models built from deepx.nn: an MLP, LeNet-5 and a small ResNet for 28x28 inputs.

Module and parameter names follow torchvision where a counterpart exists (conv1, bn1, layer1,
downsample, fc), so state dicts line up with PyTorch ports.
"""
from __future__ import annotations

from typing import Callable, Sequence

from . import nn
from ._tensor import Tensor

__all__ = ["mlp", "LeNet", "lenet", "BasicBlock", "ResNet", "resnet_small"]


def mlp(sizes: Sequence[int], activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers sizes[0] -> sizes[1] -> ... with activation() between them (none after
    the last). (N, sizes[0]) -> (N, sizes[-1])."""
    if len(sizes) < 2:
        raise ValueError(f"mlp: need at least an input and an output size, got {list(sizes)}")
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class LeNet(nn.Module):
    """LeNet-5 for (N, 1, 28, 28): conv 6@5x5 pad 2, pool, conv 16@5x5, pool, fc 120, 84,
    num_classes; ReLU and max pooling. (N, 1, 28, 28) -> (N, num_classes) logits."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 6x14x14
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),           # 16x5x5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def lenet(num_classes: int = 10) -> LeNet:
    """LeNet-5 for 1x28x28 inputs (61,706 parameters with 10 classes)."""
    return LeNet(num_classes)


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    The shortcut is `downsample` (e.g. 1x1 conv + BatchNorm2d when stride or width changes)
    or the identity. (N, inplanes, H, W) -> (N, planes, H / stride, W / stride).
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A three-stage ResNet of BasicBlocks: 3x3 stem, layer1..layer3, global average pool, fc.

    layer2 and layer3 halve the resolution. (N, in_channels, H, W) -> (N, num_classes).
    """

    def __init__(self, blocks: Sequence[int] = (1, 1, 1), widths: Sequence[int] = (16, 32, 64),
                 num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, widths[0])
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU()
        self.layer1 = self._make_stage(widths[0], widths[0], blocks[0], stride=1)
        self.layer2 = self._make_stage(widths[0], widths[1], blocks[1], stride=2)
        self.layer3 = self._make_stage(widths[1], widths[2], blocks[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[2], num_classes)

    @staticmethod
    def _make_stage(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        stage = [BasicBlock(inplanes, planes, stride, downsample)]
        stage += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
        return nn.Sequential(*stage)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))


def resnet_small(num_classes: int = 10, in_channels: int = 1) -> ResNet:
    """A 3-stage ResNet (16, 32, 64 channels, one BasicBlock each) for 28x28 inputs."""
    return ResNet((1, 1, 1), (16, 32, 64), num_classes, in_channels)
