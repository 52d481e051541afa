"""The health professionals' register: who may, later, reach a DSP as a professional.

Fed by the CNS's list of providers (`esante import-professionals`), one row per national
code (national_code.py). Imports only the floors below it (audit, csv_import and the
modules that import no app); the records and the accounts will build on it.
"""
