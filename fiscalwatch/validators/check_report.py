"""The Chinese report of `fiscalwatch check`: each file's status, what was read, and its findings by severity."""

from __future__ import annotations

from collections import Counter

from fiscalwatch.labels import KIND, SEVERITY, STATUS
from fiscalwatch.validators.checker import CheckResult

INFO_SHOWN = 8


def render(result: CheckResult) -> str:
    if result.members:
        primary = f"，主要文件：{result.member}" if result.member else ""
        head = [f"== {result.file}", f"  压缩包，共{len(result.members)}个文件{primary}"]
        return "\n".join(head + [render(member) for member in result.members])
    lines = [f"== {result.file}" + (f" » {result.member}" if result.member else "")]
    return "\n".join(lines + _body(result))


def render_publication(result: CheckResult) -> str:
    """Files judged as one publication: each file's status, then the publication's findings."""
    lines = [f"== 发布内容，共{len(result.members)}个文件"]
    for member in result.members:
        name = f"{member.file} » {member.member}" if member.member else member.file
        lines.append(f"  - {name}：{_member_status(member)}")
    return "\n".join(lines + _body(result))


def _member_status(member: CheckResult) -> str:
    if member.status == "failed":
        return f"无法读取：{member.error}（{member.error_code}）"
    if member.status == "not_a_disclosure":
        return f"非预决算文件：{member.not_disclosure}"
    return f"共{member.document.page_count}页，识别表格{len(member.document.tables)}张"


def _body(result: CheckResult) -> list[str]:
    if result.status == "failed":
        return [f"  无法读取：{result.error}（{result.error_code}）"]
    if result.status == "not_a_disclosure":
        return [f"  非预决算文件：{result.not_disclosure}（不作核查）"]
    doc = result.document
    title = " ".join(str(x) for x in (doc.entity or "（未识别主体）", f"{doc.year}年度" if doc.year else "",
                                      f"{doc.level or ''}{KIND.get(doc.kind, '')}", doc.scope or "") if x)
    lines = [f"  {title}；共{doc.page_count}页，识别表格{len(doc.tables)}张"]
    if doc.ocr_pages:
        mean = sum(doc.ocr_pages.values()) / len(doc.ocr_pages)
        lines.append(f"  其中{len(doc.ocr_pages)}页为扫描件，经文字识别（平均置信度{mean:.0%}），相关结论请人工复核")
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in SEVERITY}
    lines.append("  结果：" + "，".join(f"{SEVERITY[s]}{n}项" for s, n in counts.items()))
    for severity, label in SEVERITY.items():
        found = [f for f in result.findings if f.severity == severity]
        if not found:
            continue
        lines.append(f"  【{label}】")
        shown = found if severity != "info" else found[:INFO_SHOWN]
        for finding in shown:
            where = f"第{finding.page}页 " if finding.page else ""
            lines.append(f"    - {where}{finding.message}〔{finding.rule}〕")
        if len(found) > len(shown):
            lines.append(f"    …另有{len(found) - len(shown)}条提示（--json 可查看全部）")
    if result.skipped:
        lines.append("  【未能执行的检查】")
        for skipped in result.skipped:
            lines.append(f"    - {skipped['title']}：{skipped['reason']}〔{skipped['rule']}〕")
    return lines


def summary(results: list[CheckResult]) -> str:
    """The last line of a text report: how many files were checked, not disclosures, or unreadable."""
    counted = Counter(r.status for r in results)
    parts = "，".join(f"{STATUS.get(status, status)}{counted[status]}个" for status in
                     [*STATUS, *sorted(set(counted) - set(STATUS))] if counted[status])
    return f"共核查{len(results)}份：{parts}"
