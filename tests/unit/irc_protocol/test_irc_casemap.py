"""casemap.py: CASEMAPPING folding and ISUPPORT parsing."""

from __future__ import annotations

from transport.backends.irc.protocol.casemap import ISupport, casefold


def test_casefold_variants():
    assert casefold("[Foo]\\~", "ascii") == "[foo]\\~"
    assert casefold("[Foo]\\~", "rfc1459") == "{foo}|^"
    assert casefold("[Foo]\\~", "strict-rfc1459") == "{foo}|~"
    assert casefold("ÉCOLE", "ascii") == "École"  # non-ASCII untouched
    assert casefold("[A]", "unknown-mapping") == "{a}"
    assert casefold("[A]") == "{a}"


def isupport(*tokens: str) -> ISupport:
    isup = ISupport()
    isup.update(["me", *tokens, "are supported by this server"])
    return isup


def test_defaults_without_005():
    isup = ISupport()
    assert isup.chantypes == "#&"
    assert isup.prefix == ("ov", "@+")
    assert isup.mode_to_prefix == {"o": "@", "v": "+"}
    assert isup.prefix_to_mode == {"@": "o", "+": "v"}
    assert isup.casemapping == "rfc1459"
    assert isup.nicklen is None and isup.network is None
    assert isup.linelen == 512
    assert isup.is_channel("#a") and isup.is_channel("&a") and not isup.is_channel("a")
    assert not isup.is_channel("")


def test_ngircd_005():
    isup = ISupport()
    line = (
        "foo RFC2812 IRCD=ngIRCd CHARSET=UTF-8 CASEMAPPING=ascii PREFIX=(qaohv)~&@%+ "
        "CHANTYPES=#&+ CHANMODES=beI,k,l,imMnOPQRstVz CHANLIMIT=#&+:10"
    )
    isup.update([*line.split(" "), "are supported on this server"])
    isup.update(["foo", "NICKLEN=30", "TOPICLEN=490", "are supported on this server"])
    assert isup.casemapping == "ascii"
    assert isup.equal("[Foo]", "[foo]") and not isup.equal("[foo]", "{foo}")
    assert isup.prefix == ("qaohv", "~&@%+")
    assert isup.mode_to_prefix["h"] == "%"
    assert isup.split_prefixes("~@+nick") == ("qov", "nick")
    assert isup.split_prefixes("nick") == ("", "nick")
    assert isup.chantypes == "#&+" and isup.is_channel("+chan")
    assert isup.chanmodes == ("beI", "k", "l", "imMnOPQRstVz")
    assert isup.nicklen == 30
    assert isup.get("RFC2812") == ""
    assert isup.get("missing") is None


def test_inspircd_005_and_linelen_network_escapes():
    isup = isupport("CASEMAPPING=rfc1459", "LINELEN=1024", "NETWORK=My\\x20Net", "CHANTYPES=#")
    assert isup.linelen == 1024
    assert isup.network == "My Net"
    assert isup.equal("[Foo]", "{foo}")
    assert not isup.is_channel("&x")


def test_negation_and_malformed_values():
    isup = isupport("NICKLEN=abc", "PREFIX=(ov)@", "LINELEN=100", "CHANMODES=b")
    assert isup.nicklen is None
    assert isup.prefix == ("ov", "@+")  # malformed -> default
    assert isup.linelen == 512  # below the RFC minimum -> ignored
    assert isup.chanmodes == ("b", "", "", "")
    isup.update(["me", "-NICKLEN", "PREFIX=", "CHANTYPES=", "x"])
    assert isup.prefix == ("", "")
    assert isup.chantypes == "" and not isup.is_channel("#a")
    isup.update(["me"])  # numeric with no tokens at all
    isup.update([])


def test_mode_takes_param():
    isup = isupport("PREFIX=(ov)@+", "CHANMODES=beI,k,l,imnpst")
    assert isup.mode_takes_param("o", False)
    assert isup.mode_takes_param("b", False)
    assert isup.mode_takes_param("k", False)
    assert isup.mode_takes_param("l", True) and not isup.mode_takes_param("l", False)
    assert not isup.mode_takes_param("n", True)
