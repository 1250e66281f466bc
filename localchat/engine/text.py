"""Text in and out of the model: the chat template for a GGUF without one, and token bytes
turned into whole characters."""

from __future__ import annotations

import codecs

# For a GGUF that carries no chat template of its own (base models such as gemma-3-270m):
# the family's turn format where known, else ChatML.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Gemma has no system role: like its Hugging Face template, the system text opens the first turn
GEMMA_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set sys = messages[0]['content'] + '\n\n' %}{% set msgs = messages[1:] %}"
    "{% else %}{% set sys = '' %}{% set msgs = messages %}{% endif %}"
    "{% for m in msgs %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{% if loop.first %}{{ sys }}{% endif %}{{ m['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def fallback_template(architecture: str) -> str:
    return GEMMA_TEMPLATE if architecture.startswith("gemma") else CHATML_TEMPLATE



class Utf8Stream:
    """Turns token byte pieces into text, holding back an incomplete UTF-8 sequence until the
    token that completes it arrives (byte-fallback tokens split emoji and CJK characters)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: bytes) -> str:
        return self._decoder.decode(piece)

    def flush(self) -> str:
        """The end of the reply. The decoder holds back only the start of a character whose
        last bytes never came (the reply stopped between its tokens): drop it rather than
        show U+FFFD."""
        self._decoder.reset()
        return ""
