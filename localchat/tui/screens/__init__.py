"""The screens of the chat app: chat, setup, model menu, compare, dialogs."""
