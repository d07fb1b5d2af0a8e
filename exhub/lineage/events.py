"""Build a run's OpenLineage ``RunEvent``: the source table or files in, the Iceberg dataset out.

Naming (never a secret; user names and passwords are dropped from every address):

* job: namespace ``$OPENLINEAGE_NAMESPACE`` (default ``exhub``), name ``<source>.<stream>``;
* input: namespace ``<connector>:<connector.describe()>``, e.g.
  ``sql:postgresql+psycopg2://db.example:5432/hukou``; name the table or file glob;
* output: namespace the warehouse (``file:///.../warehouse`` or ``s3://...``), name the Iceberg
  identifier (``population.person``).

Facets: the schema of both sides (the source columns the mapping reads; the contract's fields),
column lineage from the mapping, and data quality: rows extracted, published and quarantined,
the failed rows per rule and the dataset rules (gates) as assertions.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.base import RunFacet
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
)
from openlineage.client.generated.data_quality_assertions_dataset import (
    Assertion,
    DataQualityAssertionsDatasetFacet,
)
from openlineage.client.generated.data_quality_metrics_dataset import (
    DataQualityMetricsDatasetFacet,
)
from openlineage.client.generated.data_quality_metrics_input_dataset import (
    DataQualityMetricsInputDatasetFacet,
)
from openlineage.client.generated.documentation_job import DocumentationJobFacet
from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
from openlineage.client.generated.input_statistics_input_dataset import (
    InputStatisticsInputDatasetFacet,
)
from openlineage.client.generated.job_type_job import JobTypeJobFacet
from openlineage.client.generated.output_statistics_output_dataset import (
    OutputStatisticsOutputDatasetFacet,
)
from openlineage.client.generated.parent_run import Job as ParentJob
from openlineage.client.generated.parent_run import ParentRunFacet
from openlineage.client.generated.parent_run import Run as ParentRun
from openlineage.client.generated.schema_dataset import (
    SchemaDatasetFacet,
    SchemaDatasetFacetFields,
)

from exhub import __version__

if TYPE_CHECKING:
    from exhub.engine.run import RunPlan
    from exhub.lineage.emit import Parent
    from exhub.sources import SourceConfig

PRODUCER = f"urn:exhub:{__version__}"
DEFAULT_NAMESPACE = "exhub"
_USERINFO = re.compile(r"://[^/@\s]*@")
_RUN_NAMESPACE = uuid.UUID("6f0a3c8e-5b1d-4c2e-9a77-2f6d1e0b4c11")


@attr.define
class ExhubRunFacet(RunFacet):
    """exhub's own view of the run: its catalog id and counts (custom facet ``exhub_run``)."""

    runId: str
    sourceId: str
    stream: str
    dataset: str
    status: str
    extractedRows: int = 0
    publishedRows: int = 0
    quarantinedRows: int = 0
    ruleCounts: dict[str, int] = attr.field(factory=dict)
    _additional_skip_redact: ClassVar[list[str]] = ["runId", "sourceId", "stream", "dataset"]

    @staticmethod
    def _get_schema() -> str:
        return "urn:exhub:facet:ExhubRunFacet:1"


def lineage_run_id(run_id: str) -> str:
    """The OpenLineage run id (a UUID) of an exhub run id; the same in every process."""
    return str(uuid.uuid5(_RUN_NAMESPACE, run_id))


def job_namespace() -> str:
    """Namespace of exhub's lineage jobs."""
    return os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_NAMESPACE


def source_namespace(source: SourceConfig) -> str:
    """``<connector>:<describe()>`` of the source, without user name or password.

    Building the connector resolves its secret references but opens no connection; when that
    fails (e.g. a connection id unknown outside Airflow) the source id stands in.
    """
    from connectors import load_connector
    from exhub.sources.secrets import resolve_references

    try:
        options = resolve_references(source.options, where=f"{source.id}.options")
        connector = load_connector(source.connector).from_options(options, where=source.id)
        try:
            text = connector.describe()
        finally:
            connector.close()
    except Exception:
        text = f"//{source.id}"
    text = _USERINFO.sub("://", text.strip())
    if text.startswith(f"{source.connector} "):
        text = text[len(source.connector) + 1 :]
    return f"{source.connector}:{text}"


def source_object_name(source: SourceConfig, source_object: str) -> str:
    """The table (``schema.table`` when the source names a schema) or the file glob."""
    schema = source.options.get("schema")
    return f"{schema}.{source_object}" if isinstance(schema, str) and schema else source_object


def warehouse_namespace(plan: RunPlan) -> str:
    """The warehouse as a URI: ``file:///...`` for a local folder, else the configured URI."""
    configured = plan.hub.settings.warehouse
    if "://" in configured:
        return configured.rstrip("/")
    return Path(plan.hub.settings.warehouse_path).resolve().as_uri()


def _counts(plan: RunPlan) -> dict[str, Any]:
    summary = plan.summary
    counts: dict[str, Any] = {
        "status": summary.status,
        "extracted": summary.extracted,
        "published": summary.published,
        "quarantined": summary.quarantined,
        "rule_counts": dict(summary.rule_counts),
        "gates": list(summary.gates),
    }
    try:
        record = plan.hub.repository.get_run(plan.run_id)
    except Exception:  # the catalog is the run's concern, not lineage's
        record = None
    if record is not None:
        # A task of a multi-task run only knows its own stage; the catalog knows them all.
        counts["extracted"] = counts["extracted"] or record.extracted_rows
        counts["published"] = counts["published"] or record.published_rows
        counts["quarantined"] = counts["quarantined"] or record.quarantined_rows
        counts["rule_counts"] = counts["rule_counts"] or dict(record.rule_counts)
        counts["gates"] = counts["gates"] or list(record.gate_results)
    return counts


def _input_dataset(plan: RunPlan, namespace: str, counts: dict | None) -> InputDataset:
    columns = [m.from_ for m in plan.stream.mapping.values() if m.from_]
    facets: dict[str, Any] = {
        "schema": SchemaDatasetFacet(
            producer=PRODUCER,
            fields=[SchemaDatasetFacetFields(name=c) for c in dict.fromkeys(columns)],
        )
    }
    input_facets: dict[str, Any] = {}
    if counts is not None:
        input_facets["inputStatistics"] = InputStatisticsInputDatasetFacet(
            producer=PRODUCER, rowCount=counts["extracted"]
        )
        input_facets["dataQualityMetrics"] = DataQualityMetricsInputDatasetFacet(
            producer=PRODUCER, columnMetrics={}, rowCount=counts["extracted"]
        )
        assertions = [
            Assertion(
                assertion=rule,
                success=failed == 0,
                severity="warn",
                actual=str(failed),
                expected="0",
                description=f"rows failing row rule {rule} (quarantined)",
            )
            for rule, failed in sorted(counts["rule_counts"].items())
        ]
        assertions += [
            Assertion(
                assertion=str(gate.get("rule")),
                success=bool(gate.get("passed")),
                severity="error",
                description=str(gate.get("detail") or "dataset rule (gates the publish)"),
            )
            for gate in counts["gates"]
        ]
        input_facets["dataQualityAssertions"] = DataQualityAssertionsDatasetFacet(
            producer=PRODUCER, assertions=assertions
        )
    return InputDataset(
        namespace=namespace,
        name=source_object_name(plan.source, plan.stream.source),
        facets=facets,
        inputFacets=input_facets,
    )


def _output_dataset(
    plan: RunPlan, input_namespace: str, input_name: str, counts: dict | None
) -> OutputDataset:
    contract = plan.contract
    facets: dict[str, Any] = {
        "schema": SchemaDatasetFacet(
            producer=PRODUCER,
            fields=[
                SchemaDatasetFacetFields(name=f.name, type=f.type, description=f.description.en)
                for f in contract.fields
            ],
        ),
        "columnLineage": ColumnLineageDatasetFacet(
            producer=PRODUCER,
            fields={
                target: Fields(
                    inputFields=[
                        InputField(namespace=input_namespace, name=input_name, field=m.from_)
                    ],
                    transformationType="IDENTITY" if not m.map else "TRANSFORMATION",
                    transformationDescription="conformed to the shared schema",
                )
                for target, m in plan.stream.mapping.items()
                if m.from_
            },
        ),
    }
    output_facets: dict[str, Any] = {}
    if counts is not None:
        facets["dataQualityMetrics"] = DataQualityMetricsDatasetFacet(
            producer=PRODUCER, columnMetrics={}, rowCount=counts["published"]
        )
        output_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
            producer=PRODUCER, rowCount=counts["published"]
        )
    return OutputDataset(
        namespace=warehouse_namespace(plan),
        name=".".join(contract.iceberg_identifier),
        facets=facets,
        outputFacets=output_facets,
    )


def run_event(
    plan: RunPlan,
    state: str,
    *,
    error: BaseException | None = None,
    parent: Parent | None = None,
) -> RunEvent:
    """The OpenLineage event of ``plan`` in ``state`` (START, RUNNING, COMPLETE, FAIL)."""
    event_type = RunState(state)
    counts = None if event_type is RunState.START else _counts(plan)
    input_namespace = source_namespace(plan.source)
    inputs = [_input_dataset(plan, input_namespace, counts)]
    outputs = [_output_dataset(plan, input_namespace, inputs[0].name, counts)]
    summary = plan.summary
    run_facets: dict[str, Any] = {
        "exhub_run": ExhubRunFacet(
            runId=plan.run_id,
            sourceId=plan.source.id,
            stream=plan.stream.name,
            dataset=plan.contract.name,
            status=(counts or {}).get("status") or summary.status,
            extractedRows=(counts or {}).get("extracted", 0),
            publishedRows=(counts or {}).get("published", 0),
            quarantinedRows=(counts or {}).get("quarantined", 0),
            ruleCounts=(counts or {}).get("rule_counts", {}),
            producer=PRODUCER,
        )
    }
    if error is not None:
        run_facets["errorMessage"] = ErrorMessageRunFacet(
            producer=PRODUCER,
            message=f"{type(error).__name__}: {error}"[:4000],
            programmingLanguage="python",
        )
    if parent is not None:
        run_facets["parent"] = ParentRunFacet(
            producer=PRODUCER,
            run=ParentRun(runId=str(uuid.uuid5(_RUN_NAMESPACE, parent.run_key))),
            job=ParentJob(namespace=parent.namespace, name=parent.job_name),
        )
    source = plan.source
    job = Job(
        namespace=job_namespace(),
        name=f"{source.id}.{plan.stream.name}",
        facets={
            "jobType": JobTypeJobFacet(
                producer=PRODUCER, processingType="BATCH", integration="EXHUB", jobType="SYNC"
            ),
            "documentation": DocumentationJobFacet(
                producer=PRODUCER,
                description=(
                    f"{source.department.name} · {source.system}: {plan.stream.source} → "
                    f"{plan.contract.name}@{plan.contract.version}"
                ),
            ),
        },
    )
    return RunEvent(
        eventType=event_type,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=lineage_run_id(plan.run_id), facets=run_facets),
        job=job,
        inputs=inputs,
        outputs=outputs,
        producer=PRODUCER,
    )
