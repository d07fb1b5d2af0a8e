"""Masked forms of protected columns, as DuckDB SQL over the raw column.

Masking happens inside the gateway's view, before any user SQL sees the column, so filters,
joins and error messages only ever meet masked values. The string forms follow common
practice in Chinese government systems (and the demo's output): a resident ID keeps its
division code and last four characters (340104********1234), a mobile number its first
three and last four (138****5678), any other text its first character (张**). Every other
type becomes NULL of the same type: a shifted date or rounded amount would look like data.
"""

from __future__ import annotations

from exhub.contracts.models import FieldSpec, SemanticType


def quoted(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _keep_ends(column: str, head: int, tail: int) -> str:
    hidden = f"length({column}) - {head + tail}"
    return (
        f"CASE WHEN length({column}) > {head + tail} "
        f"THEN left({column}, {head}) || repeat('*', {hidden}) || right({column}, {tail}) "
        f"ELSE repeat('*', length({column})) END"
    )


def masked_sql(field: FieldSpec) -> str:
    """SQL computing the masked value of ``field`` (NULL stays NULL), named after it."""
    return f"{mask_expression(field)} AS {quoted(field.name)}"


def raw_where_sql(field: FieldSpec, any_of: str) -> str:
    """``field`` raw in the rows where the condition ``any_of`` holds, masked in the others."""
    column = quoted(field.name)
    return f"CASE WHEN {any_of} THEN {column} ELSE {mask_expression(field)} END AS {column}"


def mask_expression(field: FieldSpec) -> str:
    """SQL computing the masked value of ``field`` (NULL stays NULL)."""
    column = quoted(field.name)
    if field.type != "string":
        expression = f"CASE WHEN false THEN {column} END"  # NULL of the column's own type
    elif field.semantic is SemanticType.CN_RESIDENT_ID:
        expression = _keep_ends(column, 6, 4)
    elif field.semantic is SemanticType.CN_MOBILE:
        expression = _keep_ends(column, 3, 4)
    else:
        expression = f"left({column}, 1) || repeat('*', length({column}) - 1)"
    return expression


def guarded(condition: str) -> str:
    """``condition`` as it runs in a view: inside TRY, so an error becomes NULL (false).

    The condition sees raw values. Without TRY, a cast that fails (``CAST(name AS INT)``),
    a comparison that casts a text column, or ``error(name)`` would put a masked column's
    raw value into the error message of the department's query. TRY also refuses volatile
    functions when the request is checked.
    """
    return f"TRY(({condition}))"
