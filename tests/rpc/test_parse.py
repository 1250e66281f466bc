"""``--rpc`` and ``[rpc] workers``: parsed and checked in one place (localchat/rpcpool.py), each
mistake one line that says what is wrong."""

from __future__ import annotations

import pytest

from localchat.config import parse_config
from localchat.errors import LocalChatError
from localchat.rpcpool import is_loopback, parse_workers
from tests.test_cli import assert_one_line_error, localchat


@pytest.mark.parametrize(("text", "workers"), [
    ("127.0.0.1:50052", ("127.0.0.1:50052",)),
    (" 192.168.1.20:50052 , Box.local:6000 ", ("192.168.1.20:50052", "box.local:6000")),
    ("10.0.0.2:00080", ("10.0.0.2:80",)),
])
def test_workers_parse(text, workers):
    assert parse_workers(text) == workers


@pytest.mark.parametrize(("text", "words"), [
    ("", "needs at least one worker"),
    ("192.168.1.20", "is not host:port"),
    ("192.168.1.20:", "is not host:port"),
    (":50052", "is not host:port"),
    ("192.168.1.20:http", "is not a port from 1 to 65535"),
    ("192.168.1.20:70000", "is not a port from 1 to 65535"),
    ("192.168.1.20:0", "is not a port from 1 to 65535"),
    ("[::1]:50052", "does not take IPv6"),
    ("a b:50052", "is not an IPv4 address or a host name"),
    ("h:1,H:1", "named twice"),
    (",".join(f"10.0.0.{i}:50052" for i in range(17)), "at most 16"),
])
def test_wrong_workers_are_one_clear_line(text, words):
    with pytest.raises(LocalChatError) as caught:
        parse_workers(text)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_config_names_a_wrong_rpc_table_and_uses_no_workers():
    config, problems = parse_config({"rpc": {"workers": ["10.0.0.2:50052", "10.0.0.3:50052"]}})
    assert config.rpc_workers == ("10.0.0.2:50052", "10.0.0.3:50052") and not problems
    for raw, words in (({"workers": "10.0.0.2:50052"}, "must be a list"),
                       ({"workers": ["10.0.0.2"]}, "is not host:port"),
                       ({"workers": [5]}, "is not a \"host:port\" text"),
                       ("on", "[rpc] must be a table")):
        config, problems = parse_config({"rpc": raw})
        assert config.rpc_workers == ()
        assert len(problems) == 1 and words in problems[0] and "using no workers" in problems[0]


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("127.1.2.3") and is_loopback("LOCALHOST")
    assert not is_loopback("192.168.1.20") and not is_loopback("box.local")


@pytest.mark.parametrize("command", [[], ["ask", "hi"], ["bench"], ["probe"], ["recommend"]])
def test_a_wrong_rpc_flag_is_one_line_before_anything_loads(command):
    result = localchat(*command, "--rpc", "box:notaport")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--rpc" in result.stderr and "is not a port" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rpc_is_for_a_model_on_this_machine():
    assert_one_line_error(localchat("--endpoint", "http://127.0.0.1:9/v1", "--rpc", "h:1"),
                          "--rpc pools memory for a model on this machine")
    assert_one_line_error(localchat("ask", "--endpoint", "http://127.0.0.1:9/v1", "--rpc", "h:1", "hi"),
                          "--rpc")
