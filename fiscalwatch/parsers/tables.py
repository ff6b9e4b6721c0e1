"""Raw table parts (ruled grids or borderless text lines) → a normalised Table.

Rows are keyed by code and name, values by column meaning; side-by-side blocks
(收入 | 支出, the three 经济分类 blocks of the 基本支出 table) become sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fiscalwatch.parsers import columns as col
from fiscalwatch.parsers import text_tables
from fiscalwatch.parsers.layout import Grid, TextLine
from fiscalwatch.parsers.model import Column, Figure, Row, Table
from fiscalwatch.parsers.numbers import ENUMERATION, irregular_grouping, is_amount_text, parse_amount

CODE = re.compile(r"^\d{3}(\d{2}){0,2}$")
_SMALL_INT = re.compile(r"^\d{1,3}$")
# Text made of digits and separators that still is not one number: neighbouring cells glued together.
_NUMERIC_LOOKING = re.compile(r"^[-−]?[\d,.]*\d[\d,.]*$")
TWO_SIDED = {"summary", "fiscal_summary"}


@dataclass
class Part:
    """A piece of one table: a grid, or borderless text lines, on one page."""

    page: int
    grid: Grid | None = None
    lines: list[TextLine] = field(default_factory=list)


def squash(text: str | None) -> str:
    return col.squash(text or "")


def normalise_name(text: str | None) -> str:
    name = squash(text).replace("（", "(").replace("）", ")")
    for _ in range(2):
        name = ENUMERATION.sub("", name)
    return name.replace("(", "（").replace(")", "）")


_COLUMN_NUMBERS_LABEL = re.compile("(?:栏次)+")
_NUMBERING_MARKS = {"栏次", "行次", "*", "**", "***", "甲", "乙", "丙", "丁", "—", "-"}


def is_column_number_row(cells: list[str]) -> bool:
    """栏次 / 行次 rows: '栏次', or the columns numbered 1 2 3 … (possibly after ** or 甲 乙 marks)."""
    texts = [squash(c) for c in cells if squash(c)]
    if any(_COLUMN_NUMBERS_LABEL.fullmatch(t) for t in texts):  # '栏次栏次': both sides' labels in one OCR box
        return True
    numbers = [t for t in texts if t not in _NUMBERING_MARKS]
    marked = len(numbers) < len(texts)
    if len(numbers) < (1 if marked else 2) or not all(t.isdigit() for t in numbers):
        return False
    values = [int(t) for t in numbers]
    return values == list(range(values[0], values[0] + len(values))) and values[0] <= 2


def is_data_row(cells: list[str], kind: str) -> bool:
    texts = [squash(c) for c in cells if squash(c)]
    if not texts or is_column_number_row(cells):
        return False
    if texts[0] in ("合计", "总计"):
        # Two-sided tables print the label again on the right: 合计 | 1.00 | 合计 | 1.00.
        rest = [t for t in texts[1:] if t not in ("合计", "总计")]
        return bool(rest) and all(is_amount_text(t) for t in rest)
    if any(CODE.match(t) for t in texts[:3]):
        return True
    if ENUMERATION.match(texts[0]) and len(texts[0]) > 3:
        return True
    amounts = [t for t in texts if is_amount_text(t)]
    words = [t for t in texts if not is_amount_text(t)]
    if kind == "three_public":
        return bool(amounts) and len(amounts) >= len(words)
    if amounts and not words:
        # A total row printed without its label; column numbers (1 2 3) have no decimals.
        return any("." in a for a in amounts)
    if not amounts:
        return False
    return any(parse_amount(a) for a in amounts) or not all(_SMALL_INT.match(a) for a in amounts)


# ---------------------------------------------------------------- ruled grids


def _classify_columns(kind: str, headers: list[list[str]], data: list[list[str | None]]) -> list[Column]:
    width = max((len(r) for r in headers + data), default=0)
    result = []
    for c in range(width):
        path = _dedupe([h[c] for h in headers if c < len(h)])
        label = "/".join(path)
        values = [squash(r[c]) for r in data if c < len(r) and r[c] is not None and squash(r[c])]
        result.append(Column(_role(path, values), label))
    _assign_sides(result)
    _assign_keys(kind, result)
    return result


def _assign_keys(kind: str, columns: list[Column]) -> None:
    """Meaning of each amount column from its header path; a meaning already taken on a side stays with
    the first column holding it (a row keeps one figure per meaning)."""
    years = re.findall(r"(?:^|[/\s])(20\d{2})年", " ".join(c.label for c in columns))
    latest = max(years, default=None)
    taken: set[tuple[int, str]] = set()
    for column in columns:
        if column.role != "amount":
            continue
        path = column.label.split("/") if column.label else []
        key = col.three_public_key(path, latest) if kind == "three_public" else col.column_key(path)
        column.key = key if key and (column.side, key) not in taken else None
        if column.key:
            taken.add((column.side, column.key))
    _rename_lone_expense(columns)


def _dedupe(labels: list[str]) -> list[str]:
    path: list[str] = []
    for label in labels:
        text = squash(label)
        if text and (not path or path[-1] != text):
            path.append(text)
    return path


def _role(path: list[str], values: list[str]) -> str:
    leaf = path[-1] if path else ""
    if col.is_line_label(leaf):
        return "line"
    if col.is_code_part_label(leaf):
        return "code_part"
    if col.is_code_label(leaf) and values and all(v.isdigit() for v in values):
        return "code"  # 单位编码（项目编码）: 521, 521001 and 21-digit project codes, no amounts
    codes = sum(1 for v in values if CODE.match(v))
    words = sum(1 for v in values if not is_amount_text(v))
    if values and codes >= max(1, len(values) // 2):
        return "code"
    if values:
        return "name" if words > len(values) // 2 or (words and not col.column_key(path)) else "amount"
    if any(col.is_code_label(p) for p in path):
        return "code"
    if col.column_key(path):
        return "amount"
    return "name" if any(col.is_name_label(p) for p in path) else "amount"


def _assign_sides(columns: list[Column]) -> None:
    """A code/name column after amount columns starts a new side-by-side block."""
    side = 0
    seen_amount = False
    labels = ("code", "code_part", "name")
    for index, column in enumerate(columns):
        first_of_cluster = column.role in labels and not (index and columns[index - 1].role in labels)
        if first_of_cluster and seen_amount:
            side += 1
            seen_amount = False
        if column.role == "amount":
            seen_amount = True
        column.side = side


def _rename_lone_expense(columns: list[Column]) -> None:
    """'本年支出/小计' is the table total when the table has no income or balance columns."""
    for side in {c.side for c in columns}:
        keys = {c.key for c in columns if c.side == side}
        if "expense" in keys and "total" not in keys and not keys & {"income", "opening", "closing"}:
            for c in columns:
                if c.side == side and c.key == "expense":
                    c.key = "total"


def _grid_header_rows(grid: Grid, kind: str, seen: set[str]) -> tuple[list[list[str]], int]:
    """Header rows (merged labels filled in) and the index of the first data row. Under a header printed
    again (`seen`: the table's header rows so far), figure-less rows are the rest of a row the page break cut."""
    first = _first_data_row(grid.rows, kind, 0)
    while first + 1 < len(grid.rows) and _is_section_over_header(grid.rows[first], grid.rows[first + 1], kind):
        first = _first_data_row(grid.rows, kind, first + 2)
    rows = [[grid.spanned_text(r, c) for c in range(len(grid.rows[r]))] for r in range(first)]
    repeated = next((r for r, row in enumerate(rows) if not (is_column_number_row(row) or _row_key(row) in seen)),
                    first)
    if 0 < repeated < first and any(_row_key(row) in seen for row in rows[:repeated]):
        first = repeated
    headers = [row for row in rows[:first] if not is_column_number_row(row)]
    if first < len(grid.rows):
        # Some templates print 类 | 款 | 项 on the 合计 row itself.
        parts = [squash(c) if squash(c) in ("类", "款", "项") else "" for c in grid.rows[first]]
        if any(parts):
            headers.append(parts)
    return headers, first


def _is_label_row(cells: list[str], columns: list[Column]) -> bool:
    """A row of the table's own column labels ('项目 | 统计数' heading a section): a header printed again."""
    texts = [squash(c) for c in cells if squash(c)]
    leaves = {c.label.rsplit("/", 1)[-1] for c in columns if c.label}
    return len(texts) >= 2 and all(t in leaves for t in texts)


def _first_data_row(rows: list[list[str | None]], kind: str, start: int) -> int:
    return next((i for i in range(start, len(rows)) if is_data_row([c or "" for c in rows[i]], kind)), len(rows))


def _is_section_over_header(row: list[str | None], following: list[str | None], kind: str) -> bool:
    """A section title alone on its row ('一、政府采购情况') above a row of labels ('项目 | 行次 | 统计数') opens the
    header, it is no item."""
    texts = [squash(c) for c in row if squash(c)]
    labels = [squash(c) for c in following if squash(c)]
    return (len(texts) == 1 and len(labels) >= 2 and not any(is_amount_text(t) or CODE.match(t) for t in labels)
            and not is_data_row([c or "" for c in following], kind))


def _rows_from_grid(grid: Grid, first: int, columns: list[Column], page: int, unread: list[str]) -> list[Row]:
    rows: list[Row] = []
    for cells in grid.rows[first:]:
        if is_column_number_row([c or "" for c in cells]) or _is_label_row([c or "" for c in cells], columns):
            continue
        rows.extend(_side_rows(list(cells), columns, page, unread))
    return rows


def _side_rows(cells: list[str | None], columns: list[Column], page: int, unread: list[str]) -> list[Row]:
    """`unread` collects amount cells that are not one number (two glued together, stray text)."""
    rows = []
    for side in sorted({c.side for c in columns}):
        code_parts: list[str] = []
        code = None
        label = ""
        values: dict[str, Figure] = {}
        amounts: dict[str, Figure] = {}
        own = ""  # the text under a name header (项目名称), which names the row before 类型 or 项目单位 beside it
        printed: list[str] = []
        for index, column in enumerate(columns):
            if column.side != side or index >= len(cells):
                continue
            text = cells[index]
            if text is None:
                continue
            if column.role in ("code", "code_part", "name"):
                printed.append(squash(text))
            if column.role == "code":
                value = squash(text)
                if CODE.match(value):
                    code = value
                elif value and not label:
                    label = text
            elif column.role == "code_part":
                if squash(text).isdigit():
                    # Spreadsheets drop the leading zero of 款/项 ("2" for "02").
                    code_parts.append(squash(text) if not code_parts else squash(text).zfill(2))
                elif squash(text) not in ("", "类", "款", "项") and not label:
                    label = text
            elif column.role == "name":
                if squash(text):
                    label = text
                    if col.is_name_label(column.label.rsplit("/", 1)[-1]):
                        own = text
            elif column.role == "amount":
                amount = parse_amount(text)
                if amount is None:
                    if _NUMERIC_LOOKING.match(squash(text)):
                        unread.append(f"第{page}页“{squash(text)}”")
                    continue
                amounts[column.label] = Figure(amount, squash(text))
                if column.key:
                    values[column.key] = amounts[column.label]
        if code_parts and not code:
            code = "".join(code_parts)
        row = _make_row(code, own or label, values, page, side)
        if row:
            row.cells, row.printed = amounts, tuple(printed)
            rows.append(row)
    return _join_spanning_labels(rows)


def _join_spanning_labels(rows: list[Row]) -> list[Row]:
    """A label merged across sides ('公用经费合计' up to the last column) owns the figure printed at the far end."""
    joined: list[Row] = []
    for row in rows:
        previous = joined[-1] if joined else None
        if (previous and previous.name and not any(f.text for f in previous.values.values())
                and not row.code and not row.name and row.values):
            previous.values = row.values
            continue
        joined.append(row)
    return joined


def _make_row(code: str | None, label: str, values: dict[str, Figure], page: int, side: int) -> Row | None:
    # "20101 人大事务" carries its code in the name cell; "2026年3月" or "100%" do not.
    leading = re.match(r"^\s*(\d{3}(?:\d{2}){0,2})(?![\d年月日号期届%％户人个.,])\s*(.*)$", label or "")
    if not code and leading and CODE.match(leading.group(1)):
        code, label = leading.group(1), leading.group(2)
    name = normalise_name(label)
    if not code and not name and not any(f.value for f in values.values()):
        return None
    if not code and not values and _NUMERIC_LOOKING.match(name):
        return None  # a lone figure in the name column of a form-like table is no item
    return Row(name=name, code=code, page=page, side=side, label=squash(label), values=values)


# ---------------------------------------------------------- borderless tables

# Every header label a borderless header may contain, longest first so that
# 本年收入合计 wins over 本年收入.
_TEXT_LABELS = sorted(
    [
        "本年收入合计", "本年支出合计", "财政拨款收入", "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入",
        "其他收入", "基本支出", "项目支出", "上缴上级支出", "经营支出", "对附属单位补助支出", "年初结转和结余",
        "年末结转和结余", "本年收入", "本年支出", "小计", "合计", "一般公共预算财政拨款", "政府性基金预算财政拨款",
        "国有资本经营预算财政拨款", "决算数", "预算数", "统计数", "金额", "行次", "项目", "科目名称", "科目代码", "科目编码",
        "功能分类科目编码", "经济分类科目编码", "因公出国（境）费", "公务用车购置及运行维护费", "公务用车购置及运行费",
        "公务用车购置费", "公务用车运行维护费", "公务用车运行费", "公务接待费",
    ],
    key=len,
    reverse=True,
)
_LABEL_RE = re.compile("|".join(re.escape(label) for label in _TEXT_LABELS))


def _tokens(line: TextLine) -> list[str]:
    """Whitespace-separated pieces, with consecutive words re-joined into one name."""
    merged: list[str] = []
    for token in line.text.split():
        numeric = is_amount_text(token) or bool(CODE.match(token))
        if merged and not numeric and not (is_amount_text(merged[-1]) or CODE.match(merged[-1])):
            merged[-1] += token
        else:
            merged.append(token)
    return merged


# National template column order, used when a borderless header cannot be read.
CANONICAL = {
    "income": ["total", "fiscal", "upper", "business", "operating", "affiliated", "other"],
    "expense": ["total", "basic", "project", "remit", "operating_exp", "affiliated_sub"],
    "gpb_expense": ["total", "basic", "project"],
    "soe": ["total", "basic", "project"],
    "gov_fund": ["opening", "income", "expense", "basic", "project", "closing"],
    "three_public": [
        f"{half}.{item}"
        for half in ("budget", "actual")
        for item in ("total", "abroad", "car", "car_purchase", "car_operation", "reception")
    ],
}
MULTI_SIDED = TWO_SIDED | {"gpb_basic"}


def _text_columns(kind: str, header_text: str, data: list[TextLine]) -> list[Column]:
    labels = _LABEL_RE.findall(squash(header_text))
    sides: list[list[str]] = [[]]
    for label in labels:
        if kind in MULTI_SIDED and _is_name_label(label) and any(not _is_name_label(x) for x in sides[-1]):
            sides.append([])
        sides[-1].append(label)
    columns: list[Column] = []
    for side, side_labels in enumerate(sides):
        group = None
        for label in side_labels:
            if label in ("本年支出", "本年收入") and "小计" in side_labels:
                group = label
                continue
            if _is_name_label(label):
                role = "code" if "代码" in label or "编码" in label else "name"
                if not any(c.role == role and c.side == side for c in columns):
                    columns.append(Column(role, label, side=side))
            elif label == "行次":
                columns.append(Column("line", label, side=side))
            else:
                path = [group, label] if group and label in ("小计", "基本支出", "项目支出") else [label]
                columns.append(Column("amount", "/".join(p for p in path if p), side=side))
    _assign_keys(kind, columns)
    return _canonical_if_misread(kind, columns, data)


def _positioned(kind: str, header: list[TextLine], data: list[TextLine],
                previous: tuple[list[Column], list] | None) -> tuple[list[Column], int, Grid, list] | None:
    """Columns, header depth, grid and column x ranges of borderless lines read by the x positions of
    their cells, when that reads the header better than its labels' order (a header printed as plain
    text lines does not stand over its columns). `previous`: the columns and x ranges of the table's
    part before, for a continuation without header."""
    numbers = [l for l in header if is_column_number_row(l.cells)]
    header = [l for l in header if l not in numbers]
    if not text_tables.has_positions(header + data):
        return None
    is_row = lambda cells: is_data_row(cells, kind)  # noqa: E731
    if not header:
        if previous is None:
            return None
        columns, bands = previous
        read = text_tables.to_grid([], data, is_row, bands if text_tables.fits(data, bands) else None)
        if read is None or _width(read[0].rows) != len(columns):
            return None
        return columns, 0, read[0], read[2]
    read = text_tables.to_grid(header, data, is_row, numbers=numbers)
    if read is None:
        return None
    grid, depth, bands = read
    columns = _classify_columns(kind, grid.rows[:depth], grid.rows[depth:])
    regex = _text_columns(kind, " ".join(l.text for l in header), data)
    if _keyed(columns) < max(1, _keyed(regex)):
        return None
    return columns, depth, grid, bands


def _keyed(columns: list[Column]) -> int:
    return sum(1 for c in columns if c.role == "amount" and c.key)


def _canonical_if_misread(kind: str, columns: list[Column], data: list[TextLine]) -> list[Column]:
    if kind not in CANONICAL:
        return columns
    observed = max((sum(1 for t in _tokens(l) if is_amount_text(t)) for l in data), default=0)
    amounts = [c for c in columns if c.role == "amount"]
    if len(amounts) == observed or len(CANONICAL[kind]) != observed:
        return columns
    fixed = [c for c in columns if c.role != "amount"]
    return fixed + [Column("amount", key, key) for key in CANONICAL[kind]]


def _is_name_label(label: str) -> bool:
    return label in ("项目", "科目名称", "科目代码", "科目编码", "功能分类科目编码", "经济分类科目编码")


def _text_rows(lines: list[TextLine], columns: list[Column], page: int) -> list[Row]:
    sides = sorted({c.side for c in columns}) or [0]
    amounts_per_side = {s: [c for c in columns if c.side == s and c.role == "amount"] for s in sides}
    has_line = {s: any(c.role == "line" and c.side == s for c in columns) for s in sides}
    rows: list[Row] = []
    last_line: dict[int, int] = {}  # the 行次 each side printed last
    for line in lines:
        tokens = _tokens(line)
        # Column numbers (栏次), and empty rows that print only their line numbers (行次).
        if (not tokens or is_column_number_row(tokens) or all(_SMALL_INT.match(t) for t in tokens)
                or _is_label_row(line.cells, columns)):
            continue
        side_index = 0
        position = 0
        while position < len(tokens) and side_index < len(sides):
            side = sides[side_index]
            code = name = None
            if CODE.match(tokens[position]) and not has_line[side]:
                code = tokens[position]
                position += 1
            if position < len(tokens) and not is_amount_text(tokens[position]) and not CODE.match(tokens[position]):
                name = tokens[position]
                position += 1
            if has_line[side] and position < len(tokens) and _SMALL_INT.match(tokens[position]):
                last_line[side] = int(tokens[position])
                position += 1
            amount_columns = amounts_per_side[side]
            following = sides[side_index + 1] if side_index + 1 < len(sides) else None
            cells: dict[str, Figure] = {}
            for column in amount_columns:
                if (position >= len(tokens) or not is_amount_text(tokens[position])
                        or _next_sides_line(tokens[position], following, has_line, last_line)):
                    break
                cells[column.label] = Figure(parse_amount(tokens[position]), squash(tokens[position]))
                position += 1
            values = {c.key: cells[c.label] for c in amount_columns if c.key and c.label in cells}
            row = _make_row(code, name or "", values, page, side)
            if row and (len(cells) == len(amount_columns) or not cells):
                row.cells = cells
                rows.append(row)
            side_index += 1
    return rows


def _next_sides_line(token: str, side: int | None, has_line: dict[int, bool], last_line: dict[int, int]) -> bool:
    """Whether a figure after a side's 行次 is the next side's (`side`) 行次, the one after that side's last: the
    side's amounts are blank ('一般公共预算财政拨款 29 61' under '年末财政拨款结转和结余 28 | 60')."""
    return (side is not None and has_line[side] and bool(_SMALL_INT.match(token))
            and side in last_line and int(token) == last_line[side] + 1)


# ------------------------------------------------------------------- assembly


def build_table(kind: str, title: str, page: int, parts: list[Part]) -> Table:
    table = Table(kind=kind, title=title, page=page)
    unread: list[str] = []
    columns: list[Column] = []
    seen_headers: set[str] = set()
    bands: list = []  # x ranges of the columns of a borderless part read by the positions of its cells
    for part in parts:
        if part.grid is not None:
            headers, first = _grid_header_rows(part.grid, kind, seen_headers)
            data = [list(r) for r in part.grid.rows[first:]]
            if columns and not _repeats(headers, seen_headers) and _width(part.grid.rows) == len(columns):
                # A continuation whose first rows merely lack figures, not a repeated header.
                headers, first, data = [], 0, [list(r) for r in part.grid.rows]
            if headers or not columns:
                columns = _classify_columns(kind, headers, data)
                seen_headers |= {_row_key(h) for h in headers}
            elif _width(data) != len(columns):
                columns = _realign(columns, _classify_columns(kind, [], data))
            part_rows = _rows_from_grid(part.grid, first, columns, part.page, unread)
            heads = _first_row_sides(part.grid, first, columns, part.page)
            # In a table that numbers its rows, a row without its 行次 is the rest of one, blank or not.
            unnumbered = any(c.role == "line" for c in columns)
        else:
            heads, unnumbered = 1, False
            header_lines, data_lines = _split_text(part.lines, kind)
            if columns and not _repeats_labels(header_lines, columns):
                # A continuation's first lines without figures are the rest of the row the page break cut.
                header_lines, data_lines = [], header_lines + data_lines
            positioned = _positioned(kind, header_lines, data_lines, (columns, bands) if bands else None)
            bands = positioned[3] if positioned else []
            if positioned:
                columns, depth, grid, _ = positioned
                part_rows = _rows_from_grid(grid, depth, columns, part.page, unread)
                heads = _first_row_sides(grid, depth, columns, part.page)
            else:
                if header_lines or not columns:
                    columns = _text_columns(kind, " ".join(l.text for l in header_lines), data_lines)
                data_lines = text_tables.join_wrapped(data_lines, lambda cells: is_data_row(cells, kind))
                part_rows = _text_rows(data_lines, columns, part.page)
                if data_lines and any(c.role == "line" for c in columns) and any(
                        _SMALL_INT.match(t) for t in _tokens(data_lines[0])):
                    heads = 0  # its first line prints a 行次: a row of its own, however blank
        if not table.columns:
            table.columns = columns
        joined = 0
        for row in part_rows[:heads]:
            # Side by side groups each continue their own last row.
            previous = next((r for r in reversed(table.rows) if r.side == row.side), None)
            if previous is None or not _wrapped_over_page(row, previous, unnumbered):
                break
            _join_row(previous, row, columns)
            joined += 1
        part_rows = part_rows[joined:]
        tail = table.rows[-_REPEATED_TAIL:]
        table.rows.extend(r for r in part_rows if not _repeated(r, table.rows, tail))
        if part.page not in table.pages:
            table.pages.append(part.page)
    if unread:
        table.problems.append(f"{len(unread)}个金额格不是一个数（如{unread[0]}），可能是相邻两列的数字连在一起")
    table.problems.extend(_odd_decimals(table))
    table.problems.extend(_mixed_grouping(table))
    return table


def _first_row_sides(grid: Grid, first: int, columns: list[Column], page: int) -> int:
    """How many rows the first data row of a continuation gives (one per side), none when it prints its
    行次: a numbered row is whole, however blank."""
    if first >= len(grid.rows):
        return 0
    cells = grid.rows[first]
    if any(c.role == "line" and i < len(cells) and squash(cells[i]) for i, c in enumerate(columns)):
        return 0
    return len(_side_rows(list(cells), columns, page, []))


def _wrapped_over_page(row: Row, previous: Row, unnumbered: bool) -> bool:
    """The rest of a row cut by the page break ("杭州市机动 … 12,437.3" / "车驾驶员考试服务中心 … 6"): a first
    row without code whose total is blank, though the row before it has figures or the row has lost its 行次."""
    total = row.values.get("total")
    fragment = not any(f.text for f in row.cells.values()) or (total is not None and not total.text)
    return (fragment and not row.code and bool(row.name) and row.side == previous.side
            and not ENUMERATION.match(row.label) and previous.page < row.page
            and (unnumbered or any(f.text for f in previous.cells.values())))


def _join_row(previous: Row, rest: Row, columns: list[Column]) -> None:
    previous.name += rest.name
    previous.label += rest.label
    keys = {c.label: c.key for c in columns if c.role == "amount"}
    for label, figure in rest.cells.items():
        if not figure.text:
            continue
        text = (previous.cells[label].text if label in previous.cells else "") + figure.text
        amount = parse_amount(text)
        if amount is None:
            continue
        previous.cells[label] = Figure(amount, text)
        if keys.get(label):
            previous.values[keys[label]] = previous.cells[label]


def _repeated(row: Row, rows: list[Row], tail: list[Row]) -> bool:
    """A 合计 printed again on a continuation page, figure for figure, or a coded row repeating one of the last
    rows before it (`tail`); a coded row like one further up is another unit's ('30205 水费 20.00' under each)."""
    total = row.name in ("合计", "总计")
    if not (row.code or total) or not row.cells:
        return False
    texts = {k: f.text for k, f in row.cells.items()}
    return any(r.page != row.page and r.code == row.code and r.name == row.name and r.side == row.side
               and r.printed == row.printed and {k: f.text for k, f in r.cells.items()} == texts
               for r in (rows if total else tail))


_REPEATED_TAIL = 3


def _mixed_grouping(table: Table) -> list[str]:
    """"120258,600" is a publisher's habit when the table prints all its large figures so; beside regularly
    grouped figures it more likely is two cells run together."""
    figures = [(r, f) for r in table.rows for f in r.cells.values()]
    odd = [(r, f) for r, f in figures if irregular_grouping(f.text)]
    # Only figures of a million or more show the habit either way ("1,234,567" against "1234,567").
    if not odd or not any(f.text.count(",") >= 2 for _, f in figures):
        return []
    row, figure = odd[0]
    return [f"{len(odd)}个金额的千分位与本表其他金额不同（如第{row.page}页{row.where}“{figure.text}”），可能是相邻两列的数字连在一起"]


def _odd_decimals(table: Table) -> list[str]:
    """Figures with more decimals than the table prints elsewhere ("301.22000"): two cells glued together."""
    figures = [(r, f) for r in table.rows for f in r.cells.values() if f.value and "." in f.text]
    if len(figures) < 5:
        return []
    usual = max({f.decimals for _, f in figures}, key=lambda d: sum(1 for _, f in figures if f.decimals == d))
    odd = [(r, f) for r, f in figures if len(f.text.split(".")[-1]) > usual + 1]
    if not odd:
        return []
    row, figure = odd[0]
    return [f"{len(odd)}个金额的小数位数与本表其他金额不同（如第{row.page}页{row.where}“{figure.text}”），可能是相邻两列的数字连在一起"]


def _row_key(cells: list[str]) -> str:
    return "|".join(squash(c) for c in cells)


def _repeats(headers: list[list[str]], seen: set[str]) -> bool:
    return bool(headers) and all(_row_key(h) in seen for h in headers)


def _realign(previous: list[Column], current: list[Column]) -> list[Column]:
    """A continuation without header: reuse the earlier amount meanings in order."""
    keys = [c.key for c in previous if c.role == "amount"]
    amounts = [c for c in current if c.role == "amount"]
    if len(keys) == len(amounts):
        for column, key in zip(amounts, keys):
            column.key = key
    return current


def _width(rows: list[list[str | None]]) -> int:
    return max((len(r) for r in rows), default=0)


def _split_text(lines: list[TextLine], kind: str) -> tuple[list[TextLine], list[TextLine]]:
    """Header lines, then rows; a figure-less line (a wrapped '合计' label) still belongs to the header, an item
    right above the first row of figures (a section row, or the first line of a wrapped name) to the rows."""
    first = next((i for i, l in enumerate(lines) if is_data_row(_tokens(l), kind) and _has_figure(_tokens(l))),
                 len(lines))
    while 0 < first < len(lines) and is_data_row(_tokens(lines[first - 1]), kind):
        first -= 1
    return lines[:first], lines[first:]


def _repeats_labels(lines: list[TextLine], columns: list[Column]) -> bool:
    """Whether header lines repeat some label of the columns read so far."""
    labels = {squash(part) for c in columns for part in c.label.split("/")}
    return any(squash(cell) in labels for line in lines for cell in line.cells)


def _has_figure(tokens: list[str]) -> bool:
    return any(is_amount_text(t) or CODE.match(t) for t in tokens)
