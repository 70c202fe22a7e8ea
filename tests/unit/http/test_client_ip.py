"""The client's address: the socket peer unless our own proxies vouch for another."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.inbound.http.client_ip import (
    TrustedProxies,
    limit_key,
    parse_address,
    parse_networks,
    resolve_client_ip,
)

PROXIES = TrustedProxies.parse("10.0.0.0/8, 192.168.1.1, 2001:db8:ffff::/48")
NONE = TrustedProxies()


def resolved(peer: str | None, *xff: str, proxies: TrustedProxies = PROXIES) -> str | None:
    address = resolve_client_ip(peer, list(xff), proxies)
    return None if address is None else str(address)


def test_without_trusted_proxies_the_header_is_never_believed() -> None:
    assert resolved("203.0.113.7", "198.51.100.1", proxies=NONE) == "203.0.113.7"
    assert resolved("10.0.0.2", "198.51.100.1", proxies=NONE) == "10.0.0.2"


def test_an_untrusted_peers_header_is_ignored_however_it_looks() -> None:
    assert resolved("203.0.113.7", "10.0.0.1") == "203.0.113.7"
    assert resolved("203.0.113.7", "198.51.100.1, 10.0.0.1") == "203.0.113.7"


def test_a_trusted_proxy_without_a_header_is_itself_the_client() -> None:
    assert resolved("10.1.2.3") == "10.1.2.3"


@pytest.mark.parametrize(
    ("peer", "xff", "client"),
    [
        # One proxy appended the real client.
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        # The client wrote its own entries first: only the proxy's right-most one counts.
        ("10.0.0.2", ["1.1.1.1, 2.2.2.2, 198.51.100.1"], "198.51.100.1"),
        # Two of our proxies in a row are skipped.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1, 192.168.1.1, 10.9.9.9"], "198.51.100.1"),
        # A spoofed "trusted" address left of the client is not reached.
        ("10.0.0.2", ["10.0.0.99, 198.51.100.1"], "198.51.100.1"),
        # Several header lines are one list, in order.
        ("10.0.0.2", ["5.5.5.5", "198.51.100.1"], "198.51.100.1"),
        # Ports and brackets are dropped; IPv6 is matched as IPv6.
        ("10.0.0.2", ["198.51.100.1:5555"], "198.51.100.1"),
        ("10.0.0.2", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("2001:db8:ffff::1", ["2001:db8::7"], "2001:db8::7"),
        # IPv4-mapped IPv6 is the IPv4 address, for the peer and for entries.
        ("::ffff:10.0.0.2", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("::ffff:203.0.113.7", ["198.51.100.1"], "203.0.113.7"),
        # Unreadable entry written by a trusted proxy: the nearest vouched address.
        ("10.0.0.2", ["198.51.100.1, garbage"], "10.0.0.2"),
        ("10.0.0.2", ["garbage, 10.0.0.3"], "10.0.0.3"),
        # Every hop is ours: the furthest is the client.
        ("10.0.0.2", ["10.0.0.5, 192.168.1.1"], "10.0.0.5"),
        # An empty header adds nothing readable.
        ("10.0.0.2", [""], "10.0.0.2"),
    ],
)
def test_behind_trusted_proxies_the_header_is_read_right_to_left(
    peer: str, xff: list[str], client: str
) -> None:
    assert resolved(peer, *xff) == client


def test_the_left_most_entry_is_never_taken_blindly() -> None:
    assert resolved("10.0.0.2", "203.0.113.66, 198.51.100.1") != "203.0.113.66"


def test_a_peer_without_an_address_has_no_client_ip() -> None:
    assert resolved(None, "198.51.100.1") is None
    assert resolved("/run/paygate.sock", "198.51.100.1") is None


def test_mapped_ipv6_networks_match_as_ipv4() -> None:
    proxies = TrustedProxies.parse("::ffff:10.0.0.0/104")

    assert proxies.networks == (ipaddress.IPv4Network("10.0.0.0/8"),)
    assert resolved("10.1.1.1", "198.51.100.1", proxies=proxies) == "198.51.100.1"


def test_a_bad_proxy_list_names_the_variable_and_the_entry() -> None:
    with pytest.raises(ValueError, match=r"PAYGATE_TRUSTED_PROXIES: '10\.0\.0\.0/33'"):
        TrustedProxies.parse("10.0.0.0/8, 10.0.0.0/33")


def test_bare_addresses_and_loose_separators_are_accepted() -> None:
    assert parse_networks(" 127.0.0.1 ,::1  192.168.0.0/16") == (
        ipaddress.IPv4Network("127.0.0.1/32"),
        ipaddress.IPv6Network("::1/128"),
        ipaddress.IPv4Network("192.168.0.0/16"),
    )


def test_zone_ids_are_dropped() -> None:
    assert str(parse_address("fe80::1%eth0")) == "fe80::1"


ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
junk = st.text(alphabet=st.characters(codec="latin-1"), max_size=40)
entry = st.one_of(ipv4, ipv6, junk, st.just("10.0.0.1"), st.just("::ffff:10.0.0.1"))
untrusted_peer = st.ip_addresses().filter(lambda a: not PROXIES.trusts(parse_address(str(a)) or a))


@given(
    peer=untrusted_peer, headers=st.lists(st.lists(entry, max_size=6).map(", ".join), max_size=3)
)
def test_spoofed_forwarded_for_from_an_untrusted_peer_never_changes_the_client(
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address, headers: list[str]
) -> None:
    assert resolve_client_ip(str(peer), headers, PROXIES) == parse_address(str(peer))


@given(
    client=st.ip_addresses(v=4).filter(lambda a: not PROXIES.trusts(a)),
    spoofed=st.lists(st.one_of(ipv4, ipv6, junk), max_size=6),
)
def test_what_a_client_writes_left_of_its_address_never_changes_it(
    client: ipaddress.IPv4Address, spoofed: list[str]
) -> None:
    # Our proxy appends the address it saw; the client controls only what was before.
    header = ", ".join([*spoofed, str(client)])

    assert resolve_client_ip("10.0.0.2", [header], PROXIES) == client


def test_ipv6_clients_of_one_64_are_limited_as_one() -> None:
    assert limit_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:2:ffff:ffff:ffff:fffe") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"


def test_ipv4_clients_are_limited_by_their_own_address() -> None:
    assert limit_key("198.51.100.7") == "198.51.100.7"
    assert limit_key("198.51.100.8") == "198.51.100.8"


def test_a_client_without_an_address_keeps_its_one_bucket() -> None:
    assert limit_key("unknown") == "unknown"
