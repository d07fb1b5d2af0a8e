"""Great Expectations: a suite generated from the contract, run on each run's conformed rows.

exhub's own vectorized rules decide what goes to quarantine (every row, at extract speed).
GX re-checks the same contract independently on the run's conformed rows (up to
``gx_max_rows``) and its result is kept for auditors as JSON and HTML.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exhub.contracts.models import Contract
from exhub.validate.gx_import import import_gx

COMPUTED_SUFFIX = "__ok"
# A double keeps the order of decimals of up to 15 significant digits (DBL_DIG): distinct
# values stay distinct and none crosses a bound. Such columns reach GX as floats, which it
# compares natively; as Python Decimals they are slower to convert and compare, and GX
# inspects the whole call stack for every Decimal it serializes in a result.
FLOAT_EXACT_PRECISION = 15
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
logging.getLogger("great_expectations").setLevel(logging.WARNING)


def computed_rule_ids(contract: Contract) -> list[str]:
    """Rules GX checks through a flag column computed by exhub (check digits, casts)."""
    ids = []
    for spec in contract.fields:
        ids.append(f"{spec.name}.type")
        if spec.semantic is not None:
            ids.append(f"{spec.name}.{spec.semantic.value}")
    return ids


def suite_table(
    values: pa.Table,
    computed: Iterable[str],
    failed: Mapping[str, pa.Array],
    columns: Iterable[str],
) -> pa.Table:
    """What GX validates, in Arrow: the conformed ``columns`` the suite reads, and flags.

    Each rule of ``computed`` (``computed_rule_ids``) becomes a ``<rule>__ok`` column: False
    where its mask in ``failed`` is True, True everywhere else (and where it has no mask).
    Columns no expectation reads are left out: GX converts and fingerprints every column of
    the frame, which on 50,000 rows of the person register cost 0.2 s of its 0.5.
    """
    values = values.select([name for name in columns if name in values.column_names])
    for index, field in enumerate(values.schema):
        if pa.types.is_decimal(field.type) and field.type.precision <= FLOAT_EXACT_PRECISION:
            values = values.set_column(index, field.name, pc.cast(values[index], pa.float64()))
    everywhere = pa.array(np.ones(values.num_rows, bool))
    for rule_id in computed:
        mask = failed.get(rule_id)
        ok = everywhere if mask is None else pc.invert(pc.fill_null(mask, False))
        values = values.append_column(rule_id + COMPUTED_SUFFIX, ok)
    return values


def expectation_specs(contract: Contract) -> list[tuple[str, dict[str, Any]]]:
    """The generated suite as (GX expectation class name, arguments), GX not imported."""
    specs: list[tuple[str, dict[str, Any]]] = [
        (
            "ExpectColumnValuesToBeInSet",
            {
                "column": rule_id + COMPUTED_SUFFIX,
                "value_set": [True],
                "meta": {"rule_id": rule_id},
            },
        )
        for rule_id in computed_rule_ids(contract)
    ]
    for spec in contract.fields:
        if spec.required:
            specs.append(
                (
                    "ExpectColumnValuesToNotBeNull",
                    {"column": spec.name, "meta": {"rule_id": f"{spec.name}.required"}},
                )
            )
        if spec.values:
            specs.append(
                (
                    "ExpectColumnValuesToBeInSet",
                    {
                        "column": spec.name,
                        "value_set": list(spec.values),
                        "meta": {"rule_id": f"{spec.name}.values"},
                    },
                )
            )
        if spec.pattern:
            specs.append(
                (
                    "ExpectColumnValuesToMatchRegex",
                    {
                        "column": spec.name,
                        "regex": spec.pattern,
                        "meta": {"rule_id": f"{spec.name}.pattern"},
                    },
                )
            )
        if spec.range and (
            spec.type in {"int", "long", "double"} or spec.type.startswith("decimal")
        ):
            specs.append(
                (
                    "ExpectColumnValuesToBeBetween",
                    {
                        "column": spec.name,
                        "min_value": spec.range.min,
                        "max_value": spec.range.max,
                        "meta": {"rule_id": f"{spec.name}.range"},
                    },
                )
            )
    if len(contract.primary_key) == 1:
        unique = ("ExpectColumnValuesToBeUnique", {"column": contract.primary_key[0]})
    else:
        unique = ("ExpectCompoundColumnsToBeUnique", {"column_list": list(contract.primary_key)})
    unique[1]["meta"] = {"rule_id": "unique_key"}
    specs.append(unique)
    return specs


def suite_columns(contract: Contract) -> list[str]:
    """The conformed columns the generated suite reads (flag columns not included)."""
    names: list[str] = []
    for _, kwargs in expectation_specs(contract):
        for name in [kwargs.get("column"), *kwargs.get("column_list", ())]:
            if name and not name.endswith(COMPUTED_SUFFIX) and name not in names:
                names.append(name)
    return names


def build_suite(contract: Contract, available: set[str]) -> Any:
    """The GX ExpectationSuite for a contract (flag columns only where ``available``)."""
    gx = import_gx()
    suite = gx.ExpectationSuite(name=f"{contract.name}.v{contract.version}")
    for class_name, kwargs in expectation_specs(contract):
        column = kwargs.get("column", "")
        if column.endswith(COMPUTED_SUFFIX) and column not in available:
            continue
        suite.add_expectation(getattr(gx.expectations, class_name)(**kwargs))
    return suite


def sample_columns(contract: Contract) -> frozenset[str]:
    """The columns of a sample of the contract's rows (``suite_table``'s, flags included)."""
    flags = [rule_id + COMPUTED_SUFFIX for rule_id in computed_rule_ids(contract)]
    return frozenset([*suite_columns(contract), *flags])


class PreparedSuite:
    """The suite with its GX context, ready to validate a frame of the given columns.

    Made before the sample is complete where the suite has a process of its own: setting up
    the context, data source and suite costs 0.04-0.08 s that then is not waited for.
    """

    def __init__(self, contract: Contract, columns: frozenset[str]) -> None:
        gx = import_gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.columns = columns
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.analytics_enabled = False
        source = context.data_sources.add_pandas("exhub")
        asset = source.add_dataframe_asset(contract.name)
        batch_definition = asset.add_batch_definition_whole_dataframe("run")
        suite = context.suites.add(build_suite(contract, set(columns)))
        # A validation definition loads the batch once; ``get_batch().validate()`` loads it
        # twice, fingerprinting the whole frame each time.
        self._validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
        )

    def run(self, frame: pd.DataFrame) -> dict:
        """Validate ``frame``; the JSON-ready GX result."""
        # BASIC: counts and a few unexpected values. Failing rows with their source positions
        # are in the quarantine (all of them) and in the report's examples; asking GX for its
        # index lists made serializing its result cost more than validating.
        result = self._validation.run(
            batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT
        )
        return result.to_json_dict()


def run_suite(
    contract: Contract, frame: pd.DataFrame, prepared: PreparedSuite | None = None
) -> dict:
    """Validate ``frame`` with the generated suite (``prepared`` if made for its columns)."""
    if prepared is None or prepared.columns != frozenset(frame.columns):
        prepared = PreparedSuite(contract, frozenset(frame.columns))
    return prepared.run(frame)
