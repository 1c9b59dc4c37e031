"""A backend with rooms and a registration form: the worked example of docs/backends.md."""

from examples.roomchat.backend import RoomChatBackend as RoomChatBackend
