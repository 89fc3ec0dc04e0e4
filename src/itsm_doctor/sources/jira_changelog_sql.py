"""A large Jira changelog read by DuckDB's JSON reader: the same rows as ``_rows``.

The issues' array is cut into runs of whole elements (``jira_changelog._chunks``), each run
copied into a file of its own as a JSON array, and DuckDB reads those files in parallel with
typed columns (``read_json``, its C++ parser): at 10 M items about a third of the time of
Python's parser in two worker processes, which also had to hand every row back as Arrow.

Every row is the one ``jira_changelog._rows`` makes of the same issue, numbered the same way
(each issue's history items in order, then its comments). Anything the typed reading does not
take as it is — an element that is no object, a null history, item or comment, a value of
another type than the columns say (``"items": {}``), a cut that fell inside an issue, an issue
past ``_MAX_OBJECT`` — raises ``Malformed``, and the caller reads the file one issue at a time
instead, the reference that names what is wrong. One leniency remains: DuckDB's parser lets a
trailing comma pass (``{"key": "A-1",}``), which the reference refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
from duckdb.func import FunctionNullHandling

from itsm_doctor.sources.base import FileReport, IntakeSession, RawTable, sql_str
from itsm_doctor.sources.xes_parse import Malformed

__all__ = ["engine_table"]

_MAX_OBJECT = 64 << 20  # the longest issue DuckDB's reader takes (its buffers are twice this per thread)
_AUTHOR = "STRUCT(displayName VARCHAR, accountId JSON, name VARCHAR)"
_HISTORY = (
    f"STRUCT(id VARCHAR, author {_AUTHOR}, created VARCHAR, "
    'items STRUCT(field VARCHAR, "from" VARCHAR, fromString VARCHAR, "to" VARCHAR, toString VARCHAR)[])'
)
_COMMENT = f"STRUCT(id VARCHAR, author {_AUTHOR}, created VARCHAR, jsdPublic JSON, body JSON)"
_COLUMNS = {
    "issues": {
        "key": "VARCHAR",
        "id": "VARCHAR",
        "changelog": f'STRUCT(histories {_HISTORY}[], "values" {_HISTORY}[])',
        "fields": f"STRUCT(comment STRUCT(comments {_COMMENT}[]))",
    },
    "bulk": {"issueId": "VARCHAR", "changeHistories": f"{_HISTORY}[]"},
}
# (key, id, histories, comments) of each element, as ``jira_changelog._element`` and ``_rows`` see it:
# ``histories or values or []`` (an empty list is falsy), comments under fields.comment
_ISSUE = {
    "issues": (
        "key, id, CASE WHEN len(coalesce(changelog.histories, [])) > 0 THEN changelog.histories "
        'ELSE coalesce(changelog."values", []) END AS hs, coalesce(fields.comment.comments, []) AS cs'
    ),
    "bulk": f"NULL::VARCHAR AS key, issueId AS id, coalesce(changeHistories, []) AS hs, []::{_COMMENT}[] AS cs",
}


# whether an issue's histories, their items or its comments hold a null (Python's reader cannot read it)
_NULL_ELEMENT = (
    "list_contains(list_transform(hs, lambda h: h IS NULL OR "
    "list_contains(list_transform(coalesce(h.items, []), lambda it: it IS NULL), true)), true) "
    "OR list_contains(list_transform(cs, lambda c: c IS NULL), true)"
)


def _falsy(j: str) -> str:
    """Whether a JSON value is false to Python (``x or y`` takes y): false, 0, "", [], {}."""
    return (
        f"({j} IN ('false', '0', '\"\"', '[]', '{{}}') "
        f"OR (json_type({j}) IN ('UBIGINT', 'BIGINT', 'DOUBLE') AND {j}::DOUBLE = 0))"
    )


def _json_text(j: str) -> str:
    """A JSON value as ``jira_changelog._str`` writes it: a string as itself, else its JSON text."""
    return f"CASE WHEN json_type({j}) = 'VARCHAR' THEN {j}->>'$' ELSE {j}::VARCHAR END"


def _account(author: str) -> str:
    """``author.get("accountId") or author.get("name")``."""
    acc = f"{author}.accountId"
    return f"CASE WHEN {acc} IS NULL OR {_falsy(acc)} THEN {author}.name ELSE {_json_text(acc)} END"


def _adf_text(body: str | None) -> str | None:
    """A comment body that is no string (an Atlassian document), as the reference writes it."""
    from itsm_doctor.sources.jira_changelog import _text as text

    return None if body is None else text(json.loads(body))


def _copy_runs(path: Path, runs: list[tuple[int, int]], lead: int, folder: Path) -> list[str]:
    """Each run of whole elements as a JSON array of its own (the separator after it dropped)."""
    files = []
    src = os.open(path, os.O_RDONLY)
    try:
        for i, (offset, length) in enumerate(runs):
            want = length if i == len(runs) - 1 else length - lead
            target = folder / f"part-{i:05d}.json"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, b"[")
                at = offset
                while want > 0:
                    done = os.copy_file_range(src, fd, want, at) if hasattr(os, "copy_file_range") else 0
                    if done <= 0:  # no in-kernel copy here: through a buffer
                        os.write(fd, os.pread(src, want, at))
                        break
                    at += done
                    want -= done
                os.write(fd, b"]")
            finally:
                os.close(fd)
            files.append(str(target))
    finally:
        os.close(src)
    return files


def engine_table(
    session: IntakeSession,
    path: Path,
    rep: FileReport,
    *,
    data: Path,
    shape: str,
    runs: list[tuple[int, int]],
    lead: int,
    header: tuple[str, ...],
) -> RawTable:
    """The rows of the changelog ``path`` (columns ``header``) as a text table, read by DuckDB from
    ``runs`` of its text ``data`` (the file itself, or its decompressed copy): the issues' array cut
    between elements, ``lead`` the separator's length at each cut."""
    import numpy as np
    import pyarrow as pa

    con = session.con
    columns = _COLUMNS["bulk" if shape == "bulk" else "issues"]
    issues, offsets = "_jira_changelog_issue", "_jira_changelog_offsets"
    spec = "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"
    folder: Path | None = None
    try:
        try:
            folder = Path(tempfile.mkdtemp(prefix="jira-changelog-", dir=session.scratch_folder()))
            files = _copy_runs(data, runs, lead, folder)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {issues} AS "
                f"SELECT {_ISSUE['bulk' if shape == 'bulk' else 'issues']} FROM read_json(?, format = 'array', "
                f"records = true, columns = {spec}, maximum_object_size = {_MAX_OBJECT})",
                [files],
            )
        except (duckdb.Error, OSError):
            # not read as typed, whole issues; or no room for the copy: the reference needs none
            raise Malformed from None
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        if shape == "list" and con.execute(f"SELECT count(*) FROM {issues} WHERE key IS NULL").fetchall()[0][0]:
            raise Malformed  # an element without a key: the reference says whether it is an issue
        # each row's number: the issue's first row (the rows of the issues before it), the history's
        # first item (the items before it in its issue); computed over the counts alone (numpy),
        # since ordering 10 M wide rows to number them cost 20 s
        counts = con.sql(
            f"SELECT len(cs) AS comments, list_transform(hs, lambda h: len(coalesce(h.items, []))) AS items, "
            f"coalesce({_NULL_ELEMENT}, false) AS null_element FROM {issues}"
        ).to_arrow_table()
        if counts.column("null_element").to_numpy(zero_copy_only=False).any():
            raise Malformed  # a null history, item or comment: the reference refuses it, and says where
        comments = counts.column("comments").to_numpy().astype(np.int64)
        per_history = counts.column("items").combine_chunks()
        items = per_history.values.to_numpy(zero_copy_only=False).astype(np.int64)
        issue_of = np.repeat(np.arange(len(comments)), np.diff(per_history.offsets.to_numpy()))
        in_issue = np.bincount(issue_of, weights=items, minlength=len(comments)).astype(np.int64)
        comments_before = np.cumsum(comments) - comments
        first_item = np.cumsum(items) - items + comments_before[issue_of]
        first_comment = np.cumsum(in_issue + comments) - comments
        con.register(
            offsets,
            pa.table(
                {
                    "history_first": pa.ListArray.from_arrays(per_history.offsets, pa.array(first_item, pa.int64())),
                    "comment_first": pa.array(first_comment, pa.int64()),
                }
            ),
        )
        del counts, per_history, items, issue_of, in_issue, comments_before, first_item, first_comment
        public = "c.jsdPublic"
        body = "c.body"
        con.create_function(  # may answer NULL (a document without text): "special" NULL handling
            "_jira_adf_text",
            _adf_text,
            ["VARCHAR"],
            "VARCHAR",
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
        try:
            rows = f"""
            SELECT first + generate_subscripts(h.items, 1) AS _row, 'history' AS c0, key AS c1, id AS c2,
                   h.created AS c3, h.author.displayName AS c4, {_account("h.author")} AS c5,
                   unnest(h.items, recursive := true), NULL::VARCHAR AS c11, NULL::VARCHAR AS c12, h.id AS c13
            FROM (SELECT i.key, i.id, unnest(i.hs) AS h, unnest(o.history_first) AS first
                  FROM {issues} i POSITIONAL JOIN {offsets} o)
            UNION ALL BY NAME
            SELECT first + n AS _row, 'comment' AS c0, key AS c1, id AS c2, c.created AS c3,
                   c.author.displayName AS c4, {_account("c.author")} AS c5,
                   CASE WHEN {public} IS NULL THEN NULL WHEN {_falsy(public)} THEN 'false' ELSE 'true' END AS c11,
                   CASE WHEN {body} IS NULL THEN NULL WHEN json_type({body}) = 'VARCHAR' THEN {body}->>'$'
                        ELSE _jira_adf_text({body}::VARCHAR) END AS c12,
                   c.id AS c13
            FROM (SELECT i.key, i.id, unnest(i.cs) AS c, generate_subscripts(i.cs, 1) AS n, o.comment_first AS first
                  FROM {issues} i POSITIONAL JOIN {offsets} o WHERE len(i.cs) > 0)
            """
            # the items' own columns, named as in the JSON, in HEADER's places
            named = {6: "field", 7: "from", 8: "fromString", 9: "to", 10: "toString"}
            select = ", ".join(f'"{named[i]}" AS c{i}' if i in named else f"c{i}" for i in range(len(header)))
            return session.stage_select(path, rep, header=header, select_sql=f"SELECT _row, {select} FROM ({rows})")
        except duckdb.Error:
            raise Malformed from None
        finally:
            con.remove_function("_jira_adf_text")
    finally:
        con.unregister(offsets)
        con.execute(f"DROP TABLE IF EXISTS {issues}")
