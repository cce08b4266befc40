"""Case modules of the TensorFlow assignment (one per graded item)."""
