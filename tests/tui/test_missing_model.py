"""A configured model whose file is gone (`localchat rm`, deleted by hand): `rm` asks first,
`localchat` opens the setup saying why, `ask` says in one line what to do."""

from __future__ import annotations

import io

import pytest

from localchat.cli import main
from localchat.config import Config, ModelChoice, load_config, save_config
from tests.download.test_store import put_in_hf_cache
from tests.tui.conftest import SIZE, wait_until

SHA = "d" * 64


def test_rm_of_the_configured_model_asks_for_yes_then_says_what_comes_next(fake_home, capsys):
    path = put_in_hf_cache("org/Alpha-GGUF", "Alpha-Q4_K_M.gguf", SHA)
    save_config(Config(model=ModelChoice(path=str(path))))
    assert main(["rm", "Alpha"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is the model localchat opens" in err and "--yes" in err
    assert path.exists()
    assert main(["rm", "Alpha", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "the next `localchat` opens the setup" in out and not path.exists()
    assert load_config().model.path == str(path)  # the config is the user's: the setup replaces it


def test_ask_with_the_configured_model_gone_is_one_line_naming_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped
    gone = tmp_path / "gone-Q4_K_M.gguf"
    save_config(Config(model=ModelChoice(path=str(gone))))
    assert main(["ask", "hello"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(gone) in err and "no longer on disk" in err and "run `localchat`" in err


@pytest.mark.anyio
async def test_localchat_opens_the_setup_with_the_reason_when_the_configured_model_is_gone(tmp_path):
    from localchat.errors import HubUnreachableError
    from localchat.options.sources import Sources
    from localchat.recommend import hypothetical_profile
    from localchat.tui import build_app

    def offline() -> None:
        raise HubUnreachableError("offline (test)")

    gone = tmp_path / "gone-Q4_K_M.gguf"
    save_config(Config(model=ModelChoice(path=str(gone))))
    app = build_app(None, None)
    app.sources = Sources(probe=lambda: hypothetical_profile(8), local_models=list, check_online=offline)
    try:
        async with app.run_test(size=SIZE) as pilot:
            reason = await wait_until(pilot, lambda: app.screen.query("#setup-reason")
                                      and str(app.screen.query_one("#setup-reason").render()))
            assert "no longer on disk" in " ".join(reason.split()) and gone.name in reason
            await wait_until(pilot, lambda: app.screen.query("#setup-todo")
                             and str(app.screen.query_one("#setup-todo").render()))
    finally:
        app.store.close()
