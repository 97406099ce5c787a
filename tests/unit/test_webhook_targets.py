"""Webhook URLs are checked for their destination when registered (webhooks/targets.py)."""

import socket

import pytest

from taskmarket.domain import DomainError
from taskmarket.webhooks.targets import check_target, numeric_address


def no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "not known")


def answers(*addresses: str):
    return lambda host, port: list(addresses)


# Every form the attacker registered, and a few more spellings of the same places.
PRIVATE_URLS = [
    "http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/",
    "http://10.0.0.1/", "http://localhost:8080/", "http://0x7f000001/",
    "http://2130706433/", "http://[::ffff:127.0.0.1]/", "http://[fe80::]/",
    "http://0.0.0.0/", "https://127.1/", "http://0177.0.0.1/", "http://0x7f.1/",
    "http://127.0.0.1./", "http://LOCALHOST./", "http://api.localhost/",
    "http://[::ffff:a9fe:a9fe]/", "http://[fe80::1%25eth0]/", "http://192.168.1.1/",
    "http://[fd00::1]/", "http://100.64.0.1/",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_targets_are_refused_on_the_url_field(url):
    with pytest.raises(DomainError) as refused:
        check_target(url, allow_private=False, resolver=no_dns)
    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", ["url"])
    assert "public address" in refused.value.message


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_the_development_flag_lets_them_through(url):
    assert check_target(url, allow_private=True, resolver=no_dns) == url


def test_numeric_hosts_are_read_as_the_resolver_reads_them():
    assert str(numeric_address("0x7f000001")) == "127.0.0.1"
    assert str(numeric_address("2130706433")) == "127.0.0.1"
    assert str(numeric_address("0177.0.0.1")) == "127.0.0.1"
    assert str(numeric_address("127.1")) == "127.0.0.1"
    assert str(numeric_address("::ffff:127.0.0.1")) == "::ffff:7f00:1"
    assert numeric_address("partner.example") is None
    assert numeric_address("deadbeef") is None  # hex letters without a digit: a name
    assert numeric_address("1.2.3.4.5") is None


def test_a_name_resolving_to_a_private_address_is_refused():
    with pytest.raises(DomainError) as refused:
        check_target("https://hooks.partner.example/x", allow_private=False,
                     resolver=answers("93.184.216.34", "10.1.2.3"))
    assert refused.value.field == ["url"]
    assert "resolves to 10.1.2.3" in refused.value.message


def test_public_names_and_addresses_pass_and_unresolvable_names_wait_for_delivery():
    url = "https://hooks.partner.example/x"
    assert check_target(url, allow_private=False, resolver=answers("93.184.216.34")) == url
    assert check_target("https://8.8.8.8/hook", allow_private=False, resolver=no_dns)
    assert check_target(url, allow_private=False, resolver=no_dns) == url


def test_the_machines_own_name_resolves_like_any_other():
    name = socket.gethostname()
    addresses = [info[4][0] for info in socket.getaddrinfo(name, 80)]
    if not any(a.startswith(("127.", "10.", "192.168.", "172.")) for a in addresses):
        pytest.skip("this machine's name does not resolve to a private address")
    with pytest.raises(DomainError) as refused:
        check_target(f"http://{name}:8080/hook", allow_private=False)
    assert refused.value.field == ["url"]


def test_the_shape_is_checked_first():
    with pytest.raises(DomainError) as refused:
        check_target("ftp://127.0.0.1/", allow_private=False)
    assert "http or https" in refused.value.message
