"""Borderless table lines → a grid, by the x positions of their cells.

A table without rulings still lines its cells up in columns. The columns ("bands") are the x
ranges the cells of its rows cover; each header piece is read over the band(s) under it: pieces
stacked in one band are one label wrapped inside its cell ('年初结' / '转和结' / '余'), a piece
whose neighbouring bands have no label at its height but start theirs where its own band's next
label starts is the label of their group ('本年支出' over '小计 | 基本支出 | 项目支出'). A line without
figures under a name cell that the row above fills to the column's edge is that name's wrapped rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fiscalwatch.parsers import columns as col
from fiscalwatch.parsers.layout import Grid, TextLine
from fiscalwatch.parsers.numbers import ENUMERATION, is_amount_text

Band = tuple[float, float]
# How close (in glyph heights) a name must come to its column's right edge to have been wrapped.
_FULL = 2.0


@dataclass
class _Piece:
    text: str
    line: int
    bands: list[int]
    center: float
    left: float
    glyph: float  # the width of one of its characters
    last: int  # the last line of a label wrapped over several
    territory: list[int] = field(default_factory=list)


def has_positions(lines: list[TextLine]) -> bool:
    return bool(lines) and all(len(l.spans) == len(l.cells) for l in lines)


def find_bands(lines: list[TextLine], header: list[TextLine], numbers: list[TextLine] = ()) -> list[Band]:
    """Column x ranges from the cells of the rows, narrow cells first, so that a label merged over two
    columns (合计 over 科目编码 | 科目名称) is no column of its own; then a column number (栏次 1 2 3 …, in
    `numbers`) or header label over no such range is a column whose cells are all blank."""
    bands: list[Band] = []
    # A line of labels among rows of figures (a later section's own '项目 | 统计数') stands where its labels are
    # centred, not where the figures under them are: it widens the bands it meets and opens none.
    figured = [_figured(l) for l in lines]
    spans = [(span, any(figured) and len(l.cells) > 1 and not has_figures)
             for l, has_figures in zip(lines, figured) for span in l.spans]
    for (x0, x1), labels in sorted(spans, key=lambda s: s[0][1] - s[0][0]):  # narrow cells first
        hits = [i for i, band in enumerate(bands) if _meets((x0, x1), band)]
        if not hits and not labels:
            bands.append((x0, x1))
        elif len(hits) == 1:
            b0, b1 = bands[hits[0]]
            bands[hits[0]] = (min(b0, x0), max(b1, x1))
    blank = [span for line in numbers for span in _unnumbered(line.spans, bands)]
    figures = {b for l in lines for text, span in zip(l.cells, l.spans) if is_amount_text(text)
               for b, band in enumerate(bands) if _meets(span, band)}
    for index, line in enumerate(header):
        above = [span for earlier in header[:index] for span in earlier.spans]
        for span in sorted(line.spans, key=lambda s: s[1] - s[0]):
            if _over(span, bands + blank):
                continue
            nearest = _band(span, bands) if bands else None
            # A label beside the column it names (小计 over figures printed flush right) is that column's; one
            # right of figures, or farther from a column than its own width and under no label above it (no
            # wrapped rest), is a column of its own.
            far = nearest is not None and not _over(span, above) and (
                _distance(span, bands[nearest]) > span[1] - span[0] or nearest in figures and span[0] > bands[nearest][1])
            if nearest is None or far or any(_over(other, [bands[nearest]]) for other in line.spans if other != span):
                blank.append(span)
    return sorted(bands + blank)


def _unnumbered(numbers: list[Band], bands: list[Band]) -> list[Band]:
    """The column numbers that number none of the bands: each band takes the nearest number, one each (a
    number is centred in its column, the figures under it flush right)."""
    pairs = sorted((_distance(span, band), n, b) for n, span in enumerate(numbers) for b, band in enumerate(bands))
    numbered: set[int] = set()
    taken: set[int] = set()
    for _, n, b in pairs:
        if n not in numbered and b not in taken:
            numbered.add(n)
            taken.add(b)
    return [span for n, span in enumerate(numbers) if n not in numbered]


def _distance(span: Band, band: Band) -> float:
    return max(band[0] - span[1], span[0] - band[1], 0.0)


def _meets(span: Band, band: Band) -> bool:
    """Whether the two x ranges overlap (or touch)."""
    return span[0] <= band[1] and span[1] >= band[0]


def _over(span: Band, others: list[Band]) -> bool:
    return any(_meets(span, band) for band in others)


def _figured(line: TextLine) -> bool:
    return any(is_amount_text(c) for c in line.cells)


def _band(span: Band, bands: list[Band]) -> int:
    """The band a cell lies in: the first it meets, else the nearest."""
    return _overlapping(span, bands)[0]


def _overlapping(span: Band, bands: list[Band]) -> list[int]:
    hits = [i for i, band in enumerate(bands) if _meets(span, band)]
    if hits:
        return hits
    middle = (span[0] + span[1]) / 2
    return [min(range(len(bands)), key=lambda i: min(abs(middle - bands[i][0]), abs(middle - bands[i][1])))]


def _cells_by_band(line: TextLine, bands: list[Band]) -> list[str]:
    """A line's cells in their bands (a cell over several bands in the first)."""
    cells = [""] * len(bands)
    for text, span in zip(line.cells, line.spans):
        index = _band(span, bands)
        cells[index] = f"{cells[index]} {text}".strip()
    return cells


def header_paths(lines: list[TextLine], bands: list[Band]) -> list[list[str]]:
    """Each band's header labels, outermost first."""
    pieces = [_Piece(text, index, _overlapping(span, bands), (span[0] + span[1]) / 2, span[0],
                     (span[1] - span[0]) / max(len(text.strip()), 1), index)
              for index, line in enumerate(lines) for text, span in zip(line.cells, line.spans) if text.strip()]
    pieces = _stacks(pieces, bands)
    # Lowest lines first: a label spans the bands its inner groups span ('预算数' over '公务用车购置及运行维护费',
    # itself over '小计 | 公务用车购置费 | 公务用车运行维护费').
    for piece in sorted(pieces, key=lambda p: (-p.line, p.center)):
        piece.territory = _territory(piece, pieces, bands)
    paths: list[list[str]] = [[] for _ in bands]
    for band, path in enumerate(paths):
        stacked = False  # the last label is a stack of wrapped pieces still open
        for piece in sorted((p for p in pieces if band in p.territory), key=lambda p: p.line):
            group = len(piece.territory) > 1
            if stacked and not group:
                path[-1] += piece.text.strip()
            else:
                path.append(piece.text.strip())
            stacked = not group
    return paths


def _stacks(pieces: list[_Piece], bands: list[Band]) -> list[_Piece]:
    """The pieces with a label wrapped inside its cell as one ('公务用车购' / '置及运行维' / '护费'): a piece continues
    the one right above it in its single band while neither neighbouring band is first labelled on its line (a
    line that holds the labels under it)."""
    first = {band: _labelled_from(band, pieces) for band in range(len(bands))}
    stacks: list[_Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.line, p.center)):
        band = piece.bands[0]
        top = next((s for s in stacks if s.last == piece.line - 1 and s.bands == piece.bands == [band]), None)
        if top is not None and piece.line not in (first.get(band - 1), first.get(band + 1)):
            top.text, top.last = top.text.strip() + piece.text.strip(), piece.line
        else:
            stacks.append(piece)
    return stacks


def _territory(piece: _Piece, pieces: list[_Piece], bands: list[Band]) -> list[int]:
    """The bands a piece labels: those under it, and the neighbours that are labelled only lower down,
    on the line where its own band's next label is."""
    own = sorted(piece.bands)
    below = _under(piece, pieces)
    if not below or len(own) == 1 and _wrapped_label(piece, below, own[0]):
        return own
    level = min(p.line for p in below)
    territory = list(own)
    flush = _flush_left(piece, [p for p in below if p.line == level], pieces)
    for step in (1,) if flush else (-1, 1):
        band = (own[0] if step < 0 else own[-1]) + step
        while (0 <= band < len(bands) and _labelled_from(band, pieces) == level
               and not any(band in p.territory for p in pieces if p.line == piece.line and p is not piece)
               and (_before_rivals(band, piece, pieces) if flush else _nearest(band, piece, pieces, bands))):
            territory.append(band)
            band += step
    return sorted(territory)


def _under(piece: _Piece, pieces: list[_Piece]) -> list[_Piece]:
    return [p for p in pieces if p.line > piece.last and set(p.bands) & set(piece.bands)]


def _labelled_from(band: int, pieces: list[_Piece]) -> int | None:
    return min((p.line for p in pieces if band in (p.territory or p.bands)), default=None)


def _flush_left(piece: _Piece, children: list[_Piece], pieces: list[_Piece]) -> bool:
    """Whether a label is printed flush left over its group (as far left as the first label under it, the
    band before it labelled already), so that its group runs right up to the next label of its line."""
    before = min(piece.bands) - 1
    since = _labelled_from(before, pieces) if before >= 0 else None
    labelled = before < 0 or since is not None and since <= piece.line
    return labelled and any(abs(child.left - piece.left) <= piece.glyph for child in children
                            if min(piece.bands) in child.bands)


def _before_rivals(band: int, piece: _Piece, pieces: list[_Piece]) -> bool:
    return all(band < min(p.bands) for p in pieces if p.line == piece.line and min(p.bands) > max(piece.bands))


def _nearest(band: int, piece: _Piece, pieces: list[_Piece], bands: list[Band]) -> bool:
    """Whether `piece` is the closest to the band of the group labels on its line (two group labels share
    the unlabelled bands between them; a label with none under it labels no other band)."""
    middle = sum(bands[band]) / 2
    rivals = [p for p in pieces if p.line == piece.line and p is not piece and _under(p, pieces)]
    return all(abs(piece.center - middle) <= abs(p.center - middle) for p in rivals)


def _wrapped_label(piece: _Piece, below: list[_Piece], band: int) -> bool:
    """'年初结' + '转和结余' read as one known label while neither part alone is one: a wrapped label, whatever
    its neighbours do."""
    rest = "".join(p.text.strip() for p in sorted(below, key=lambda p: p.line) if p.bands == [band])
    return (bool(rest) and col.column_key([piece.text.strip() + rest]) is not None
            and col.column_key([rest]) is None and col.column_key([piece.text.strip()]) is None)


def fits(lines: list[TextLine], bands: list[Band]) -> bool:
    """Whether every cell of the lines lies over exactly one of the bands, each figure flush with its band's
    right edge (a continuation page laid out like the page before it, not one whose columns are shifted)."""
    def placed(line: TextLine, text: str, span: Band) -> bool:
        hits = [b for b in bands if _meets(span, b)]
        size = max(line.bottom - line.top, 1.0)
        return len(hits) == 1 and (not is_amount_text(text) or abs(span[1] - hits[0][1]) <= size)
    return all(placed(l, text, span) for l in lines for text, span in zip(l.cells, l.spans))


def to_grid(header: list[TextLine], data: list[TextLine], is_row, bands: list[Band] | None = None,
            numbers: list[TextLine] = ()) -> tuple[Grid, int, list[Band]] | None:
    """The lines as a grid, its number of header rows and its bands: header rows (each band's labels,
    outermost first), then one row per table row, a wrapped name's rest joined to its row. `is_row(cells)`
    tells a row from a wrapped rest; `bands`: the columns of the page before, for a continuation;
    `numbers`: the header's lines of column numbers."""
    figured = [l for l in data if _figured(l)]
    if not figured:
        return None
    bands = bands or find_bands(data, header, numbers)
    paths = header_paths(header, bands)
    depth = max((len(p) for p in paths), default=0)
    rows: list[list[str | None]] = [[p[level] if level < len(p) else "" for p in paths] for level in range(depth)]
    first = len(rows)
    right = _right_edges(data, bands)
    previous_line: TextLine | None = None
    for line in _with_upper_halves(data, bands, right):
        cells = _cells_by_band(line, bands)
        if len(rows) > first and previous_line and _wrapped_rest(line, cells, previous_line, bands, right, is_row):
            for index, text in enumerate(cells):
                if text:
                    rows[-1][index] = (rows[-1][index] or "") + text
            continue
        rows.append(list(cells))
        previous_line = line
    return Grid(rows, ruled=False), first, bands


def _with_upper_halves(lines: list[TextLine], bands: list[Band], right: list[float]) -> list[TextLine]:
    """The lines with the first lines of a row whose figures are printed centred between the lines of its
    wrapped names ('二、政府性' / '二、社会保障和就业支' / '基金预算财 2 20.00 11 40.00 …' / '出' / '政拨款收入', as a
    browser prints a table cell by default) joined to its line of figures; the lines below it are rests
    (_wrapped_rest)."""
    if not _centred(lines):
        return lines
    figured = [i for i, line in enumerate(lines) if _figured(line)]
    joined: list[TextLine] = []
    start = 0
    for n, index in enumerate(figured):
        above = lines[figured[n - 1]] if n else None
        below = lines[index + 1:figured[n + 1] if n + 1 < len(figured) else len(lines)]
        upper = _upper_halves(lines[start:index], lines[index], above, below, bands, right)
        joined.extend(lines[start:index - len(upper)])
        joined.append(_joined([*upper, lines[index]], bands) if upper else lines[index])
        start = index + 1
    return joined + lines[start:]


def _centred(lines: list[TextLine]) -> bool:
    """Whether the rows are printed centred in their cells: some line without figures stands less than a line's
    height above a line of figures (the upper of two lines of a name whose figures sit between them); printed
    from the top, a row's first line holds its figures and the lines of the row above stand a full line apart."""
    return any(not _figured(upper) and _figured(line) and _middle(line) - _middle(upper) < line.bottom - line.top
               for upper, line in zip(lines, lines[1:]))


def _upper_halves(pending: list[TextLine], figures: TextLine, above: TextLine | None, below: list[TextLine],
                  bands: list[Band], right: list[float]) -> list[TextLine]:
    """The last lines of `pending` that begin the cells of the row of `figures`: nearer to it than to the
    line of figures above (or, first, right above it), each cell filling its column to the edge where
    `figures` has a cell there that does not begin an item (it wraps into it), else going on below `figures`
    (the cell straddles it)."""
    size = max(figures.bottom - figures.top, 1.0)
    # The pieces of `figures` by band; one that begins an item ('（八）…') continues no line above it.
    taken = {_band(span, bands): text for text, span in zip(figures.cells, figures.spans)}
    continued = {_band(span, bands) for line in below for span in line.spans}
    upper: list[TextLine] = []
    for line in reversed(pending):
        here = _middle(figures) - _middle(line)
        near = here < _middle(line) - _middle(above) if above is not None else here < 2 * size
        pieces = [(span, _band(span, bands)) for span in line.spans]
        starts = all(band in continued if band not in taken else
                     span[1] >= right[band] - _FULL * size and not ENUMERATION.match(taken[band].strip())
                     for span, band in pieces)
        if not (near and starts):
            break
        upper.insert(0, line)
    return upper


def _middle(line: TextLine) -> float:
    return (line.top + line.bottom) / 2


def _joined(lines: list[TextLine], bands: list[Band]) -> TextLine:
    """Lines of one row as one line: in each band its pieces top to bottom."""
    pieces: dict[int, tuple[str, Band]] = {}
    for line in lines:
        for text, span in zip(line.cells, line.spans):
            band = _band(span, bands)
            if band in pieces:
                before, (x0, x1) = pieces[band]
                text, span = before + text, (min(x0, span[0]), max(x1, span[1]))
            pieces[band] = (text, span)
    cells = [pieces[band] for band in sorted(pieces)]
    return TextLine(" ".join(text for text, _ in cells), [text for text, _ in cells], [span for _, span in cells],
                    lines[0].top, lines[-1].bottom)


def join_wrapped(lines: list[TextLine], is_row) -> list[TextLine]:
    """The lines with each wrapped name's rest joined to the cell of the line above it belongs to."""
    if not has_positions(lines) or not lines:
        return lines
    bands = find_bands(lines, [])
    right = _right_edges(lines, bands)
    joined: list[TextLine] = []
    for line in _with_upper_halves(lines, bands, right):
        previous = joined[-1] if joined else None
        if previous and _wrapped_rest(line, _cells_by_band(line, bands), previous, bands, right, is_row):
            cells = list(previous.cells)
            for text, span in zip(line.cells, line.spans):
                band = _band(span, bands)
                index = next(i for i, s in enumerate(previous.spans) if _band(s, bands) == band)
                cells[index] += text
            joined[-1] = TextLine(" ".join(cells), cells, previous.spans, previous.top, line.bottom)
            continue
        joined.append(line)
    return joined


def _right_edges(lines: list[TextLine], bands: list[Band]) -> list[float]:
    edges = [b1 for _, b1 in bands]
    for line in lines:
        for span in line.spans:
            index = _band(span, bands)
            edges[index] = max(edges[index], span[1])
    return edges


def _wrapped_rest(line: TextLine, cells: list[str], previous: TextLine, bands: list[Band], right: list[float],
                  is_row) -> bool:
    """A line without figures whose every cell continues a cell of the row above that reaches its
    column's right edge (the text wrapped there) or begins with a bracket (a line is broken before one:
    '维修' / '（护）费')."""
    if is_row(cells) or _figured(line):
        return False
    size = max(previous.bottom - previous.top, 1.0)
    above = {}
    for span in previous.spans:
        above[_band(span, bands)] = span
    for text, span in zip(line.cells, line.spans):
        band = _band(span, bands)
        bracket = text.strip()[:1] in "（(" and not ENUMERATION.match(text.strip())
        if band not in above or above[band][1] < right[band] - _FULL * size and not bracket:
            return False
    return True
