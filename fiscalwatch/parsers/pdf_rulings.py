"""Ruled tables from vector line work: segments → snapped edges → cells → tables.

pdfplumber's lattice algorithm, reimplemented on pypdfium2's path objects because
pdfplumber parses every glyph through pdfminer and is ~10× slower per page.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

SNAP = 3.0  # points: edges closer than this are the same line
MIN_EDGE = 2.0  # points: shorter segments are glyph details, not rulings
FORM_DEPTH = 4  # rulings drawn inside form XObjects (nested this deep) count as well


@dataclass(frozen=True)
class Edge:
    pos: float  # y for horizontal edges, x for vertical ones
    start: float
    end: float


@dataclass(frozen=True)
class Cell:
    x0: float
    top: float
    x1: float
    bottom: float


def page_segments(page: pdfium.PdfPage, height: float) -> tuple[list[Edge], list[Edge]]:
    """Horizontal and vertical segments of every path on the page, top-down coordinates."""
    horizontal: list[Edge] = []
    vertical: list[Edge] = []
    forms: list = []  # matrices of the form XObjects enclosing the current object, outermost first
    for obj in page.get_objects(max_depth=FORM_DEPTH):
        del forms[obj.level:]
        if obj.type == pdfium_c.FPDF_PAGEOBJ_FORM:
            forms.append(obj.get_matrix())
            continue
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        matrix = obj.get_matrix()

        def on_page(x: float, y: float, own: bool = True) -> tuple[float, float]:
            if own:
                x, y = matrix.on_point(x, y)
            for outer in reversed(forms):
                x, y = outer.on_point(x, y)
            return x, y

        for (x0, y0), (x1, y1) in _path_lines(obj):
            x0, y0 = on_page(x0, y0)
            x1, y1 = on_page(x1, y1)
            y0, y1 = height - y0, height - y1
            if abs(y0 - y1) < 1 and abs(x1 - x0) >= MIN_EDGE:
                horizontal.append(Edge((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
            elif abs(x0 - x1) < 1 and abs(y1 - y0) >= MIN_EDGE:
                vertical.append(Edge((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
        _add_thin_fill(obj, height, horizontal, vertical, lambda x, y: on_page(x, y, own=False))
    return horizontal, vertical


def _path_lines(obj: pdfium.PdfObject):
    count = pdfium_c.FPDFPath_CountSegments(obj.raw)
    x, y = ctypes.c_float(), ctypes.c_float()
    start = current = None
    for index in range(count):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj.raw, index)
        pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
        point = (x.value, y.value)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = current = point
            continue
        if current is not None and kind == pdfium_c.FPDF_SEGMENT_LINETO:
            yield current, point
        current = point
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            yield current, start
            current = start


def _add_thin_fill(obj, height, horizontal, vertical, on_page) -> None:
    """A filled rectangle thinner than a snap is a ruling drawn as a bar."""
    left, bottom, right, top = obj.get_bounds()
    (left, bottom), (right, top) = on_page(left, bottom), on_page(right, top)
    left, right, bottom, top = min(left, right), max(left, right), min(bottom, top), max(bottom, top)
    width, tall = right - left, top - bottom
    if tall < SNAP and width >= MIN_EDGE:
        horizontal.append(Edge(height - (top + bottom) / 2, left, right))
    elif width < SNAP and tall >= MIN_EDGE:
        vertical.append(Edge((left + right) / 2, height - top, height - bottom))


def merge_edges(edges: list[Edge]) -> list[Edge]:
    """Snap nearly collinear edges to one position and join overlapping runs."""
    snapped: list[list[Edge]] = []
    for edge in sorted(edges, key=lambda e: e.pos):
        if snapped and edge.pos - snapped[-1][0].pos <= SNAP:
            snapped[-1].append(edge)
        else:
            snapped.append([edge])
    merged: list[Edge] = []
    for group in snapped:
        pos = sum(e.pos for e in group) / len(group)
        runs: list[list[float]] = []
        for edge in sorted(group, key=lambda e: e.start):
            if runs and edge.start <= runs[-1][1] + SNAP:
                runs[-1][1] = max(runs[-1][1], edge.end)
            else:
                runs.append([edge.start, edge.end])
        merged.extend(Edge(pos, a, b) for a, b in runs)
    return merged


def _covers(edges: dict[float, list[Edge]], pos: float, a: float, b: float) -> bool:
    return any(e.start - SNAP <= a and b <= e.end + SNAP for e in edges.get(pos, ()))


def find_cells(horizontal: list[Edge], vertical: list[Edge]) -> list[Cell]:
    """Smallest rectangles whose four sides are all ruled."""
    h_by_y: dict[float, list[Edge]] = {}
    for e in horizontal:
        h_by_y.setdefault(e.pos, []).append(e)
    v_by_x: dict[float, list[Edge]] = {}
    for e in vertical:
        v_by_x.setdefault(e.pos, []).append(e)
    points: set[tuple[float, float]] = set()
    for v in vertical:
        for h in horizontal:
            if h.start - SNAP <= v.pos <= h.end + SNAP and v.start - SNAP <= h.pos <= v.end + SNAP:
                points.add((v.pos, h.pos))
    xs_at_y: dict[float, list[float]] = {}
    ys_at_x: dict[float, list[float]] = {}
    for x, y in points:
        xs_at_y.setdefault(y, []).append(x)
        ys_at_x.setdefault(x, []).append(y)
    for values in (*xs_at_y.values(), *ys_at_x.values()):
        values.sort()

    cells = []
    for x, y in sorted(points, key=lambda p: (p[1], p[0])):
        cell = _cell_from_corner(x, y, xs_at_y, ys_at_x, points, h_by_y, v_by_x)
        if cell:
            cells.append(cell)
    return cells


def _cell_from_corner(x, y, xs_at_y, ys_at_x, points, h_by_y, v_by_x) -> Cell | None:
    for bottom in (b for b in ys_at_x[x] if b > y):
        if not _covers(v_by_x, x, y, bottom):
            break
        for right in (r for r in xs_at_y[y] if r > x):
            if not _covers(h_by_y, y, x, right):
                break
            if (right, bottom) in points and _covers(v_by_x, right, y, bottom) and _covers(
                h_by_y, bottom, x, right
            ):
                return Cell(x, y, right, bottom)
    return None


def group_tables(cells: list[Cell]) -> list[list[Cell]]:
    """Cells that share a corner belong to the same table: two rows and two columns at least, or a single
    row of three cells or more (a table's last row alone on the next page), not a framed box."""
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[float, float], int] = {}
    for index, cell in enumerate(cells):
        for corner in ((cell.x0, cell.top), (cell.x1, cell.top), (cell.x0, cell.bottom), (cell.x1, cell.bottom)):
            if corner in owner:
                parent[find(index)] = find(owner[corner])
            else:
                owner[corner] = index
    groups: dict[int, list[Cell]] = {}
    for index, cell in enumerate(cells):
        groups.setdefault(find(index), []).append(cell)
    return [g for g in groups.values()
            if (len({c.top for c in g}) >= 2 and len({c.x0 for c in g}) >= 2) or len({c.x0 for c in g}) >= 3]
