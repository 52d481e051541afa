"""The demo of `make run` (ESANTE_DEMO=1): its insured persons, their DSP documents, the
helpdesk staff, "LuxTrust (démo)", `esante load-demo`, the demo's `esante serve` and the
dev outbox pages (/dev/outbox/).

An app on the top floor, installed only in demo mode (settings.py): nothing else imports
it, so production has neither its commands nor its pages."""
