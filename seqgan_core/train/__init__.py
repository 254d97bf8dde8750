"""Training: step functions (steps.py), the Algorithm 1 loop (loop.py), control (control.py), timing and
snapshots (report.py), checkpoint files (checkpoint.py)."""
from .control import Control, Sink
from .loop import Position, Trainer

__all__ = ["Control", "Position", "Sink", "Trainer"]
