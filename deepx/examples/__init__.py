"""Runnable examples: `python -m deepx.examples.NAME [--quick] [--out DIR] [--device DEV]`.

    moons      two moons, an MLP with the multi-class hinge loss + L2, decision boundary
    spiral     3-class spiral, softmax classifier with 100 hidden ReLUs, decision boundary
    polyfit    a cubic's 4 coefficients from 20 noisy points by gradient descent
    schedules  step, cosine, cyclical and one-cycle learning-rate policies side by side
    init       activation statistics through a 50-layer MLP: normal vs Xavier vs Kaiming
    train      the main demo: a small CNN on the 8x8 digits (or MNIST), progress bars,
               checkpoint and training curve

Each has `main(argv=None)` returning its headline numbers and the PNG path; nothing runs at
import.
"""
