"""Signatures a receiver can verify, and the address rules that keep webhooks off private networks."""

import pytest

from taskmarket.webhooks.signing import new_secret, sign, verify
from taskmarket.webhooks.ssrf import AddressRefused, check_addresses, refusal

BODY = b'{"id":"e1","type":"TaskPosted","position":"7"}'


def test_a_signature_verifies_with_the_secret_and_nothing_else():
    secret = new_secret()
    header = sign(secret, BODY, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify(secret, header, BODY, now=1_700_000_010)
    assert not verify(secret, header, BODY.replace(b"7", b"8"), now=1_700_000_010)
    assert not verify(new_secret(), header, BODY, now=1_700_000_010)
    assert not verify(secret, header.replace("t=1700000000", "t=1700000001"), BODY,
                      now=1_700_000_010)


def test_an_old_or_malformed_signature_is_refused():
    secret = new_secret()
    header = sign(secret, BODY, 1_700_000_000)
    assert not verify(secret, header, BODY, now=1_700_000_000 + 301)
    for garbage in ("", "v1=abc", "t=x,v1=abc", "t=1700000000"):
        assert not verify(secret, garbage, BODY, now=1_700_000_000)


def test_a_header_with_several_v1_values_verifies_when_one_matches():
    secret = new_secret()
    good = sign(secret, BODY, 1_700_000_000)
    header = good.replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert verify(secret, header, BODY, now=1_700_000_000)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1", "0.0.0.0", "::",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "100.64.0.1", "fd00::1",
])
def test_non_public_addresses_are_refused(address):
    assert refusal(address) is not None
    with pytest.raises(AddressRefused):
        check_addresses("partner.example", [address], allow_private=False)
    check_addresses("partner.example", [address], allow_private=True)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert refusal(address) is None


def test_one_private_answer_among_public_ones_refuses_the_host():
    with pytest.raises(AddressRefused, match="10.0.0.5"):
        check_addresses("partner.example", ["8.8.8.8", "10.0.0.5"], allow_private=False)
