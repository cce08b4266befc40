"""Where TensorFlow should run: the first GPU when one is visible, otherwise the CPU."""
import tensorflow as tf

GPU_DEVICE = "/device:GPU:0"
CPU_DEVICE = "/cpu:0"


def choose_device(gpus=None):
    """Name of the device to place the computation on, for ``with tf.device(...)``.

    Inputs: gpus, a sequence of physical GPU devices; None asks TensorFlow
    (``tf.config.list_physical_devices("GPU")``), which is an empty list on a machine without a GPU.
    Returns: "/device:GPU:0" if the sequence is non-empty, else "/cpu:0".
    """
    if gpus is None:
        gpus = tf.config.list_physical_devices("GPU")
    return GPU_DEVICE if len(gpus) > 0 else CPU_DEVICE
