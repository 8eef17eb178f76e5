"""fleet status and the failures fleet apply keeps on a target: a pending migration that failed
shows as failed, at its file and line; a target with nothing pending is not asked for failures
(one round trip fewer per target), and shows up to date."""

import json

from wizard.core import catalog
from wizard.core.env import Environment
from wizard.core.fleet.targets import Target
from wizard.core.flows import fleet_status


def _targets(tmp_path, folder):
    path = tmp_path / "migration-wizard.toml"
    path.write_text(f'migrations = "{folder.path}"\n\n[targets.one]\nurl_env = "FLEET_ONE_URL"\n', encoding="utf-8")
    return path


def test_a_failed_migration_shows_failed_and_an_up_to_date_target_is_not_asked_for_failures(
        cli, database, folder, tmp_path, monkeypatch):
    folder.write("001_ok.sql", "CREATE TABLE fleet_one (id int);\n")
    folder.write("002_broken.sql", "ALTER TABLE fleet_one ADD COLUMN n int;\nSELECT 1 / 0;\n")
    targets = _targets(tmp_path, folder)
    env = {"FLEET_ONE_URL": database}
    applied = cli("fleet", "apply", "--targets", targets, "--yes", "--json", env=env, cwd=tmp_path)
    assert applied.code != 0, applied.out
    status = cli("fleet", "status", "--targets", targets, "--json", env=env, cwd=tmp_path)
    assert status.code == 0, status.err
    one = json.loads(status.out)["targets"][0]
    assert one["migrations"] == {"001": "applied", "002": "failed"}
    assert [(f["version"], f["line"]) for f in one["failures"]] == [("002", 2)]

    calls = []
    real_read = fleet_status.failures.read
    monkeypatch.setattr(fleet_status.failures, "read", lambda conn: calls.append(1) or real_read(conn))
    environment = Environment({"FLEET_ONE_URL": database})
    target = Target("one", url_env="FLEET_ONE_URL")
    pending = fleet_status.read_target(target, catalog.load(folder.path), environment, fleet_status.Reach())
    assert pending.states == {"001": "applied", "002": "failed"} and len(calls) == 1

    folder.write("002_broken.sql", "ALTER TABLE fleet_one ADD COLUMN n int;\n")
    fixed = cli("fleet", "apply", "--targets", targets, "--yes", "--json", env=env, cwd=tmp_path)
    assert fixed.code == 0, fixed.out + fixed.err
    done = fleet_status.read_target(target, catalog.load(folder.path), environment, fleet_status.Reach())
    assert done.states == {"001": "applied", "002": "applied"} and done.summary == "up to date"
    assert len(calls) == 1  # nothing pending: the failures were not read
