"""localchat: a terminal chat assistant that sets itself up for the machine it runs on."""

__version__ = "0.1.0"
