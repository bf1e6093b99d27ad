"""What a run reads, resolved once: the hand-off from the command to the flow.

The flow's `sources` are either the strings a deployment gives (resolved by the flow) or a Plan the
command made (resolved by the command): one code path after `Plan.of`. A Plan's documents and
options are its parameters (serialised to Prefect's API, shown in the UI, enough to run it again);
where its documents are too many for that (Prefect's server refuses a flow run whose parameters
pass 512 KiB: a manifest of 100,000 rows is 10 MB), the sources they were resolved from stand in
for them, and are resolved again when the plan is read back. What the command already did in this
process rides along with it, never serialised: the documents
it read (and began extracting) while Prefect's server started, the warehouse's reports as the run
found them, and the progress bar's tick. Pickled (a batch on a Dask cluster) or serialised, a Plan
carries its parameters only, and the batch does the rest itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_serializer, model_validator

from nianbao.acquire.sources import Source, resolve
from nianbao.model.errors import UsageError

if TYPE_CHECKING:  # the pipeline's imports (polars, pyarrow) are not needed to resolve the sources
    from nianbao.run.pipeline import Got


@dataclass(frozen=True)
class Limits:
    listed_bytes: int = 256 * 1024  # a plan's documents, as JSON, listed in its parameters up to this; else its sources


LIMITS = Limits()


class Plan(BaseModel):
    """The documents of a run, and how to read them."""

    model_config = ConfigDict(frozen=True)

    documents: list[Source]
    allow_private: bool | None = (
        None  # fetch URLs on private, loopback and link-local addresses (None: NIANBAO_ALLOW_PRIVATE)
    )
    # what the documents were resolved from (Plan.of's sources and allow_outside), when they were
    _sources: tuple[list[str], bool | None] | None = PrivateAttr(None)
    # in this process only (see the module's docstring)
    _ahead: dict[str, Got] = PrivateAttr(default_factory=dict)  # by uri: read, perhaps being extracted
    _published: dict[str, dict] | None = PrivateAttr(None)  # report_id -> reports row; None: not read yet
    _progress: Callable[[], None] | None = PrivateAttr(None)  # called once per document done

    @classmethod
    def of(
        cls, sources: list[str] | Plan, allow_outside: bool | None = None, allow_private: bool | None = None
    ) -> Plan:
        """The plan of `sources`: resolved now when they are strings (UsageError when one cannot be);
        `allow_outside` as nianbao.acquire.sources.resolve takes it."""
        if isinstance(sources, Plan):
            return sources
        plan = cls(documents=resolve(list(sources), allow_outside), allow_private=allow_private)
        plan._sources = list(sources), allow_outside
        return plan

    @model_serializer(mode="wrap")
    def _parameters(self, handler):
        """Its documents, or where they are too many to list (LIMITS.listed_bytes) the sources they were
        resolved from: either runs it again."""
        if self._sources is None or self._fits():
            return handler(self)
        sources, allow_outside = self._sources
        return {"sources": sources, "allow_outside": allow_outside, "allow_private": self.allow_private}

    def _fits(self) -> bool:
        size = 0
        for d in self.documents:  # as Prefect measures it (ASCII JSON); counted until it does not fit
            size += len(json.dumps([d.uri, d.overrides, d.refused], default=str)) + 40
            if size > LIMITS.listed_bytes:
                return False
        return True

    @model_validator(mode="wrap")
    @classmethod
    def _resolved(cls, data, handler):
        """A plan read back from its sources (see _parameters) resolves them again."""
        if not (isinstance(data, dict) and "documents" not in data and "sources" in data):
            return handler(data)
        sources, allow_outside = list(data["sources"]), data.get("allow_outside")
        try:
            documents = resolve(sources, allow_outside)
        except UsageError as e:  # a validation error of the parameter, that names the source
            raise ValueError(str(e)) from None
        plan = handler({"documents": documents, "allow_private": data.get("allow_private")})
        plan._sources = sources, allow_outside
        return plan

    def plus(self, documents: list[Source]) -> Plan:
        """With more documents (a listing's discoveries); one already named is not named again."""
        named = {d.uri for d in self.documents}
        return self._with(documents=[*self.documents, *(d for d in documents if d.uri not in named)])

    def batches(self, size: int) -> list[Plan]:
        """The plan cut into batches of `size` documents, each with what this process holds of them."""
        out = []
        for i in range(0, len(self.documents), size):
            part = self._with(documents=self.documents[i : i + size])
            part._ahead = {d.uri: self._ahead[d.uri] for d in part.documents if d.uri in self._ahead}
            out.append(part)
        return out

    def holding(
        self,
        ahead: dict[str, Got] | None = None,
        published: dict[str, dict] | None = None,
        progress: Callable[[], None] | None = None,
    ) -> Plan:
        """With what this process already holds (what is not given stays as it was)."""
        plan = self._with()
        if ahead is not None:
            plan._ahead = ahead
        if published is not None:
            plan._published = published
        if progress is not None:
            plan._progress = progress
        return plan

    @property
    def ahead(self) -> dict[str, Got]:
        return self._ahead

    @property
    def published(self) -> dict[str, dict] | None:
        return self._published

    @property
    def progress(self) -> Callable[[], None] | None:
        return self._progress

    def _with(self, **fields) -> Plan:
        plan = self.model_copy(update=fields)
        plan._ahead, plan._published, plan._progress = dict(self._ahead), self._published, self._progress
        plan._sources = None if "documents" in fields else self._sources  # other documents: not those sources'
        return plan

    def __getstate__(self):
        """Pickled, a plan leaves what it holds of this process behind (see the module's docstring)."""
        state = super().__getstate__()
        private = {"_sources": self._sources, "_ahead": {}, "_published": None, "_progress": None}
        return {**state, "__pydantic_private__": private}
