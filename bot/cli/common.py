"""What every terminal command receives: settings, the database (migrated on first use) and the cluster it names."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from bot import parse
from bot.config import Settings
from bot.parse import ParseError
from storage.clusters import Cluster, adopt_quiet_hours, all_clusters, find_by_code
from storage.db import make_engine, migrate, session_scope
from storage.members import Member, find_member


class CliError(Exception):
    """Ends a command with a message on stderr and exit status 2."""


class Cli:
    def __init__(self, settings: Settings):
        self.settings = settings

    @cached_property
    def db(self) -> Engine:
        engine = make_engine(self.settings.database_url)
        migrate(engine)
        with session_scope(engine) as session:  # clusters made before quiet hours existed take the setting
            adopt_quiet_hours(session, self.settings.quiet_hours)
        return engine

    def cluster(self, session, code: str | None) -> Cluster:
        """The cluster named by --cluster, or the only one when there is just one."""
        if code:
            cluster = find_by_code(session, code)
            if cluster is None:
                raise CliError(f"no cluster with code {code}")
            return cluster
        clusters = all_clusters(session)
        if len(clusters) == 1:
            return clusters[0]
        if not clusters:
            raise CliError("no cluster yet: create one with `clusterbot cluster create NAME --code CODE`")
        raise CliError("several clusters exist: name one with --cluster CODE")

    @staticmethod
    def member(session, cluster: Cluster, words: list[str]) -> Member:
        """The member all the words name (`0712 000 006` unquoted is one phone), as messages read it."""
        written = " ".join(words)
        try:
            member = find_member(session, cluster, parse.member_ref(written, cluster.region).key)
        except ParseError:
            member = None
        if member is None:
            raise CliError(f"no member {written} in {cluster.name}")
        return member
