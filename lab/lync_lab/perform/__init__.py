"""`lync-lab perform <step>`: what an operator does by hand (a GUI wizard, an installer), done to the lab's state.

The phase roles' guided steps call this on the lab (lync_migration_lab_state_dir), so that rehearsals, tests
and later phases see the step's effect exactly as they would on a real deployment. Each step changes the store
through the same model functions the cmdlets and stage seeding use, and prints one JSON line:
{"step": ..., "changed": bool, "detail": ...}. Running a step twice changes nothing the second time.

The package, imported one way (command -> step modules -> registry -> model):
  registry.py   the step registry (``@step``), PerformError, the scenario a lab state was seeded from
  servers.py    steps that install or remove products on a server (Deployment Wizard, OCSWMIBC.msi, OCS removal)
  users.py      steps that change users (their meetings, their AD account names)
  dns_zone.py   steps done in DNS Manager (P2.2, P10.2)
  recorded.py   steps nothing in the lab models: recorded only
  command.py    the command line (build_parser, main); importing it registers every step
This file imports nothing, so a step module importing the registry loads no other step.
"""
