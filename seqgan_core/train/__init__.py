"""Training: step functions (steps.py) and the Algorithm 1 loop (loop.py)."""
from .loop import Control, Position, Sink, Trainer

__all__ = ["Control", "Position", "Sink", "Trainer"]
