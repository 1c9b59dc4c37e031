"""xmpp-transport: an XEP-0114 gateway from XMPP to SMS/MMS and IRC."""

__version__ = "0.1.0"
SOFTWARE_NAME = "xmpp-transport"
