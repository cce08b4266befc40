"""Case modules of the PyTorch assignment: one per graded item (see ``autograder.cases``). Expected values come
from ``reference_impl.frameworks.numpy_net`` (the kit's own NumPy layers), never from PyTorch: the parent
process never imports torch."""
