"""fiscalwatch: monitor budget and final-account disclosures."""

__version__ = "0.1.0"
