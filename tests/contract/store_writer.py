"""A writer process for the cross-process contract tests (run as a script, not collected).

``python tests/contract/store_writer.py URL TENANT events COUNT INTERVAL``
    commits COUNT twins ``ev:t<i>``, one event each, INTERVAL seconds apart.
``python tests/contract/store_writer.py URL TENANT burst COUNT``
    commits COUNT modifications round-robin over 20 twins as fast as it can, printing
    ``ack <thing id> <revision> <seq> <outbox id>`` and flushing after each commit
    returns. Like the graph projector, it then acknowledges the pending outbox entries
    after every other commit, printing ``applied <outbox id>...`` just before.
"""

from __future__ import annotations

import sys
import time

from server.core.ids import TenantId, ThingId
from server.core.stores import (
    ChangeEvent,
    HistoryPoint,
    OutboxEntry,
    TwinPut,
    TwinRecord,
    WriteBatch,
    utc_now,
)
from server.core.stores.factory import open_store


def main(argv: list[str]) -> int:
    url, tenant_name, mode, count = argv[0], argv[1], argv[2], int(argv[3])
    tenant = TenantId(tenant_name)
    with open_store(url) as store:
        if mode == "events":
            interval = float(argv[4])
            for i in range(count):
                now = utc_now()
                record = TwinRecord(
                    tenant,
                    ThingId(f"ev:t{i}"),
                    1,
                    now,
                    now,
                    {"thingId": f"ev:t{i}", "attributes": {"i": i}},
                )
                store.commit(
                    tenant,
                    WriteBatch(
                        twin_puts=[TwinPut(record, 0)],
                        events=[
                            ChangeEvent(
                                tenant, "twin", "created", record.thing_id, "/", record.doc, 1, now
                            )
                        ],
                    ),
                )
                time.sleep(interval)
            return 0
        revisions = {f"burst:t{i}": 0 for i in range(20)}
        for i in range(count):
            thing = f"burst:t{i % 20}"
            revision = revisions[thing] + 1
            now = utc_now()
            doc = {"thingId": thing, "attributes": {"rev": revision, "pad": "x" * 200}}
            record = TwinRecord(tenant, ThingId(thing), revision, now, now, doc)
            events = store.commit(
                tenant,
                WriteBatch(
                    twin_puts=[TwinPut(record, revisions[thing])],
                    events=[
                        ChangeEvent(
                            tenant,
                            "twin",
                            "modified",
                            thing,
                            "/attributes/rev",
                            revision,
                            revision,
                            now,
                        )
                    ],
                    history=[
                        HistoryPoint(
                            tenant, record.thing_id, "/attributes/rev", now, revision, revision
                        )
                    ],
                    outbox=[OutboxEntry(0, tenant, "twin", thing, None, doc)],
                ),
            )
            revisions[thing] = revision
            pending = [entry.id for entry in store.pending_outbox(1000)]
            sys.stdout.write(f"ack {thing} {revision} {events[0].seq} {pending[-1]}\n")
            sys.stdout.flush()
            if i % 2:
                # Announced first: the kill may land between the ack and the next line.
                sys.stdout.write("applied " + " ".join(map(str, pending)) + "\n")
                sys.stdout.flush()
                store.ack_outbox(pending)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
