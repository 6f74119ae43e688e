"""Small-cell suppression for published tables.

A count below the threshold (default 10) is withheld (primary suppression). Because a
published total lets a reader subtract the published siblings, more cells are then
withheld (secondary suppression) until no line (a group of cells and their total) has
exactly one withheld entry.

Functions
---------
suppress_counts
    One group of counts that sums to a published total (e.g. level counts of one
    question in one unit).
suppress_table
    A 2-D table with row totals, column totals and a grand total (e.g. units × levels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._common import as_count, as_count_array

__all__ = [
    "DEFAULT_THRESHOLD",
    "GroupSuppression",
    "TableSuppression",
    "suppress_counts",
    "suppress_table",
]

#: Counts below this are withheld from public tables.
DEFAULT_THRESHOLD = 10


@dataclass(frozen=True)
class GroupSuppression:
    """What to withhold from one group and its total.

    Attributes
    ----------
    cells : numpy.ndarray of bool
        True where the cell must be withheld.
    total : bool
        True when the group's total must be withheld too.
    """

    cells: np.ndarray
    total: bool


@dataclass(frozen=True)
class TableSuppression:
    """What to withhold from a table and its margins.

    Attributes
    ----------
    cells : numpy.ndarray of bool, shape (r, c)
        True where the cell must be withheld.
    row_totals : numpy.ndarray of bool, shape (r,)
        True where a row total must be withheld.
    col_totals : numpy.ndarray of bool, shape (c,)
        True where a column total must be withheld.
    grand_total : bool
        True when the grand total must be withheld.
    """

    cells: np.ndarray
    row_totals: np.ndarray
    col_totals: np.ndarray
    grand_total: bool


def _primary(values: np.ndarray, threshold: int, withhold_zeros: bool) -> np.ndarray:
    mask = values < threshold
    if not withhold_zeros:
        mask &= values > 0
    return mask


def _secondary(extended: np.ndarray, mask: np.ndarray, rows_only: bool = False) -> np.ndarray:
    """Close ``mask`` over the lines of an extended table (last row/column = totals).

    Every row (and, unless ``rows_only``, every column) of ``extended`` is additive: its
    last entry is the sum of the others. Repeat until each line has 0 or at least 2
    withheld entries; in a line with exactly one, withhold the smallest published entry
    other than the total, or the total when nothing else is left. Each pass withholds
    one more entry, so the loop ends.
    """
    mask = mask.copy()
    n_rows, n_cols = extended.shape
    lines: list[tuple[np.ndarray, np.ndarray]] = [
        (np.full(n_cols, i), np.arange(n_cols)) for i in range(n_rows)
    ]
    if not rows_only:
        lines += [(np.arange(n_rows), np.full(n_rows, j)) for j in range(n_cols)]
    changed = True
    while changed:
        changed = False
        for rows, cols in lines:
            m = mask[rows, cols]
            if m.size < 2 or int(m.sum()) != 1:
                continue
            vals = extended[rows, cols]
            candidates = np.flatnonzero(~m[:-1])  # published entries other than the total
            if candidates.size:
                pick = int(candidates[np.argmin(vals[:-1][candidates])])
            else:
                pick = m.size - 1
            mask[rows[pick], cols[pick]] = True
            changed = True
    return mask


def _bridges(n_nodes: int, edges: list[tuple[int, int]]) -> list[int]:
    """Indices of the bridge edges of an undirected graph (iterative Tarjan)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for k, (u, v) in enumerate(edges):
        adj[u].append((v, k))
        adj[v].append((u, k))
    disc = [-1] * n_nodes
    low = [0] * n_nodes
    clock = 0
    found: list[int] = []
    for root in range(n_nodes):
        if disc[root] != -1 or not adj[root]:
            continue
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            u, parent_edge, neighbours = stack[-1]
            descended = False
            for v, k in neighbours:
                if k == parent_edge:
                    continue
                if disc[v] == -1:
                    disc[v] = low[v] = clock
                    clock += 1
                    stack.append((v, k, iter(adj[v])))
                    descended = True
                    break
                low[u] = min(low[u], disc[v])
            if descended:
                continue
            stack.pop()
            if stack:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[u])
                if low[u] > disc[parent]:
                    found.append(parent_edge)
    return found


def _close_cycles(extended: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Withhold more entries until no withheld entry can be solved for exactly.

    Rows and columns of the extended table are the nodes of a bipartite graph and each
    withheld entry (i, j) an edge; every node's withheld sum is known. The withheld
    values are then fixed up to circulations on cycles, so an entry is disclosed
    exactly iff its edge is a bridge. For a bridge (i, j), withhold the smallest entry
    joining the two sides it separates, which puts it on a cycle; repeat.
    """
    mask = mask.copy()
    n_rows, n_cols = extended.shape
    while True:
        cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(mask))]
        edges = [(i, n_rows + j) for i, j in cells]
        found = _bridges(n_rows + n_cols, edges)
        if not found:
            return mask
        bi, bj = cells[found[0]]
        # Nodes reachable from row bi without the bridge: the row side of the cut.
        adj: list[list[int]] = [[] for _ in range(n_rows + n_cols)]
        for k, (u, v) in enumerate(edges):
            if k != found[0]:
                adj[u].append(v)
                adj[v].append(u)
        side = {bi}
        todo = [bi]
        while todo:
            u = todo.pop()
            for v in adj[u]:
                if v not in side:
                    side.add(v)
                    todo.append(v)
        comp = set(side)
        todo = [n_rows + bj]
        other = {n_rows + bj}
        while todo:
            u = todo.pop()
            for v in adj[u]:
                if v not in other:
                    other.add(v)
                    todo.append(v)
        comp |= other
        best: tuple[int, int] | None = None
        for a in (x for x in comp if x < n_rows):
            for b in (x - n_rows for x in comp if x >= n_rows):
                if (a in side) == (n_rows + b in side) or mask[a, b]:
                    continue
                if best is None or extended[a, b] < extended[best]:
                    best = (a, b)
        if best is None:  # cannot happen while every line has 0 or >= 2 withheld
            raise RuntimeError("suppression could not protect a withheld cell.")
        mask[best] = True
        mask = _secondary(extended, mask)


def _check_threshold(threshold: int) -> int:
    t = as_count(threshold, "threshold")
    if t < 1:
        raise ValueError("threshold must be at least 1.")
    return t


def suppress_counts(
    counts: Sequence[int], threshold: int = DEFAULT_THRESHOLD, withhold_zeros: bool = True
) -> GroupSuppression:
    """Cells to withhold from one group of counts published with its total.

    Parameters
    ----------
    counts : sequence of int
        The group's cells; their sum is the published total.
    threshold : int, optional
        Counts below this are withheld, default 10.
    withhold_zeros : bool, optional
        Whether a zero count is withheld too (default True, the literal "fewer than 10"
        rule). With False, zeros are published and never chosen as primary cells.

    Returns
    -------
    GroupSuppression
        Fields ``cells`` (bool array) and ``total`` (bool).

    Raises
    ------
    ValueError
        If the counts are not a non-empty 1-D array of whole non-negative numbers or
        the threshold is below 1.

    Notes
    -----
    Primary: cᵢ < threshold (and the total T = Σcᵢ if T < threshold).
    Secondary: if the total is published and exactly one cell is withheld, that cell
    equals T − Σ(published cells), so the smallest other published cell is withheld as
    well; a group of a single cell withholds its total instead.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, ch. 4 (cell
    suppression).

    Examples
    --------
    >>> m = suppress_counts([3, 25, 40])
    >>> m.cells.tolist(), m.total
    ([True, True, False], False)
    """
    c = as_count_array(counts, "counts", ndim=1)
    if c.size == 0:
        raise ValueError("counts must hold at least one cell.")
    t = _check_threshold(threshold)
    ext = np.append(c, c.sum())[None, :]
    # A 1 × (c + 1) table whose only sum relation is the row.
    mask = _secondary(ext, _primary(ext, t, withhold_zeros), rows_only=True)
    return GroupSuppression(cells=mask[0, :-1].copy(), total=bool(mask[0, -1]))


def suppress_table(
    table: Sequence[Sequence[int]],
    threshold: int = DEFAULT_THRESHOLD,
    withhold_zeros: bool = True,
) -> TableSuppression:
    """Cells and margins to withhold from a 2-D table published with its totals.

    Parameters
    ----------
    table : 2-D array of int
        The inner cells, e.g. units × levels; row totals, column totals and the grand
        total are their sums.
    threshold : int, optional
        Counts below this are withheld, default 10.
    withhold_zeros : bool, optional
        Whether a zero count is withheld too (default True).

    Returns
    -------
    TableSuppression
        Fields ``cells``, ``row_totals``, ``col_totals``, ``grand_total``.

    Raises
    ------
    ValueError
        If the table is not a non-empty 2-D array of whole non-negative numbers or the
        threshold is below 1.

    Notes
    -----
    The table is extended with its row totals (last column), column totals (last row)
    and grand total (corner); every row and column of the extended table is then a sum
    relation. Primary: every entry (cell or total) below the threshold. Secondary,
    repeated until nothing changes: in a line with exactly one withheld entry, withhold
    the smallest published non-total entry of that line (or its total if none is left).
    Afterwards every line has 0 or ≥ 2 withheld entries. That alone can still leave an
    entry solvable from several lines together; seen as a bipartite graph (rows and
    columns as nodes, withheld entries as edges, each node's withheld sum known), an
    entry is solvable exactly when its edge is a bridge, i.e. on no cycle. So bridges
    are closed too: for each, the smallest entry joining the two sides it separates is
    withheld. Then no withheld value can be derived exactly. Bounds (e.g. "at most 3")
    can still follow from non-negativity; a full linear-programming audit is not run.

    References
    ----------
    A. Hundepool et al., Statistical Disclosure Control, Wiley, 2012, §4.2–4.3.
    L. H. Cox, "Suppression methodology and statistical disclosure control",
    J. Am. Stat. Assoc. 75 (1980) 377–385. R. E. Tarjan, "A note on finding the
    bridges of a graph", Inf. Process. Lett. 2 (1974) 160–161.

    Examples
    --------
    >>> m = suppress_table([[3, 40, 50], [20, 30, 60]])
    >>> m.cells.astype(int).tolist()
    [[1, 1, 0], [1, 1, 0]]
    >>> m.row_totals.tolist(), m.col_totals.tolist(), m.grand_total
    ([False, False], [False, False, False], False)
    """
    c = as_count_array(table, "table", ndim=2)
    if c.size == 0:
        raise ValueError("table must hold at least one cell.")
    t = _check_threshold(threshold)
    r, k = c.shape
    ext = np.zeros((r + 1, k + 1), dtype=np.int64)
    ext[:r, :k] = c
    ext[:r, k] = c.sum(axis=1)
    ext[r, :k] = c.sum(axis=0)
    ext[r, k] = c.sum()
    mask = _close_cycles(ext, _secondary(ext, _primary(ext, t, withhold_zeros)))
    return TableSuppression(
        cells=mask[:r, :k].copy(),
        row_totals=mask[:r, k].copy(),
        col_totals=mask[r, :k].copy(),
        grand_total=bool(mask[r, k]),
    )
