"""The rule registry describes itself: `fiscalwatch rules` lists every rule with the parameters it reads, and
the README's rule table is the same list."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from fiscalwatch.settings import RuleParams
from fiscalwatch.validators import every_rule

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def test_readme_lists_every_rule_as_registered():
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| (\w+) \| (.+?) \| (.*?) ?\|$", README.read_text(encoding="utf-8"),
                      re.M)
    assert rows == [(r.id, r.category, r.severity, r.title, ", ".join(f"`rules.{p}`" for p in r.params))
                    for r in every_rule()]


def test_every_rule_parameter_is_read_by_a_rule_and_described():
    read = {name for r in every_rule() for name in r.params}
    assert read == set(RuleParams.model_fields)
    assert all(field.description for field in RuleParams.model_fields.values())


def test_rules_command_lists_the_registry_with_configured_parameters(tmp_path):
    config = tmp_path / "fiscalwatch.yaml"
    config.write_text(yaml.safe_dump({"rules": {"low_completion_threshold": 12.5}}), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "fiscalwatch.cli", "rules", "--json", "--config", str(config)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    listed = json.loads(run.stdout)
    assert [r["id"] for r in listed] == [r.id for r in every_rule()]
    assert {r["id"]: r["params"] for r in listed if r["params"]} == {
        "C-NARRATIVE": {"low_completion_threshold": "12.5"}, "C-EVALUATION": {"low_completion_threshold": "12.5"}}
    text = subprocess.run([sys.executable, "-m", "fiscalwatch.cli", "rules", "--config", str(config)], cwd=REPO,
                          capture_output=True, text=True, timeout=120).stdout
    assert text.startswith(f"规则共{len(listed)}条") and "C-EVALUATION〔执行率低，警告〕" in text
    assert "参数 rules.low_completion_threshold = 12.5（完成率、执行率低于此百分比时提示）" in text
