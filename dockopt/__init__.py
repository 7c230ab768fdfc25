"""dockopt: rewrites Dockerfiles for smaller images and faster rebuilds, and proves each rewrite
by building it."""
from .syntax import Dockerfile, Instruction, ParseError, parse

__version__ = "0.1.0"
__all__ = ["Dockerfile", "Instruction", "ParseError", "__version__", "parse"]
