"""Late delivery reports: early arrivals, multi-part messages, duplicates."""

import pytest

from transport.core.events import StanzaErrorInfo, XmppMessage
from transport.core.reports import DeliveryReports

C = "sms.localhost"
USER = "alice@localhost"




@pytest.fixture
def sent():
    return []


@pytest.fixture
def reports(store, sent):
    async def deliver(message: XmppMessage) -> bool:
        sent.append(message)
        return True

    return DeliveryReports(C, store, deliver, lambda local: f"{local}@{C}")


async def map_ids(store, ids, contact="+12125550142", receipt=True, xmpp_id="m1"):
    await store.id_maps.add(C, ids, USER, f"{USER}/phone", contact, xmpp_id, receipt)


async def test_receipt_goes_to_full_jid_from_contact_once(store, reports, sent):
    await map_ids(store, ["SM1"])
    await reports.confirm("SM1")
    await reports.confirm("SM1")
    assert sent == [XmppMessage(to=f"{USER}/phone", sender=f"+12125550142@{C}", receipt_for="m1")]


async def test_no_receipt_when_none_was_requested(store, reports, sent):
    await map_ids(store, ["SM1"], receipt=False)
    await reports.confirm("SM1")
    assert sent == []


async def test_report_before_mapping_is_applied_when_mapping_lands(store, reports, sent):
    await reports.confirm("SM9")
    assert sent == []
    await map_ids(store, ["SM9"])
    await reports.mapped(["SM9"])
    assert [m.receipt_for for m in sent] == ["m1"]


async def test_parts_of_one_message_give_one_receipt_and_one_error(store, reports, sent):
    await map_ids(store, ["SMa", "SMb", "SMc"])
    await reports.confirm("SMa")
    await reports.confirm("SMb")
    error = StanzaErrorInfo("recipient-unavailable", "Unreachable handset", "wait", "30003")
    await reports.fail("SMc", error)
    assert [m.receipt_for for m in sent if m.receipt_for] == ["m1"]
    errors = [m for m in sent if m.type == "error"]
    assert len(errors) == 1 and errors[0].id == "m1" and errors[0].error == error


async def test_group_send_gets_one_receipt_per_contact(store, reports, sent):
    await map_ids(store, ["SM1"], contact="+12125550142")
    await map_ids(store, ["SM2"], contact="+16465550199")
    await reports.confirm("SM1")
    await reports.confirm("SM2")
    assert {m.sender for m in sent} == {f"+12125550142@{C}", f"+16465550199@{C}"}
