"""Reference implementations of the deep-learning-frameworks assignments (PyTorch and TensorFlow 2 / Keras)."""
