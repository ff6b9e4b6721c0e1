"""Publication compliance: who must publish what by when, which documents answer for it, and how each stands."""

from fiscalwatch.compliance.matching import assign_document, find_entity, match_documents
from fiscalwatch.compliance.refresh import RefreshSummary, refresh_compliance
from fiscalwatch.compliance.registry_io import (ImportResult, RegistryError, apply_registry, import_registry,
                                                read_registry)

__all__ = [
    "ImportResult", "RefreshSummary", "RegistryError", "apply_registry",
    "assign_document", "find_entity", "import_registry", "match_documents", "read_registry", "refresh_compliance",
]
