"""Control data.training-files: no fine-tuning training, validation or result file is left on an account once
every job that uses it is terminal and its retention has passed (files no job uses: `orphan_retention_days`
after upload). Files of a pending, queued, validating or running job are never touched (docs/ai.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from remediators.delete_training_file import DeleteTrainingFile
from warden.control import DEPLOYMENT_WRITTEN, Control, EventRoute, Fact, Facts, param
from warden.model import Exemption, Finding, Json
from warden.params_ai import days_or_zero, file_exemptions
from warden.training import describe, exemption_for, is_fine_tuned, leftovers


@dataclass(frozen=True)
class Params:
    retention_days: int = field(
        default=0, metadata=param(days_or_zero, "days a file is kept after its last job ends (0: delete at once)")
    )
    orphan_retention_days: int = field(
        default=30, metadata=param(days_or_zero, "days a file no job references is kept after its upload")
    )
    exempt_files: tuple[Exemption, ...] = field(
        default=(),
        metadata=param(file_exemptions, "files kept anyway: file id or filename glob, reason, owner, expires"),
    )


def detect(facts: Facts, params: Params) -> list[Finding]:
    account = facts.account
    data = facts.training
    if data is None:
        summary = "ARM names no data-plane endpoint for the account, so its fine-tuning files cannot be checked"
        return [Finding(CONTROL.id, account.resource_id, summary, {"endpoint": None}, {"endpoint": "set"})]
    retention, orphans = timedelta(days=params.retention_days), timedelta(days=params.orphan_retention_days)
    findings = []
    for left in leftovers(data, facts.now, retention, orphans):
        file = left.file
        why = f"its jobs ended by {left.since:%Y-%m-%d}" if left.jobs else f"no job uses it since {left.since:%Y-%m-%d}"
        summary = f"leftover fine-tuning file {file.file_id} ({file.filename}, {file.purpose}): {why}"
        expected: dict[str, Json] = {"deleted": True, "retainedUntil": left.kept_until.isoformat()}
        step = DeleteTrainingFile.of(data.endpoint, file.file_id, file.filename)
        exemption = exemption_for(file, params.exempt_files, facts.now)
        findings.append(
            Finding(CONTROL.id, account.resource_id, summary, describe(left), expected, (step,), exemption=exemption)
        )
    return findings


def _fine_tuned_deployment(facts: Facts, deployment_id: str) -> bool:
    """A finished job is usually followed by a deployment of its model: that write re-checks the files."""
    return any(d.resource_id.lower() == deployment_id.lower() and is_fine_tuned(d) for d in facts.deployments)


CONTROL = Control(
    id="data.training-files",
    summary="no fine-tuning file left once its jobs are terminal and the retention has passed",
    params=Params,
    routes=(
        EventRoute(
            DEPLOYMENT_WRITTEN.event_type,
            DEPLOYMENT_WRITTEN.operation,
            only_if=_fine_tuned_deployment,
            condition="the deployment serves a fine-tuned model",
        ),
    ),
    facts=frozenset({Fact.ACCOUNT, Fact.TRAINING, Fact.DEPLOYMENTS}),
    steps=(DeleteTrainingFile,),
    detect=detect,
)
