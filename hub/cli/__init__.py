"""The command line: ``hub run | check | translate | messages | db``."""
