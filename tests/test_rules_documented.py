"""The README's rule table is the rule registry: the same ids, categories, severities and titles."""

from __future__ import annotations

import re
from pathlib import Path

from fiscalwatch.validators import RULES
from fiscalwatch.validators.cross_documents import ARCHIVE_RULES
from fiscalwatch.validators.reliability import GATE

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_lists_every_rule_as_registered():
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| (.+?) \|$", README.read_text(encoding="utf-8"), re.M)
    assert rows == [(r.id, r.category, r.severity, r.title) for r in [*RULES, GATE, *ARCHIVE_RULES]]
