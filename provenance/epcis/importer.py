"""``custody epcis import``: map, sign and append a document's events, streamed.

Steps, per chunk of :data:`CHUNK` events in document order:

1. each event gets its reference (``eventID``, else the CBV 2.0 hash ID) and
   is mapped (:class:`~provenance.epcis.events.EventMapper`) to a statement,
   a skip (another party's event) or an error naming the event and field;
2. statements whose (issuer, id) the ledger already holds are reported with
   their seq and digest and not built again (a second import appends nothing);
3. the others are built, signed with the party's key and appended through
   :meth:`ledger.log.Ledger.submit_stream` (the same pipelined append as
   ``custody submit``); rejections come back per event.

Results are yielded per event, in document order, as each chunk is appended.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from ledger.epcis.errors import EpcisError
from ledger.epcis.hashid import context_namespaces, hash_id
from ledger.epcis.reader import DocumentHead, iter_events, read_head
from ledger.errors import CustodyError
from provenance.epcis.directory import LedgerDirectory
from provenance.epcis.events import Directory, EventMapper, Existing, Mapped, Skipped
from provenance.epcis.mapping import MappingFile, MasterData
from provenance.epcis.objects import retraction_id, statement_id_for
from provenance.epcis.signing import Failed, Pending, Signer

if TYPE_CHECKING:
    from ledger.envelope import Envelope
    from ledger.keys import PrivateKey
    from ledger.log import Ledger

__all__ = ["CHUNK", "Append", "EpcisImport", "ImportDirectory"]

CHUNK: Final = 1000
IN_FLIGHT: Final = 2  # chunks being built and signed while earlier ones are appended

#: Appends batches of envelopes in order, yielding each batch's results
#: (``{"digest", "seq"}`` or ``{"digest", "error"}``) as ``custody submit`` does.
Append = Callable[[Iterator[list["Envelope"]]], Iterator[list[dict[str, Any]]]]


class ImportDirectory(Directory, Protocol):
    """What an import asks the ledger, local or remote."""

    def existing(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]: ...


@dataclass
class _Chunk:
    results: list[dict[str, Any]]
    mapped: list[tuple[int, Mapped]] = field(default_factory=list)  # (result index, statement)
    parts: deque[Pending] = field(default_factory=deque)  # their building and signing
    submitted: int = 0  # mapped statements handed to the signer
    done: int = 0  # mapped statements whose outcome is taken
    recent: dict[str, str] = field(default_factory=dict)  # statement id → digest
    envelopes: list[Envelope] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)  # result index of each envelope


class EpcisImport:
    """One import of ``path`` into ``ledger`` as ``party`` signing with ``key``."""

    def __init__(
        self,
        ledger: Ledger | None,
        path: Path,
        key: PrivateKey,
        party: str,
        mapping: Path | None = None,
        *,
        directory: ImportDirectory | None = None,
        append: Append | None = None,
        signer: Signer | None = None,
    ) -> None:
        """Import into ``ledger``; or, without one, ask ``directory`` and append
        through ``append`` (a remote ledger: ``custody epcis import --server``)."""
        self.path = path
        self.key = key
        self.party = party
        self.signer = signer or Signer(key)
        self._current: _Chunk | None = None  # the chunk being mapped
        self.head: DocumentHead = read_head(path)
        self.namespaces = context_namespaces(self.head.context)
        if ledger is not None:
            local = ledger
            self.directory: ImportDirectory = directory or LedgerDirectory(local)
            self.append: Append = append or (
                lambda batches: (
                    [r.to_json() for r in results] for results in local.submit_stream(batches)
                )
            )
        elif directory is not None and append is not None:
            self.directory = directory
            self.append = append
        else:  # pragma: no cover - a programming error
            raise TypeError("EpcisImport needs a ledger, or a directory and an append")
        self.mapper = EventMapper(
            party,
            self.directory,
            MasterData.from_header(self.head.header),
            MappingFile.load(mapping),
        )

    def _chunks(self) -> Iterator[list[tuple[int, dict[str, Any]]]]:
        chunk: list[tuple[int, dict[str, Any]]] = []
        for item in iter_events(self.path, self.head):
            chunk.append(item)
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _map(self, chunk: list[tuple[int, dict[str, Any]]]) -> _Chunk:
        results: list[dict[str, Any]] = []
        refs: list[str] = []
        for _, event in chunk:
            ref = event.get("eventID")
            if not (isinstance(ref, str) and ref.strip()):
                ref = hash_id(event, self.namespaces)
            refs.append(ref)
        sids = [statement_id_for(r) for r in refs]
        keys = [(self.party, sid) for sid in (*sids, *(retraction_id(sid) for sid in sids))]
        found = self.directory.existing(keys)
        known = {sid: hit for (_, sid), hit in found.items()}
        out = _Chunk(results)
        self.mapper.recent.append(out.recent)
        self._current = out
        for (index, event), ref in zip(chunk, refs, strict=True):
            result: dict[str, Any] = {"event": index, "id": ref}
            results.append(result)
            try:
                outcome = self.mapper.map(event, index, ref, known)
            except CustodyError as error:
                result["error"] = error.to_dict()
                continue
            if isinstance(outcome, Skipped):
                result["skipped"] = outcome.reason
            elif isinstance(outcome, Existing):
                result.update(seq=outcome.seq, digest=outcome.digest, duplicate=True)
            else:
                out.mapped.append((len(results) - 1, outcome))
        self._submit(out)
        return out

    def _submit(self, chunk: _Chunk) -> None:
        """Start building and signing what the chunk mapped since the last call."""
        items = [
            (m.type, m.statement_id, m.issuer, m.time, m.body)
            for _, m in chunk.mapped[chunk.submitted :]
        ]
        if items:
            chunk.parts.append(self.signer.submit(items))
            chunk.submitted = len(chunk.mapped)

    def _settle(self, chunk: _Chunk) -> None:
        """Take the chunk's built statements so far: envelopes, digests, refusals."""
        self._submit(chunk)
        while chunk.parts:
            built_list = chunk.parts.popleft().result()
            done = chunk.done
            chunk.done += len(built_list)
            for (slot, statement), built in zip(
                chunk.mapped[done : chunk.done], built_list, strict=True
            ):
                if isinstance(built, Failed):
                    result = chunk.results[slot]
                    event = result["event"]
                    result["error"] = EpcisError(
                        f"event {event}: {built.message}",
                        code="unsupported",
                        event=event,
                        field=built.field,
                        details={"statement_error": built.code},
                    ).to_dict()
                    if statement.dispatch is not None:
                        self.mapper.claimed.discard(statement.dispatch)
                    continue
                chunk.recent[statement.statement_id] = built.digest
                chunk.envelopes.append(self.signer.envelope(built))
                chunk.slots.append(slot)

    def run(self) -> Iterator[list[dict[str, Any]]]:
        """Per-event results, a chunk at a time, in document order."""
        pending: deque[_Chunk] = deque()
        building: deque[_Chunk] = deque()

        def settle_all() -> None:  # an error declaration may name an event being built
            for chunk in (*building, self._current):
                if chunk is not None:
                    self._settle(chunk)

        self.mapper.settle = settle_all

        def batches() -> Iterator[list[Envelope]]:
            for events in self._chunks():
                building.append(self._map(events))
                if len(building) > IN_FLIGHT:
                    chunk = building.popleft()
                    self._settle(chunk)
                    pending.append(chunk)
                    yield chunk.envelopes
            while building:
                chunk = building.popleft()
                self._settle(chunk)
                pending.append(chunk)
                yield chunk.envelopes

        try:
            for appended in self.append(batches()):
                chunk = pending.popleft()
                for slot, data in zip(chunk.slots, appended, strict=True):
                    entry = chunk.results[slot]
                    if "error" in data:
                        entry["error"] = data["error"]
                        entry["digest"] = data["digest"]
                    else:
                        entry.update(data)
                yield chunk.results
        finally:
            self.mapper.settle = None
