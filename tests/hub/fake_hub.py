"""An in-memory Hugging Face Hub behind huggingface_hub's HTTP client, for offline tests of pushes.

Only the HTTP boundary is replaced: ``huggingface_hub.set_client_factory`` gets a client whose transport
answers the Hub endpoints that ``create_repo``, ``create_branch``, ``upload_folder`` and ``create_commit``
(preupload + commit, to model and dataset repositories) and ``snapshot_download`` (revision info + file
resolve) use. Everything above the transport (commit
payloads, hashing, the on-disk cache layout) is huggingface_hub's own code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx2
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results
from huggingface_hub.utils import _http

ENDPOINT = "https://hub.invalid"


@dataclass
class Commit:
    """One commit received by the fake Hub."""

    repo_id: str
    revision: str
    sha: str
    summary: str
    files: dict[str, bytes]
    repo_type: str = "model"


@dataclass
class FakeHub:
    """Repositories, branches and commits held in memory."""

    repos: dict[str, dict[str, str]] = field(default_factory=dict)  # repo -> branch -> commit sha
    private: dict[str, bool] = field(default_factory=dict)
    trees: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit sha -> files
    commits: list[Commit] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)
    validated_cards: list[str] = field(default_factory=list)
    invalid_cards: list[str] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path, method = request.url.path, request.method
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(request.content))
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(request.content)["content"])
        if match := re.fullmatch(r"/api/(?:models|datasets)/([^/]+/[^/]+)/branch/(.+)", path):
            return self._create_branch(match[1], match[2])
        if match := re.fullmatch(r"/api/(?:models|datasets)/([^/]+/[^/]+)/preupload/(.+)", path):
            files = json.loads(request.content)["files"]
            return httpx2.Response(
                200,
                json={"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
            )
        if match := re.fullmatch(r"/api/(models|datasets)/([^/]+/[^/]+)/commit/(.+)", path):
            return self._commit(match[2], match[3], request.content, repo_type=match[1].removesuffix("s"))
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/revision/(.+)", path):
            return self._revision_info(match[1], match[2])
        if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)", path):
            return self._tree(match[1], match[2])
        if match := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
            return self._resolve(match[1], match[2], match[3], method)
        self.unhandled.append(f"{method} {request.url}")
        return httpx2.Response(404, json={"error": f"fake hub does not serve {method} {path}"})

    def _create_repo(self, payload: dict) -> httpx2.Response:
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
        if repo_id not in self.repos:
            sha = hashlib.sha1(f"init {repo_id}".encode()).hexdigest()
            self.trees[sha] = {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"}
            self.repos[repo_id] = {"main": sha}
            self.private[repo_id] = bool(payload.get("private")) or payload.get("visibility") == "private"
            return httpx2.Response(200, json={"url": f"{ENDPOINT}/{repo_id}", "name": repo_id})
        return httpx2.Response(
            409, json={"error": "You already created this model repo", "url": f"{ENDPOINT}/{repo_id}"}
        )

    def _validate_yaml(self, content: str) -> httpx2.Response:
        """What the Hub checks that we can check offline: the card metadata parses and its model-index is valid."""
        try:
            card = ModelCard(content)
            if card.data.eval_results is not None:
                model_index_to_eval_results(eval_results_to_model_index(card.data.model_name, card.data.eval_results))
        except Exception as error:  # the Hub answers 400 with the reason
            self.invalid_cards.append(str(error))
            return httpx2.Response(400, json={"errors": [{"message": str(error)}]})
        self.validated_cards.append(content)
        return httpx2.Response(200, json={"errors": [], "warnings": []})

    def _create_branch(self, repo_id: str, branch: str) -> httpx2.Response:
        branches = self.repos[repo_id]
        if branch in branches:
            return httpx2.Response(409, json={"error": f"Reference {branch} already exists"})
        branches[branch] = branches["main"]
        return httpx2.Response(200, json={})

    def _commit(self, repo_id: str, revision: str, body: bytes, *, repo_type: str) -> httpx2.Response:
        revision = httpx2.URL("/" + revision).path[1:]
        parent = self.repos[repo_id][revision]
        files = dict(self.trees[parent])
        summary = ""
        for line in body.decode().splitlines():
            entry = json.loads(line)
            if entry["key"] == "header":
                summary = entry["value"]["summary"]
            elif entry["key"] == "file":
                files[entry["value"]["path"]] = base64.b64decode(entry["value"]["content"])
            elif entry["key"] == "deletedFile":
                files.pop(entry["value"]["path"], None)
            else:
                return httpx2.Response(400, json={"error": f"fake hub cannot take {entry['key']} operations"})
        sha = hashlib.sha1(parent.encode() + body).hexdigest()
        self.trees[sha] = files
        self.repos[repo_id][revision] = sha
        self.commits.append(Commit(repo_id, revision, sha, summary, {k: v for k, v in files.items()}, repo_type))
        return httpx2.Response(
            200, json={"commitOid": sha, "commitUrl": f"{ENDPOINT}/{repo_id}/commit/{sha}", "success": True}
        )

    def _sha(self, repo_id: str, revision: str) -> str | None:
        if repo_id not in self.repos:
            return None
        revision = httpx2.URL("/" + revision).path[1:]
        return self.repos[repo_id].get(revision) or (revision if revision in self.trees else None)

    def _revision_info(self, repo_id: str, revision: str) -> httpx2.Response:
        sha = self._sha(repo_id, revision)
        if sha is None:
            return httpx2.Response(404, headers={"X-Error-Code": "RevisionNotFound"}, json={"error": "not found"})
        siblings = [{"rfilename": name, "size": len(data)} for name, data in sorted(self.trees[sha].items())]
        return httpx2.Response(
            200, json={"id": repo_id, "modelId": repo_id, "sha": sha, "siblings": siblings, "private": False}
        )

    def _tree(self, repo_id: str, revision: str) -> httpx2.Response:
        sha = self._sha(repo_id, revision)
        if sha is None:
            return httpx2.Response(404, headers={"X-Error-Code": "RevisionNotFound"}, json={"error": "not found"})
        entries = [
            {"type": "file", "path": name, "size": len(data), "oid": _git_blob_sha(data)}
            for name, data in sorted(self.trees[sha].items())
        ]
        return httpx2.Response(200, json=entries)

    def _resolve(self, repo_id: str, revision: str, filename: str, method: str) -> httpx2.Response:
        sha = self._sha(repo_id, revision)
        if sha is None or filename not in self.trees[sha]:
            return httpx2.Response(404, headers={"X-Error-Code": "EntryNotFound"}, json={"error": "not found"})
        data = self.trees[sha][filename]
        headers = {
            "X-Repo-Commit": sha,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Content-Length": str(len(data)),
        }
        return httpx2.Response(200, headers=headers, content=b"" if method == "HEAD" else data)


def _git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@contextmanager
def fake_hub_http() -> Iterator[FakeHub]:
    """Route huggingface_hub's HTTP through a fresh :class:`FakeHub` for the duration of the block."""
    hub = FakeHub()
    previous = _http._GLOBAL_CLIENT_FACTORY
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub.handle), follow_redirects=True))
    try:
        yield hub
    finally:
        _http.set_client_factory(previous)
