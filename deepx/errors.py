"""deepx's exception types: each names the op (or file) and the shapes involved."""


class DeepxError(RuntimeError):
    """Base class of every error deepx raises on purpose."""


class ShapeError(DeepxError, ValueError):
    """Shapes of an op's inputs do not fit together."""


class DTypeError(DeepxError, TypeError):
    """An op got a dtype it does not accept."""


class DeviceError(DeepxError):
    """Tensors on different devices met in one op, or a device is unknown."""


class OpenCLError(DeepxError):
    """An OpenCL build or launch failed; carries kernel name, sizes and the error code."""


class GradcheckError(DeepxError):
    """Analytical and numerical gradients disagree."""


class CheckpointError(DeepxError):
    """A checkpoint file is missing, malformed or does not match the model."""


class DatasetError(DeepxError):
    """A dataset file is missing, truncated or malformed."""
