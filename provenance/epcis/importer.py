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

from ledger.envelope import sign_envelope
from ledger.epcis.errors import EpcisError
from ledger.epcis.hashid import context_namespaces, hash_id
from ledger.epcis.reader import DocumentHead, iter_events, read_head
from ledger.errors import CustodyError
from ledger.statements import build_statement, statement_digest
from provenance.epcis.directory import LedgerDirectory
from provenance.epcis.events import Directory, EventMapper, Existing, Mapped, Skipped
from provenance.epcis.mapping import MappingFile, MasterData
from provenance.epcis.objects import retraction_id, statement_id_for

if TYPE_CHECKING:
    from ledger.envelope import Envelope
    from ledger.keys import PrivateKey
    from ledger.log import Ledger

__all__ = ["CHUNK", "Append", "EpcisImport", "ImportDirectory"]

CHUNK: Final = 1000

#: Appends batches of envelopes in order, yielding each batch's results
#: (``{"digest", "seq"}`` or ``{"digest", "error"}``) as ``custody submit`` does.
Append = Callable[[Iterator[list["Envelope"]]], Iterator[list[dict[str, Any]]]]


class ImportDirectory(Directory, Protocol):
    """What an import asks the ledger, local or remote."""

    def existing(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]: ...


@dataclass
class _Chunk:
    results: list[dict[str, Any]]
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
    ) -> None:
        """Import into ``ledger``; or, without one, ask ``directory`` and append
        through ``append`` (a remote ledger: ``custody epcis import --server``)."""
        self.path = path
        self.key = key
        self.party = party
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

    def _map(self, chunk: list[tuple[int, dict[str, Any]]]) -> tuple[_Chunk, list[Envelope]]:
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
        self.mapper.recent.append({})
        payloads: list[bytes] = []
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
                payload = self._build(outcome, result)
                if payload is not None:
                    self.mapper.recent[-1][outcome.statement_id] = statement_digest(payload)
                    payloads.append(payload)
                    out.slots.append(len(results) - 1)
        return out, [sign_envelope(payload, [self.key]) for payload in payloads]

    def _build(self, statement: Mapped, result: dict[str, Any]) -> bytes | None:
        """The statement's payload, or ``None`` with the error in ``result``."""
        try:
            return build_statement(
                statement.type,
                statement.statement_id,
                statement.issuer,
                statement.time,
                **statement.body,
            )
        except CustodyError as error:
            event = result["event"]
            result["error"] = EpcisError(
                f"event {event}: {error.message}",
                code="unsupported",
                event=event,
                field=error.details.get("field"),
                details={"statement_error": error.code},
            ).to_dict()
            if statement.dispatch is not None:
                self.mapper.claimed.discard(statement.dispatch)
            return None

    def run(self) -> Iterator[list[dict[str, Any]]]:
        """Per-event results, a chunk at a time, in document order."""
        pending: deque[_Chunk] = deque()

        def batches() -> Iterator[list[Envelope]]:
            for chunk in self._chunks():
                mapped, envelopes = self._map(chunk)
                pending.append(mapped)
                yield envelopes

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
