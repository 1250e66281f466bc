"""``localchat ask --endpoint`` and ``localchat --endpoint`` against the real llama_cpp.server:
a reply streamed to stdout, and each failure one line on stderr with exit status 2."""

from __future__ import annotations

import io
import json

import pytest

from localchat import paths
from localchat.cli import main
from localchat.config import load_config
from tests.remote.llamaserver import ALIAS, KEY, KEY_ENV, LlamaCppServer
from tests.served import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped in


@pytest.fixture
def configured(llama_server: LlamaCppServer, monkeypatch: pytest.MonkeyPatch) -> LlamaCppServer:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[[endpoints]]\nname = "box"\nbase_url = "{llama_server.url}/v1"\n'
                    f'api_key_env = "{KEY_ENV}"\n', encoding="utf-8")
    monkeypatch.setenv(KEY_ENV, KEY)
    return llama_server


def test_ask_an_endpoint_streams_the_reply(configured, capsys) -> None:
    code = main(["ask", "--endpoint", "box", "--max-tokens", "8", "--temperature", "0", "--json",
                 "Write a long poem about the sea."])
    out, err = capsys.readouterr()
    assert code == 0, err
    text, record = out.rstrip("\n").rsplit("\n", 1)
    data = json.loads(record)
    assert data["text"].strip() and data["text"].strip() in text
    assert (data["model"], data["endpoint"], data["model_path"]) == (ALIAS, "box", "")
    assert data["finish_reason"] == "length" and data["completion_tokens"] >= 4
    assert KEY not in out + err


def test_ask_names_the_servers_model_and_the_remembered_one_is_used(configured, capsys) -> None:
    assert main(["ask", "--endpoint", "box", "--model", ALIAS, "--max-tokens", "4", "Hi"]) == 0
    capsys.readouterr()
    path = paths.config_file()  # the chat switched to it: ask without --endpoint follows
    path.write_text(path.read_text() + f'\n[model]\nendpoint = "box"\nendpoint_model = "{ALIAS}"\n')
    assert load_config().model.endpoint == "box"
    assert main(["ask", "--max-tokens", "4", "--json", "Hi"]) == 0
    assert json.loads(capsys.readouterr().out.rstrip("\n").rsplit("\n", 1)[1])["endpoint"] == "box"


@pytest.mark.parametrize(("argv", "said"), [
    (["ask", "--endpoint", "box", "--ctx", "512", "Hi"],
     "localchat: error: --ctx load a model on this machine; the server loads its own"),
    (["ask", "--endpoint", "work", "Hi"], 'localchat: error: no endpoint named "work" (box)'),
    (["ask", "--endpoint", "box", "--model", "gpt-9", "Hi"], "localchat: error: box has no model 'gpt-9'"),
    (["--endpoint", "box", "--ctx", "512"], "localchat: error: --ctx sizes a model on this machine"),
])
def test_mistakes_are_one_line(configured, capsys, argv, said) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(said) and err.count("\n") == 1


def test_a_url_without_a_key_and_an_unreachable_server(configured, capsys) -> None:
    # the URL of a configured endpoint is that endpoint, key and all
    assert main(["ask", "--endpoint", configured.url + "/v1", "--max-tokens", "2", "Hi"]) == 0
    capsys.readouterr()
    # another spelling of the address is an endpoint of its own: no key, refused
    other = configured.url.replace("127.0.0.1", "localhost")
    assert main(["ask", "--endpoint", other, "Hi"]) == 2
    err = capsys.readouterr().err
    assert "refused the request (HTTP 401" in err and "add api_key_env" in err and KEY not in err
    assert main(["ask", "--endpoint", f"http://127.0.0.1:{free_port()}", "Hi"]) == 2
    assert "connection refused" in capsys.readouterr().err


def test_the_chat_on_an_unreachable_endpoint_fails_before_it_opens(capsys) -> None:
    assert main(["--endpoint", f"http://127.0.0.1:{free_port()}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("localchat: error: cannot reach 127.0.0.1:") and err.count("\n") == 1
