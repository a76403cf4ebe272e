"""One vocabulary: roles, outcomes, error kinds, change classes, link kinds and record types are enums defined once,
every value the catalogue holds is a member, and every option that filters by one takes them all."""

from __future__ import annotations

import enum

import click
import pytest

from archiver import Settings, open_collection
from archiver import catalogue as cat
from archiver.capture import capture
from archiver.cli import cli
from archiver.errors import ErrorKind, FetchError
from archiver.parse import LinkKind
from archiver.warc import RecordType, WarcWriter

from .conftest import invoke_archiver
from .test_collection import dead_pid, die, start_event
from .test_warc import WARCINFO, resource

# (command, option) -> the enum whose values it takes
FILTERS = {
    ("search", "--role"): cat.Role,
    ("export", "--role"): cat.Role,
    ("export", "--type"): RecordType,
}

# (table, column) -> the enum it holds
COLUMNS = {
    ("fetches", "role"): cat.Role,
    ("records", "role"): cat.Role,
    ("fetches", "outcome"): cat.FetchOutcome,
    ("fetches", "error_kind"): ErrorKind,
    ("capture_events", "outcome"): cat.EventOutcome,
    ("records", "record_type"): RecordType,
    ("changes", "change"): cat.ChangeClass,
    ("links", "kind"): LinkKind,
}


def _option(command: str, flag: str) -> click.Option:
    [option] = [param for param in cli.commands[command].params
                if isinstance(param, click.Option) and flag in param.opts]
    return option


@pytest.mark.parametrize(("command", "flag"), list(FILTERS))
def test_each_filter_option_takes_exactly_its_enums_values(command, flag):
    option = _option(command, flag)
    values = [member.value for member in FILTERS[command, flag]]
    assert isinstance(option.type, click.Choice) and list(option.type.choices) == values
    context = click.Context(cli.commands[command])
    for value in values:
        assert option.type.convert(value, option, context) == value


def test_the_enums_are_strings_equal_to_their_values():
    for vocabulary in {*FILTERS.values(), *COLUMNS.values()}:
        assert issubclass(vocabulary, enum.StrEnum)
        for member in vocabulary:
            assert member == member.value and str(member) == member.value and f"{member}" == member.value


def test_every_fetch_error_kind_is_an_error_kind():
    def subclasses(cls):
        return [cls] + [sub for child in cls.__subclasses__() for sub in subclasses(child)]

    kinds = [error.kind for error in subclasses(FetchError)]
    assert all(isinstance(kind, ErrorKind) for kind in kinds)
    assert sorted(kinds) == sorted(ErrorKind)  # one class a kind, none without its class


@pytest.fixture(scope="module")
def home(site, tmp_path_factory):
    """The sample post captured twice (revisits, change classes, robots.txt, a 404), a host that refuses
    connections, and a WARC file left open by a killed capture (recovered records)."""
    home = tmp_path_factory.mktemp("vocabulary") / "collection"
    settings = Settings(home=home, allow_private=True, operator="tester")
    for seeds in ([site.post_url], [site.post_url], ["http://127.0.0.1:1/gone"]):
        collection = open_collection(settings, mode="write")
        try:
            capture(seeds, collection=collection, command="archiver capture test")
        finally:
            collection.close()
    collection = open_collection(settings, mode="write")
    capture_id = start_event(collection, pid=dead_pid())
    writer = WarcWriter(settings.snapshots, warcinfo_fields=WARCINFO + [("capture-id", capture_id)])
    writer.write(resource(b"a record its capture never catalogued"))
    die(writer)
    collection.close()
    open_collection(settings, mode="write").close()  # repairs the file and catalogues its records
    return home


def test_every_value_the_catalogue_holds_is_a_member(home):
    collection = open_collection(Settings(home=home), mode="read")
    try:
        with collection.catalogue.reader() as reader:
            held = {(table, column): {value for (value,) in reader.execute(
                        sa_select_distinct(getattr(cat, table).c[column])) if value is not None}
                    for table, column in COLUMNS}
    finally:
        collection.close()
    for (table, column), values in held.items():
        vocabulary = COLUMNS[table, column]
        assert values, f"{table}.{column}: the capture wrote none"
        assert values <= {member.value for member in vocabulary}, f"{table}.{column}: {values}"
    # the capture reached the values that were refused before they came from the enums
    assert {"robots", "recovered"} <= held["records", "role"]


def test_every_role_and_type_the_catalogue_holds_is_accepted_by_the_cli(home):
    collection = open_collection(Settings(home=home), mode="read")
    try:
        with collection.catalogue.reader() as reader:
            roles = {value for (value,) in reader.execute(sa_select_distinct(cat.records.c.role)) if value}
            types = {value for (value,) in reader.execute(sa_select_distinct(cat.records.c.record_type))}
    finally:
        collection.close()
    for role in sorted(roles):
        for command in (["export", "--role", role], ["search", "Hezbollah", "--role", role]):
            result = invoke_archiver(*command, "--home", str(home))
            assert result.returncode == 0, (command, result.stderr)
    for record_type in sorted(types):
        result = invoke_archiver("export", "--type", record_type, "--home", str(home))
        assert result.returncode == 0, (record_type, result.stderr)
        assert f'"record_type":"{record_type}"' in result.stdout.replace(" ", "")


def sa_select_distinct(column):
    import sqlalchemy as sa

    return sa.select(column).distinct()
