"""The Azure OpenAI side of the engine's value types: deployments and the RAI policies (content filters) they
use on the ARM plane, fine-tuning files and jobs on the data plane. SDK models and REST bodies become these in
warden/azure/, once. A file's content never travels in these types: only its metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from warden.model import Json

#: Fine-tuning job states after which a job never reads its files again.
TERMINAL_JOB_STATES = frozenset({"succeeded", "failed", "cancelled"})
#: States in which a job reads (or is about to read) its files: they are never touched then. Any state not in
#: TERMINAL_JOB_STATES is treated so, these and any the service adds later.
ACTIVE_JOB_STATES = frozenset({"created", "pending", "queued", "validating_files", "running"})
#: The purposes of the files fine-tuning leaves behind (training and validation data, result metrics).
TRAINING_PURPOSES = ("fine-tune", "fine-tune-results")


@dataclass(frozen=True)
class TrainingFile:
    """A file of the account's data plane, metadata only (`GET /files`): never its content."""

    file_id: str
    filename: str
    purpose: str
    bytes: int | None
    created_at: datetime
    status: str | None = None


@dataclass(frozen=True)
class FineTuningJob:
    """A fine-tuning job and the files it references (`GET /fine_tuning/jobs`)."""

    job_id: str
    status: str  # lower-cased
    created_at: datetime | None
    finished_at: datetime | None
    training_file: str | None
    validation_file: str | None = None
    result_files: tuple[str, ...] = ()
    fine_tuned_model: str | None = None

    @property
    def file_ids(self) -> frozenset[str]:
        """Every file the job references: training, validation and results."""
        named = (self.training_file, self.validation_file, *self.result_files)
        return frozenset(f for f in named if f)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATES


@dataclass(frozen=True)
class TrainingData:
    """What the data plane says about an account's fine-tuning: its training files and every job (all pages)."""

    endpoint: str
    files: tuple[TrainingFile, ...]
    jobs: tuple[FineTuningJob, ...]


@dataclass(frozen=True)
class ContentFilter:
    """One entry of a RAI policy's `contentFilters`, as ARM names it."""

    name: str
    enabled: bool | None
    blocking: bool | None
    source: str | None
    severity_threshold: str | None = None


@dataclass(frozen=True)
class RaiPolicy:
    """A RAI policy (content filter configuration) of an account. `properties` is the ARM JSON as read, so
    that a copy keeps every setting exactly, including ones this code does not know."""

    resource_id: str
    name: str
    type: str | None  # UserManaged | SystemManaged (read-only; SystemManaged policies are never changed)
    properties: Mapping[str, Json]
    tags: Mapping[str, str] = field(default_factory=dict)
    etag: str | None = None

    @property
    def system_managed(self) -> bool:
        return (self.type or "").lower() == "systemmanaged"

    @property
    def content_filters(self) -> tuple[ContentFilter, ...]:
        raw = self.properties.get("contentFilters")
        out: list[ContentFilter] = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, Mapping):
                out.append(_content_filter(item))
        return tuple(out)


def _content_filter(item: Mapping[str, Json]) -> ContentFilter:
    def flag(name: str) -> bool | None:
        value = item.get(name)
        return value if isinstance(value, bool) else None

    def text(name: str) -> str | None:
        value = item.get(name)
        return value if isinstance(value, str) else None

    return ContentFilter(
        str(item.get("name") or ""), flag("enabled"), flag("blocking"), text("source"), text("severityThreshold")
    )


@dataclass(frozen=True)
class Deployment:
    """A model deployment of an account, reduced to what the controls judge; its full ARM JSON is re-read
    right before a PUT, so that every other field goes back exactly as it was."""

    resource_id: str
    name: str
    rai_policy_name: str | None
    model_name: str | None = None
    model_format: str | None = None
    model_version: str | None = None
    etag: str | None = None
    provisioning_state: str | None = None
