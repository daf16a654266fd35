"""Step kind training-file.delete: DELETE one leftover fine-tuning file from an account's data plane.

Right before the DELETE the jobs are listed again: a file that a job started using since it was judged
leftover (a new job reusing a finished job's training data) is kept. A file already gone counts as deleted.
Each file is an action of its own (`alone`), so every deletion counts against the per-run and hourly caps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from warden.errors import AzureError
from warden.model import Json
from warden.ports import Ports
from warden.steps import Step, Verify
from warden.training import active_users


@dataclass(frozen=True)
class DeleteTrainingFile:
    """DELETE `{endpoint}/openai/.../files/{file_id}`; `target` is that file's URL. Files carry no etag."""

    kind: ClassVar[str] = "training-file.delete"
    order: ClassVar[int] = 30
    permissions: ClassVar[tuple[str, ...]] = (
        "Microsoft.CognitiveServices/accounts/OpenAI/files/delete",
        "Microsoft.CognitiveServices/accounts/OpenAI/fine-tunes/read",
    )
    merges: ClassVar[bool] = False
    # The service's answer proves it (deleted, or already gone); re-listing every file per deletion would not.
    verify: ClassVar[Verify] = Verify.RESPONSE
    alone: ClassVar[bool] = True

    target: str
    endpoint: str
    file_id: str
    filename: str = ""
    etag: None = None

    @classmethod
    def of(cls, endpoint: str, file_id: str, filename: str) -> DeleteTrainingFile:
        return cls(f"{endpoint.rstrip('/')}/openai/files/{file_id}", endpoint, file_id, filename)

    def merge(self, other: Step) -> DeleteTrainingFile:
        raise TypeError(f"{self.kind} steps do not merge")

    def change(self) -> dict[str, Json]:
        return {"file": {"before": f"{self.file_id} ({self.filename})", "after": "deleted"}}

    def to_json(self) -> dict[str, Json]:
        return {
            "kind": self.kind,
            "target": self.target,
            "endpoint": self.endpoint,
            "fileId": self.file_id,
            "filename": self.filename,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Json]) -> DeleteTrainingFile:
        return cls(str(data["target"]), str(data["endpoint"]), str(data["fileId"]), str(data.get("filename") or ""))

    def apply(self, ports: Ports, etag: str | None) -> str | None:
        port = ports.training_port()
        users = active_users(self.file_id, port.list_jobs(self.endpoint))
        if users:
            held = ", ".join(f"{job.job_id} ({job.status})" for job in users)
            raise AzureError(f"kept {self.file_id}: since it was judged leftover, job {held} started using it")
        port.delete_file(self.endpoint, self.file_id)
        return None
