"""Several processes that start at once (serve and its workers) all get a working event store."""

from concurrent.futures import ThreadPoolExecutor

from taskmarket.bootstrap import build_marketplace
from taskmarket.database_setup import prepare_database


def test_marketplaces_starting_together_all_come_up(database):
    # Each Marketplace creates the event store's tables and functions on construction.
    with ThreadPoolExecutor(max_workers=6) as pool:
        apps = list(pool.map(lambda _: build_marketplace(database), range(6)))
    try:
        ids = [app.create_requester(f"Requester {n}") for n, app in enumerate(apps)]
        assert [apps[0].get_requester(i).name for i in ids] == [
            f"Requester {n}" for n in range(6)]
    finally:
        for app in apps:
            app.close()


def test_preparing_a_database_from_several_processes_at_once_succeeds(pg_server):
    fresh = pg_server.with_dbname("startup_race")
    fresh.ensure_exists()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: prepare_database(fresh), range(4)))
    app = build_marketplace(fresh)
    try:
        assert app.get_requester(app.create_requester("Acme")).name == "Acme"
    finally:
        app.close()
        with pg_server.with_dbname("postgres").connect(autocommit=True) as conn:
            conn.execute("DROP DATABASE startup_race WITH (FORCE)")
