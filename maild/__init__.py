"""maild: a mail-processing daemon for e-commerce platform notices."""

__version__ = "0.1.0"
