"""Run every rule on a parsed document."""

from __future__ import annotations

from dataclasses import dataclass, field

from fiscalwatch.labels import SEVERITIES
from fiscalwatch.parsers.model import Document
from fiscalwatch.settings import RuleParams
from fiscalwatch.validators import (  # noqa: F401  (importing registers the rules)
    completeness_rules,
    completion_rules,
    cross_rules,
    document_rules,
    narrative_rules,
    statement_rules,
    table_rules,
)
from fiscalwatch.validators.completeness_rules import PUBLICATION_RULES
from fiscalwatch.validators.core import RULES, Context, Finding, Rule
from fiscalwatch.validators.cross_documents import ARCHIVE_RULES
from fiscalwatch.validators.reliability import GATE, gate

_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def every_rule() -> list[Rule]:
    """Every rule fiscalwatch runs: on each document, the reliability gate over them, and against the archive."""
    return [*RULES, GATE, *ARCHIVE_RULES]


@dataclass
class Validation:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def validate(doc: Document, params: RuleParams | None = None, scope: str = "file") -> Validation:
    """Run the rules on one document. `scope`: "file" runs every rule; in a publication of several
    files, "member" runs all but the completeness rules, which run once on the "publication"."""
    ctx = Context(doc, params or RuleParams())
    findings: list[Finding] = []
    for rule in RULES:
        if scope == "member" and rule.id in PUBLICATION_RULES or scope == "publication" and (
                rule.id not in PUBLICATION_RULES):
            continue
        ctx.current = rule
        findings.extend(rule.check(ctx) or ())
        findings.extend(ctx.flush_tails())
    findings = gate(ctx, findings)
    for finding in findings:
        # Conclusions drawn from OCR text carry how sure the recognition was, so people can weigh them.
        confidence = doc.ocr_pages.get(finding.page) if finding.page else None
        if confidence is not None:
            finding.evidence["ocr_confidence"] = confidence
    findings.sort(key=lambda f: (_ORDER[f.severity], f.page or 0))
    return Validation(findings, ctx.skipped)
