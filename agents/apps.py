from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"

    def seed_demo(self) -> None:
        """Called by ``manage.py seed_demo``: the five public demo agents (see ``agents.demo_agents``)."""
        from .demo_agents import seed_demo_agents

        seed_demo_agents()
