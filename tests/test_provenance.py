"""Provenance of captured records: the report, and the same as W3C PROV-JSON."""

from __future__ import annotations

import json

import pytest
from prov.model import ProvDocument

from archiver import catalogue as cat
from archiver.capture import capture
from archiver.cli import provenance_text
from archiver.collection import open_collection
from archiver.config import resolve
from archiver.errors import InputError
from archiver.query import as_prov, provenance
from archiver.warc import read_record


@pytest.fixture(scope="module")
def captured(site, tmp_path_factory):
    home = tmp_path_factory.mktemp("provenance")
    collection = open_collection(resolve({"home": home, "allow_private": True, "operator": "Karim"}), mode="write")
    capture([site.post_url], collection=collection, command="archiver capture POST")
    yield collection
    collection.close()


def test_the_post_citation_of_the_daily_star_is_tied_to_the_exact_cited_record(captured, site, manifest):
    report = provenance(captured, site.post_url)
    daily_star = manifest["references"][0]["url"]
    [citation] = [item for item in report["citations"] if item["url"] == daily_star]
    [row] = captured.catalogue.rows(cat.records, cat.records.c.target_uri == daily_star,
                                    cat.records.c.record_type == "response")
    assert citation["capture"]["record_id"] == row["warc_record_id"]
    assert citation["capture"]["http_status"] == 200 and citation["text"]
    # and the record named is at the place named, with the digest named
    facts = read_record(captured.settings.snapshots / citation["capture"]["file"], citation["capture"]["offset"])
    assert facts.record_id == row["warc_record_id"] and facts.payload_sha256 == citation["capture"]["payload_sha256"]
    assert {item["url"] for item in report["citations"]} >= {ref["url"] for ref in manifest["references"]}


def test_report_holds_event_fetch_request_and_response(captured, site):
    report = provenance(captured, site.post_url)
    assert report["capture_event"]["operator"] == "Karim"
    assert report["capture_event"]["command"] == "archiver capture POST"
    assert report["capture_event"]["outcome"] == "complete"
    assert report["fetch"]["role"] == "post" and report["fetch"]["found_on"] is None
    assert report["request"]["request_line"].startswith("GET /2015/05/2015-qalamoun-offensive.html HTTP/1.1")
    assert ["Host", site.post_url.split("/")[2]] in report["request"]["headers"]
    assert report["record"]["peer_ip"] == "127.0.0.1" and report["record"]["http_status"] == 200
    assert [name for name, _ in report["record"]["headers"]][:1] == ["Server"]


def test_redirect_chain_and_the_page_a_cited_page_was_found_on(captured, manifest, site):
    [redirected] = [item for item in manifest["expected"] if item.get("redirected_from")]
    report = provenance(captured, redirected["url"])
    chain = report["redirect_chain"]
    assert [hop["url"] for hop in chain] == [redirected["redirected_from"], redirected["url"]]
    assert [hop["http_status"] for hop in chain][-1] == 200 and 300 <= chain[0]["http_status"] < 400
    assert chain[-1]["record_id"] == report["record"]["record_id"]
    assert report["fetch"]["found_on"]["url"] == site.post_url


def test_a_requisite_names_the_link_kind_and_tag_that_led_to_it(captured, site):
    f = cat.fetches
    [post] = captured.catalogue.rows(f, f.c.url == site.post_url)
    image = captured.catalogue.rows(f, f.c.parent_fetch_id == post["id"], f.c.link_tag == "img",
                                    f.c.outcome == "captured")[0]["url"]
    report = provenance(captured, image)
    assert (report["fetch"]["role"], report["fetch"]["link_kind"], report["fetch"]["link_tag"]) == (
        "embed", "embed", "img")
    assert f"Fetched   as embed, linked from {site.post_url} (embed link, tag img)" in provenance_text(
        report).splitlines()
    [fetch] = [value for key, value in as_prov(report)["activity"].items() if key.startswith("archiver:fetch/")]
    assert fetch["archiver:linkTag"] == "img"


def test_by_record_id_with_or_without_angle_brackets(captured, site):
    record_id = provenance(captured, site.post_url)["record"]["record_id"]
    assert provenance(captured, record_id.strip("<>"))["record"]["record_id"] == record_id


@pytest.mark.parametrize("target, text", [
    ("<urn:uuid:00000000-0000-0000-0000-000000000000>",
     "<urn:uuid:00000000-0000-0000-0000-000000000000>: no such record in the catalogue"),
    ("http://127.0.0.1:9/never", "http://127.0.0.1:9/never: not in the catalogue "
                                 "(archiver capture http://127.0.0.1:9/never archives it)"),
])
def test_unknown_targets(captured, target, text):
    with pytest.raises(InputError) as error:
        provenance(captured, target)
    assert str(error.value) == text


def test_prov_json_is_valid_w3c_prov(captured, site, manifest):
    report = provenance(captured, site.post_url)
    document = ProvDocument.deserialize(content=json.dumps(as_prov(report)), format="json")
    records = {str(record.identifier) for record in document.get_records()}
    uuid = report["record"]["record_id"].strip("<>").rpartition(":")[2]
    assert f"warc:{uuid}" in records
    assert f"archiver:capture/{report['capture_event']['capture_id']}" in records
    cited = [item["capture"]["record_id"] for item in report["citations"] if item["capture"]]
    assert {f"warc:{record_id.strip('<>').rpartition(':')[2]}" for record_id in cited} <= records
    assert document.get_provn().count("wasInformedBy") == 1 + len(cited)
