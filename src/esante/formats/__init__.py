"""Date and number formats of the portal's languages where Django's own do not suit
Luxembourg (settings.FORMAT_MODULE_PATH): `en` writes the day first, as British English and
Luxembourg do (18/09/2026, never the ambiguous 09/18/2026). French and German keep Django's
(07/12/2026, 07.12.2026)."""
