"""``numnet train`` (placeholder until written)."""
NAME = "train"
HELP = "train a network on a built-in data set or a CSV/NPZ file"


def add_arguments(parser):
    pass


def run(args):
    return 0
