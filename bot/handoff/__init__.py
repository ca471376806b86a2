"""The human handoff: tickets, the agents' queue, SLAs and the way back to the bot.

- :mod:`bot.handoff.triggers` - when a conversation goes to a person (pure decisions);
- :mod:`bot.handoff.sla` - service hours, working hours, SLA deadlines;
- :mod:`bot.handoff.flow` - the pipeline's handoff step (open, relay, cancel, rating);
- :mod:`bot.handoff.desk` - what agents do (claim, reply, transfer, close);
- :mod:`bot.handoff.agents` - agent accounts, passwords and sessions;
- :mod:`bot.handoff.models` - the tables.
"""
