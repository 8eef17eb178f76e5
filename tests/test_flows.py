"""The engine's choice of the target, which the command line and the wizard both read: every way
to the database as a value with its kind, the one a command takes, and why there is none."""

from __future__ import annotations

import pytest

from wizard.core.env import EnvFileError
from wizard.core.flows.target import Kind, NoWay, Request, choose

REF = "abcdefghijklmnopqrst"
PROJECT = f"SUPABASE_URL=https://{REF}.supabase.co\n"
TOKEN = "SUPABASE_ACCESS_TOKEN=sbp_0123456789abcdef\n"
URL = "DATABASE_URL=postgresql://me:secret@db.example.com:5432/app\n"


def _choice(tmp_path, env_text: str = "", **request):
    (tmp_path / ".env.local").write_text(env_text)
    return choose(Request(cwd=tmp_path, environ={}, **request))


def test_nothing_configured_is_the_local_database(tmp_path):
    choice = _choice(tmp_path)
    assert choice.ways == () and choice.nothing_configured and choice.refused is None
    assert choice.target.kind is Kind.LOCAL


def test_a_project_without_credentials_has_no_way_in(tmp_path):
    choice = _choice(tmp_path, PROJECT)
    assert choice.refused is NoWay.NO_CREDENTIALS and choice.target is None
    assert choice.no_way_in.startswith("SUPABASE_URL names a Supabase project")


def test_an_access_token_is_the_way_when_there_is_no_url(tmp_path):
    choice = _choice(tmp_path, PROJECT + TOKEN)
    assert [w.kind for w in choice.ways] == [Kind.HTTPS]
    assert (choice.target.kind, choice.target.ref) == (Kind.HTTPS, REF)
    assert "sbp_" not in repr(choice.target)  # the token never shows


def test_a_url_comes_before_the_token_unless_https_is_asked(tmp_path):
    choice = _choice(tmp_path, PROJECT + TOKEN + URL)
    assert [w.kind for w in choice.ways] == [Kind.URL, Kind.HTTPS]
    assert choice.target.kind is Kind.URL and choice.target.source == "DATABASE_URL (.env.local)"
    assert "secret" not in choice.target.masked
    assert _choice(tmp_path, PROJECT + TOKEN + URL, https=True).target.kind is Kind.HTTPS
    assert _choice(tmp_path, URL, https=True).refused is NoWay.NO_TOKEN


def test_the_explicit_url_wins_and_is_marked(tmp_path):
    choice = _choice(tmp_path, PROJECT + TOKEN + URL, database_url="postgresql://x@localhost/db", https=True)
    assert choice.target.explicit and choice.target.kind is Kind.URL
    assert [w.explicit for w in choice.ways] == [True, False, False]
    assert _choice(tmp_path, database_url="postgresql://x@localhost/db", local=True).refused is NoWay.CONFLICT
    assert _choice(tmp_path, PROJECT, local=True).target.kind is Kind.LOCAL


def test_an_unreadable_env_file_matters_only_when_the_target_depends_on_it(tmp_path):
    missing = tmp_path / "nope.env"
    with pytest.raises(EnvFileError):
        _choice(tmp_path, env_file=missing)
    choice = _choice(tmp_path, env_file=missing, database_url="postgresql://x@localhost/db")
    assert choice.unread is not None and choice.target.explicit
