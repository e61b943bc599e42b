"""An HfApi that records uploads instead of sending them (shared by the publish and licence tests)."""

from __future__ import annotations

from huggingface_hub import HfApi


class RecordingApi(HfApi):
    """Records create_repo / create_commit instead of sending them; any other endpoint fails the test."""

    def __init__(self) -> None:
        super().__init__(endpoint="http://127.0.0.1:9", token="hf_recording")
        self.calls: list[tuple] = []

    def create_repo(self, repo_id, **kwargs):  # type: ignore[override]
        self.calls.append(("create_repo", repo_id, kwargs))
        return f"http://127.0.0.1:9/datasets/{repo_id}"

    def create_commit(self, repo_id, operations, **kwargs):  # type: ignore[override]
        self.calls.append(("create_commit", repo_id, list(operations), kwargs))
        return f"commit{len(self.calls)}"

    def __getattribute__(self, name):
        allowed = {"create_repo", "create_commit", "calls", "uploaded", "__dict__", "__class__", "endpoint",
                   "token"}
        if not name.startswith("_") and name not in allowed and callable(object.__getattribute__(self, name)):
            raise AssertionError(f"unexpected HfApi.{name} call")
        return object.__getattribute__(self, name)

    def uploaded(self) -> list[str]:
        return [op.path_in_repo for c in self.calls if c[0] == "create_commit" for op in c[2]]
