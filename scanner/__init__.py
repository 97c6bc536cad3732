"""aiscan: license and supply-chain compliance scanner for AI models."""

__version__ = "0.1.0"
