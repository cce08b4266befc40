"""The instructor's reference implementation of the convolutional-networks assignment."""
