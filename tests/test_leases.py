"""Leases per URL: a batch is claimed in one transaction, and stays exclusive between processes."""

from __future__ import annotations

import multiprocessing
import random
import subprocess
import sys

import pytest
import sqlalchemy as sa

from archiver import catalogue as cat
from archiver.capture._leases import Leases

URLS = [f"http://example.test/page-{number:04d}.html" for number in range(1200)]


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'archiver.db'}"


@pytest.fixture
def catalogue(db_url):
    opened = cat.Catalogue.open(db_url)
    yield opened
    opened.close()


def holders(catalogue) -> dict[str, str]:
    with catalogue.reader() as reader:
        return dict(reader.execute(sa.select(cat.leases.c.url, cat.leases.c.holder)).all())


def test_a_batch_claim_takes_only_what_nobody_else_holds(catalogue, db_url):
    first, second = Leases(db_url=db_url, holder="first"), Leases(db_url=db_url, holder="second")
    assert first.claim(catalogue, URLS[:3]) == set(URLS[:3])
    assert second.claim(catalogue, URLS[1:4]) == {URLS[3]}
    assert first.claim(catalogue, [URLS[0], URLS[0]]) == {URLS[0]}  # its own lease, renewed; repeats once
    assert holders(catalogue) == {URLS[0]: "first", URLS[1]: "first", URLS[2]: "first", URLS[3]: "second"}
    first.release(catalogue)
    assert second.claim(catalogue, URLS[:3]) == set(URLS[:3])
    assert set(holders(catalogue).values()) == {"second"}


def test_an_expired_lease_and_one_of_a_dead_process_are_taken_over(catalogue, db_url):
    Leases(db_url=db_url, holder="expired", seconds=-1).claim(catalogue, [URLS[0]])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    Leases(db_url=db_url, holder="dead").claim(catalogue, [URLS[1]])
    with catalogue.transaction() as connection:
        connection.execute(cat.leases.update().where(cat.leases.c.url == URLS[1]).values(pid=int(dead.stdout)))
    Leases(db_url=db_url, holder="alive").claim(catalogue, [URLS[2]])
    taken = Leases(db_url=db_url, holder="new").claim(catalogue, URLS[:3])
    assert taken == {URLS[0], URLS[1]}
    assert holders(catalogue) == {URLS[0]: "new", URLS[1]: "new", URLS[2]: "alive"}


def claim_in_batches(db_url: str, holder: str, seed: int, start, claimed) -> None:
    """In a child process: wait until both are ready, then claim every URL in shuffled batches of 64."""
    catalogue = cat.Catalogue.open(db_url)
    leases = Leases(db_url=db_url, holder=holder)
    order = URLS[:]
    random.Random(seed).shuffle(order)
    start.wait()
    taken = []
    for begin in range(0, len(order), 64):
        taken += sorted(leases.claim(catalogue, order[begin:begin + 64]))
    catalogue.close()
    claimed.put((holder, taken))


@pytest.mark.slow
def test_two_processes_claiming_batches_at_once_never_both_hold_a_url(catalogue, db_url):
    context = multiprocessing.get_context("spawn")
    start, claimed = context.Barrier(2), context.Queue()
    processes = [context.Process(target=claim_in_batches, args=(db_url, holder, seed, start, claimed))
                 for seed, holder in enumerate(("one", "two"))]
    for process in processes:
        process.start()
    results = dict(claimed.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    one, two = set(results["one"]), set(results["two"])
    assert one & two == set()
    assert one | two == set(URLS)
    assert len(results["one"]) == len(one) and len(results["two"]) == len(two)
    assert holders(catalogue) == {url: "one" for url in one} | {url: "two" for url in two}
