"""Case modules of the convnets assignment, one per graded item (see ``autograder.cases``)."""
