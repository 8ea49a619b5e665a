"""Where each partition of the command stream stands, kept in SQL beside the cases.

An engine that takes a partition's lease records the lease's epoch here and reads on from the
stored position. Each batch moves the position in the batch's own transaction, on condition
that the epoch is still the engine's: so a command's effects and the reader's progress commit
together, a successor starts exactly after the last committed command, and an engine that lost
its lease (paused past it) has its commit refused instead of applying behind its successor.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from backend.bus.stream import START, id_key
from backend.store.models import stream_partitions as sp


class LeaseLost(Exception):
    """Another engine holds the partition now (a higher epoch is in SQL)."""

    def __init__(self, partition: int) -> None:
        self.partition = partition
        super().__init__(f"partition {partition} is read by another engine now")


def take_over(conn: Connection, partition: int, epoch: int) -> tuple[int, str]:
    """Record ``epoch`` as the partition's reader; returns (epoch, position).

    If SQL holds a higher epoch than Redis handed out (Redis lost its counters), the caller
    gets that epoch + 1 back to raise Redis past it and try again; it does not read yet."""
    row = conn.execute(
        select(sp.c.epoch, sp.c.position).where(sp.c.partition == partition).with_for_update()
    ).first()
    if row is None:  # a second inserter fails on the key and its caller gives the lease back
        conn.execute(insert(sp).values(partition=partition, epoch=epoch, position=START))
        return epoch, START
    if row.epoch >= epoch:
        return row.epoch + 1, row.position
    conn.execute(update(sp).where(sp.c.partition == partition).values(epoch=epoch))
    return epoch, row.position


def advance(conn: Connection, positions: dict[int, str], epochs: dict[int, int]) -> None:
    """Move each partition's position forward, in the caller's transaction, if the epoch is
    still ours; raises LeaseLost (the caller rolls back) when it is not."""
    for p, position in positions.items():
        done = conn.execute(
            update(sp).where(sp.c.partition == p, sp.c.epoch == epochs[p]).values(position=position)
        )
        if done.rowcount != 1:
            raise LeaseLost(p)


def positions(conn: Connection) -> dict[int, str]:
    """Every partition's committed position (for the operators' view and the tests)."""
    return {r.partition: r.position for r in conn.execute(select(sp.c.partition, sp.c.position))}


def later(a: str, b: str) -> str:
    return a if id_key(a) >= id_key(b) else b
