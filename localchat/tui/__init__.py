"""The chat TUI (Textual). Importing this package never imports llama_cpp: the engine is
loaded in a worker thread once the first screen is up."""

from __future__ import annotations


def run_tui(model: str | None, ctx: int | None) -> int:
    """Open the chat on ``model`` (or the configured model); returns the exit status."""
    from pathlib import Path

    from localchat import paths
    from localchat.config import load_config
    from localchat.engine.types import LoadSettings
    from localchat.errors import ModelFileError
    from localchat.history import ConversationStore
    from localchat.tui.app import LocalChatApp

    config = load_config()
    path = model or config.model.path
    if path:
        path = str(Path(path).expanduser())
        if not Path(path).is_file():
            where = "check the path" if model else f"fix [model] path in {paths.config_file()}"
            raise ModelFileError(f"model file {path} does not exist",
                                 f"{where}, or run `localchat pull starter`")
    choice = config.model
    settings = LoadSettings(
        n_ctx=ctx or choice.ctx,
        n_gpu_layers=choice.n_gpu_layers,
        kv_type=choice.kv_type if choice.kv_type in ("f16", "q8_0", "q4_0") else "f16",  # type: ignore[arg-type]
        flash_attn=choice.flash_attn,
    )
    store = ConversationStore()
    app = LocalChatApp(path or None, config=config, store=store, load_settings=settings,
                       requested_ctx=ctx)
    try:
        app.run()
    finally:
        store.close()
    return app.return_code or 0
