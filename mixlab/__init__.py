"""mixlab: theory and verification of decentralized and asynchronous model averaging."""

from __future__ import annotations

__version__ = "0.1.0"
